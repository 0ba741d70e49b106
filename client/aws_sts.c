/*-------------------------------------------------------------------------
 *
 * aws_sts.c
 *	  STS calls for the credential chain (see aws_sts.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_protocol.h"
#include "aws_sts.h"

/*
 * The credentials in <result>/Credentials of an STS answer (result is
 * "AssumeRoleWithWebIdentityResult", ...), labelled source. Pure.
 */
int
aws_sts_credentials(const xml_doc *answer, const char *result, const char *source,
					aws_credentials *out, pgr_error *err)
{
	const xml_node *creds = xml_find(xml_child(xml_root(answer), result), "Credentials");
	const char *akid = xml_find_text(creds, "AccessKeyId");
	const char *secret = xml_find_text(creds, "SecretAccessKey");
	const char *token = xml_find_text(creds, "SessionToken");
	const char *exp = xml_find_text(creds, "Expiration");
	time_t		expiration = 0;

	if (!akid || !*akid || !secret || !*secret || !token || !*token ||
		(exp && aws_parse_iso8601(exp, &expiration) != 0))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "AWS STS returned malformed credentials");
		pgr_error_detail(err, "The answer has no complete %s/Credentials.", result);
		return -1;
	}
	return aws_credentials_set(out, akid, secret, token, expiration, source, err);
}

/*
 * AssumeRoleWithWebIdentity: the role's temporary credentials for a web
 * identity token (a JWT). session_name NULL: "pg_rotate-<time>". http
 * carries the call, to the STS endpoint cfg resolves.
 */
int
aws_sts_assume_role_with_web_identity(const aws_config *cfg, http_client *http,
									  const char *role_arn, const char *session_name,
									  const char *token, aws_credentials *out,
									  pgr_error *err)
{
	aws_endpoint endpoint;
	aws_target	target;
	aws_transport transport = aws_http_transport(http);
	char		default_session[64];
	char		what[512];
	aws_answer	answer = {NULL, NULL};
	int			rc = -1;

	if (!session_name)
	{
		snprintf(default_session, sizeof(default_session), "pg_rotate-%ld",
				 (long) time(NULL));
		session_name = default_session;
	}
	if (aws_config_endpoint(cfg, aws_service_get(AWS_STS), &endpoint, err) != 0)
		return -1;
	memset(&target, 0, sizeof(target));
	target.service = aws_service_get(AWS_STS);
	target.url = endpoint.url;
	target.allow_http = endpoint.explicit_url;
	target.region = cfg->region ? cfg->region : "us-east-1";
	snprintf(what, sizeof(what), "assume role \"%s\" with web identity", role_arn);
	{
		aws_param	params[] = {
			{"RoleArn", role_arn},
			{"RoleSessionName", session_name},
			{"WebIdentityToken", token},
		};
		aws_request req = {"AssumeRoleWithWebIdentity", NULL, 0, params,
		sizeof(params) / sizeof(params[0])};

		if (aws_call(&transport, &target, &req, what, &answer, err) != 0)
			goto done;
	}
	rc = aws_sts_credentials(answer.xml, "AssumeRoleWithWebIdentityResult", "web identity",
							 out, err);
	if (rc != 0)
		pgr_error_prefix(err, "could not %s: ", what);
done:
	aws_answer_free(&answer);
	free(endpoint.url);
	return rc;
}
