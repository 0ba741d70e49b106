/*-------------------------------------------------------------------------
 *
 * aws_services.h
 *	  The AWS services pg_rotate calls, one row each: how their endpoint is
 *	  configured and named, how requests to them are signed, which of the
 *	  two protocols they speak, and the hints for their errors.
 *
 * A new service is a row in aws_services.c and a value of
 * aws_service_id (aws_options.h); endpoint resolution, signing, retries
 * and error handling then work for it as for the others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_SERVICES_H
#define PGR_AWS_SERVICES_H

#include <stddef.h>

#include "aws_options.h"

typedef enum aws_protocol
{
	AWS_PROTOCOL_JSON,			/* awsJson1_1: POST a JSON body, X-Amz-Target */
	AWS_PROTOCOL_QUERY			/* POST form fields, an XML answer */
} aws_protocol;

/* A hint for one error code; a list ends with a NULL code. */
typedef struct aws_error_hint
{
	const char *code;
	const char *hint;
} aws_error_hint;

typedef struct aws_service
{
	aws_service_id id;
	const char *name;			/* "Secrets Manager", in messages */
	const char *cli_option;		/* the option naming its endpoint, or NULL */
	const char *env_id;			/* AWS_ENDPOINT_URL_<env_id> */
	const char *config_key;		/* its key in a [services x] section */
	const char *host_prefix;	/* https://<prefix>.<region>.amazonaws.com */
	const char *legacy_env;		/* an older variable naming the endpoint, or NULL */
	const char *global_endpoint;	/* used when no region is set, or NULL */
	const char *signing_name;	/* SigV4's service name */
	aws_protocol protocol;
	const char *json_target;	/* JSON: X-Amz-Target is <json_target>.<Operation> */
	const char *api_version;	/* Query: the Version field */
	size_t		max_response;
	const aws_error_hint *hints;
} aws_service;

extern const aws_service *aws_service_get(aws_service_id id);
extern const char *aws_service_hint(const aws_service *svc, const char *code);

#endif							/* PGR_AWS_SERVICES_H */
