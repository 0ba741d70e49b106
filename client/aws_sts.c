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
 * One STS action answering with <action>Result/Credentials: params in,
 * the credentials (labelled source) out. signer NULL: unsigned. http
 * carries the call, to the STS endpoint cfg resolves.
 */
static int
sts_credentials_call(const aws_config *cfg, http_client *http, const aws_credentials *signer,
					 const char *action, const aws_param *params, size_t nparams,
					 const char *what, const char *source, aws_credentials *out,
					 pgr_error *err)
{
	aws_endpoint endpoint;
	aws_target	target;
	aws_transport transport = aws_http_transport(http);
	sigv4_credentials signing;
	aws_request req = {action, NULL, 0, params, nparams};
	aws_answer	answer = {NULL, NULL};
	char		result[64];
	int			rc = -1;

	if (aws_config_endpoint(cfg, aws_service_get(AWS_STS), &endpoint, err) != 0)
		return -1;
	memset(&target, 0, sizeof(target));
	target.service = aws_service_get(AWS_STS);
	target.url = endpoint.url;
	target.allow_http = endpoint.explicit_url;
	target.region = cfg->region ? cfg->region : "us-east-1";
	if (signer)
	{
		signing.access_key_id = signer->access_key_id;
		signing.secret_access_key = signer->secret_access_key;
		signing.session_token = signer->session_token;
		target.credentials = &signing;
	}
	if (aws_call(&transport, &target, &req, what, &answer, err) != 0)
		goto done;
	snprintf(result, sizeof(result), "%sResult", action);
	rc = aws_sts_credentials(answer.xml, result, source, out, err);
	if (rc != 0)
		pgr_error_prefix(err, "could not %s: ", what);
done:
	aws_answer_free(&answer);
	free(endpoint.url);
	return rc;
}

/* session_name, or "pg_rotate-<time>" in buf when NULL. */
static const char *
session_name_or_default(const char *session_name, char *buf, size_t size)
{
	if (session_name)
		return session_name;
	snprintf(buf, size, "pg_rotate-%ld", (long) time(NULL));
	return buf;
}

/*
 * AssumeRoleWithWebIdentity: the role's temporary credentials for a web
 * identity token (a JWT). session_name NULL: "pg_rotate-<time>".
 */
int
aws_sts_assume_role_with_web_identity(const aws_config *cfg, http_client *http,
									  const char *role_arn, const char *session_name,
									  const char *token, aws_credentials *out,
									  pgr_error *err)
{
	char		default_session[64];
	char		what[512];
	aws_param	params[] = {
		{"RoleArn", role_arn},
		{"RoleSessionName", session_name_or_default(session_name, default_session,
													sizeof(default_session))},
		{"WebIdentityToken", token},
	};

	snprintf(what, sizeof(what), "assume role \"%s\" with web identity", role_arn);
	return sts_credentials_call(cfg, http, NULL, "AssumeRoleWithWebIdentity", params,
								sizeof(params) / sizeof(params[0]), what, "web identity",
								out, err);
}

/*
 * AssumeRole, signed with the source credentials: the role's temporary
 * credentials, labelled source. The optional inputs (NULL or 0 when not
 * set) are sent as given: session_name (default "pg_rotate-<time>"),
 * external_id, duration_seconds, and the MFA device's serial number with
 * the code it shows.
 */
int
aws_sts_assume_role(const aws_config *cfg, http_client *http, const aws_credentials *signer,
					const aws_assume_role *role, const char *source, aws_credentials *out,
					pgr_error *err)
{
	char		default_session[64];
	char		duration[16];
	char		what[512];
	aws_param	params[6];
	size_t		n = 0;

	params[n++] = (aws_param) {"RoleArn", role->role_arn};
	params[n++] = (aws_param) {"RoleSessionName",
		session_name_or_default(role->session_name, default_session, sizeof(default_session))};
	if (role->external_id)
		params[n++] = (aws_param) {"ExternalId", role->external_id};
	if (role->duration_seconds > 0)
	{
		snprintf(duration, sizeof(duration), "%d", role->duration_seconds);
		params[n++] = (aws_param) {"DurationSeconds", duration};
	}
	if (role->mfa_serial && role->mfa_code)
	{
		params[n++] = (aws_param) {"SerialNumber", role->mfa_serial};
		params[n++] = (aws_param) {"TokenCode", role->mfa_code};
	}
	snprintf(what, sizeof(what), "assume role \"%s\"", role->role_arn);
	return sts_credentials_call(cfg, http, signer, "AssumeRole", params, n, what, source,
								out, err);
}
