/*-------------------------------------------------------------------------
 *
 * aws_protocol.h
 *	  The two wire protocols of the AWS APIs pg_rotate calls, over http.c:
 *
 *	 JSON (awsJson1_1; Secrets Manager): POST a JSON body with
 *	   X-Amz-Target: <prefix>.<Operation>; the answer is a JSON object, an
 *	   error names its code in X-Amzn-Errortype or the body's "__type".
 *	 Query (STS, RDS): POST form fields Action=<Action>&Version=
 *	   <api version>&...; the answer is XML, an error is an XML document
 *	   <ErrorResponse><Error><Code>..</Code><Message>..</Message>..
 *
 * Both sign each attempt with SigV4 (when given credentials), retry as
 * http.c does, and turn a failure into one message shape: "could not
 * <what>: <Code>: <the service's message>", a detail naming the endpoint,
 * the operation, the HTTP status, the attempts and the request id, and a
 * hint for the code.
 *
 * A call goes out through a transport: http_perform() on a client, or, in
 * tests, a function that answers without the network.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_PROTOCOL_H
#define PGR_AWS_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_request.h"
#include "aws_services.h"
#include "error.h"
#include "http.h"
#include "sigv4.h"

/* Where and as whom a call is made. */
typedef struct aws_target
{
	const aws_service *service;
	const char *url;
	bool		allow_http;		/* the endpoint was configured explicitly */
	const char *region;			/* to sign for */
	const sigv4_credentials *credentials;	/* NULL: unsigned */
} aws_target;

/* Sends one request (with its retries) and collects the answer. */
typedef int (*aws_perform_fn) (void *arg, const aws_target *target,
							   const char *operation, const http_request *req,
							   const http_signing *sign, http_response *resp,
							   pgr_error *err);

typedef struct aws_transport
{
	aws_perform_fn perform;
	void	   *arg;
} aws_transport;

extern aws_transport aws_http_transport(http_client *http);

extern int	aws_call(const aws_transport *transport, const aws_target *target,
					 const aws_request *req, const char *what, aws_answer *out,
					 pgr_error *err);

/* Error answers, pure; exposed for the retry layer, tests and fuzzing. */
extern void aws_parse_error(const char *errortype_header, const char *body, size_t len,
							char *code, size_t codelen, char *message, size_t msglen);
extern void aws_error_code(const http_response *resp, char *code, size_t codelen);
extern bool aws_form_append(pgr_buf *body, const char *name, const char *value);

#endif							/* PGR_AWS_PROTOCOL_H */
