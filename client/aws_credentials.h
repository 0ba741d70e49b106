/*-------------------------------------------------------------------------
 *
 * aws_credentials.h
 *	  AWS credentials and the provider chain that finds them, in the AWS
 *	  CLI's order (first that is configured wins; one that is configured
 *	  but fails stops the chain with its error, as in the SDKs):
 *
 *	 1. the environment (skipped when --profile is given)
 *	 2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the
 *		profile's role_arn + web_identity_token_file (through STS); or an
 *		AssumeRole profile: role_arn with source_profile (whose own
 *		credentials, or role, sign the call) or credential_source
 *		(Environment, Ec2InstanceMetadata, EcsContainer), with
 *		role_session_name, external_id, duration_seconds, and mfa_serial
 *		(the code is asked on a terminal, refused without one)
 *	 3. the shared credentials file
 *	 4. the profile's credential_process
 *	 5. the config file
 *
 * The session (aws_session.c) runs the chain once per process and again
 * only when temporary credentials are about to expire, so an assumed role
 * is assumed once however many workers sign with it.
 *	 6. container credentials (ECS, EKS Pod Identity)
 *	 7. EC2 instance metadata (IMDSv2)
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_CREDENTIALS_H
#define PGR_AWS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "aws_config.h"
#include "error.h"
#include "http.h"

typedef struct aws_credentials
{
	char	   *access_key_id;
	char	   *secret_access_key;	/* secret: wiped on free */
	char	   *session_token;	/* secret, may be NULL */
	time_t		expiration;		/* 0: does not expire */
	char		source[96];		/* "environment", "profile app", ... */
} aws_credentials;

extern int	aws_credentials_resolve(const aws_config *cfg, http_client *http,
									aws_credentials *out, pgr_error *err);
extern int	aws_credentials_set(aws_credentials *out, const char *akid, const char *secret,
								const char *token, time_t expiration, const char *source,
								pgr_error *err);
extern int	aws_credentials_copy(const aws_credentials *from, aws_credentials *to,
								 pgr_error *err);
extern bool aws_credentials_expiring(const aws_credentials *cred, time_t now,
									 int margin_seconds);
extern void aws_credentials_free(aws_credentials *cred);

/* Pure parts, exposed for tests and fuzzing. */
extern int	aws_credentials_from_json(const char *body, size_t len, const char *token_key,
									  bool version_1, const char *source,
									  aws_credentials *out, pgr_error *err);
extern int	aws_parse_iso8601(const char *s, time_t *out);

#endif							/* PGR_AWS_CREDENTIALS_H */
