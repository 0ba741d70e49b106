/*-------------------------------------------------------------------------
 *
 * aws_sts.h
 *	  AWS STS through the Query protocol: temporary credentials for a role.
 *
 * AssumeRoleWithWebIdentity is unsigned (the token is the proof); an
 * AssumeRole profile (issue 12) will call through the same code, signed
 * with its source credentials.
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

extern int	aws_sts_assume_role_with_web_identity(const aws_config *cfg, http_client *http,
												  const char *role_arn,
												  const char *session_name,
												  const char *token, aws_credentials *out,
												  pgr_error *err);

/* Pure: the Credentials of an AssumeRole* answer; exposed for tests and fuzzing. */
extern int	aws_sts_credentials(const xml_doc *answer, const char *result, const char *source,
								aws_credentials *out, pgr_error *err);

#endif							/* PGR_AWS_STS_H */
