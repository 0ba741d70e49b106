/*-------------------------------------------------------------------------
 *
 * aws_options.h
 *	  What the command line says about AWS, as the session takes it: the
 *	  AWS CLI's shared options, with an endpoint per service.
 *
 * Plain data, no functions: the command-line parser fills it in, the
 * session (aws_session.h) and the configuration resolver (aws_config.h)
 * read it. NULL and 0 mean "not given".
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_OPTIONS_H
#define PGR_AWS_OPTIONS_H

#include <stdbool.h>

/* The AWS services pg_rotate calls; aws_services.c describes each. */
typedef enum aws_service_id
{
	AWS_SECRETS_MANAGER = 0,
	AWS_STS,
	AWS_RDS,
	AWS_NSERVICES
} aws_service_id;

typedef struct aws_options
{
	const char *region;
	const char *endpoint_url[AWS_NSERVICES];	/* --endpoint-url is Secrets
												 * Manager's, --rds-endpoint-url
												 * RDS's */
	const char *profile;
	const char *ca_bundle;
	long		connect_timeout_ms;
	long		timeout_ms;
	int			max_attempts;
	bool		verbose;
} aws_options;

#endif							/* PGR_AWS_OPTIONS_H */
