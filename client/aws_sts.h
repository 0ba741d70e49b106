/*-------------------------------------------------------------------------
 *
 * aws_sts.h
 *	  AWS STS through the Query protocol: temporary credentials for a role.
 *
 * AssumeRoleWithWebIdentity is unsigned (the token is the proof);
 * AssumeRole (a profile's role_arn with source_profile or
 * credential_source) goes through the same code, signed with the source
 * credentials.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_STS_H
#define PGR_AWS_STS_H

#include "aws_config.h"
#include "aws_credentials.h"
#include "error.h"
#include "http.h"
#include "xml.h"

/* What an AssumeRole profile asks for; NULL or 0: not set. */
typedef struct aws_assume_role
{
	const char *role_arn;
	const char *session_name;
	const char *external_id;
	int			duration_seconds;
	const char *mfa_serial;
	const char *mfa_code;		/* the code the device shows now */
} aws_assume_role;

extern int	aws_sts_assume_role(const aws_config *cfg, http_client *http,
								const aws_credentials *signer, const aws_assume_role *role,
								const char *source, aws_credentials *out, pgr_error *err);
extern int	aws_sts_assume_role_with_web_identity(const aws_config *cfg, http_client *http,
												  const char *role_arn,
												  const char *session_name,
												  const char *token, aws_credentials *out,
												  pgr_error *err);

/* Pure: the Credentials of an AssumeRole* answer; exposed for tests and fuzzing. */
extern int	aws_sts_credentials(const xml_doc *answer, const char *result, const char *source,
								aws_credentials *out, pgr_error *err);

#endif							/* PGR_AWS_STS_H */
