/*-------------------------------------------------------------------------
 *
 * aws_request.h
 *	  One AWS API call's request and answer, in either of the two protocols
 *	  (aws_protocol.h): which one a call uses is its service's (see
 *	  aws_services.h), so that a caller names an operation and its input
 *	  and reads the answer, whatever the service.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_REQUEST_H
#define PGR_AWS_REQUEST_H

#include <stddef.h>

#include "json.h"
#include "xml.h"

/* One form field of a Query request. */
typedef struct aws_param
{
	const char *name;
	const char *value;			/* may be a secret: request bodies are wiped */
} aws_param;

typedef struct aws_request
{
	const char *operation;		/* JSON: the operation; Query: the Action */
	const char *body;			/* JSON: the request object (may hold a secret) */
	size_t		bodylen;
	const aws_param *params;	/* Query: the form fields */
	size_t		nparams;
} aws_request;

/* The answer: a JSON object or an XML document, by the service's protocol. */
typedef struct aws_answer
{
	json_doc   *json;
	xml_doc    *xml;
} aws_answer;

extern void aws_answer_free(aws_answer *answer);

#endif							/* PGR_AWS_REQUEST_H */
