/*-------------------------------------------------------------------------
 *
 * test_aws_session.c
 *	  Calls through an AWS session (aws_session.c, aws_protocol.c) answered
 *	  without the network: what reaches the service, and how each kind of
 *	  answer comes back (a document, or one shape of error).
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_session.h"
#include "offline.h"

/* A JSON call: operation with body, the answer's document in *doc. */
static int
call_json(aws_session *s, const char *operation, const char *body, const char *what,
		  json_doc **doc, pgr_error *err)
{
	aws_request req = {operation, body, strlen(body), NULL, 0};
	aws_answer	answer;
	int			rc = aws_session_call(s, AWS_SECRETS_MANAGER, &req, what, &answer, err);

	*doc = answer.json;
	assert_null(answer.xml);
	return rc;
}

/* A Query call of STS: action with params, the answer's document in *doc. */
static int
call_query(aws_session *s, const char *action, const aws_param *params, size_t n,
		   const char *what, xml_doc **doc, pgr_error *err)
{
	aws_request req = {action, NULL, 0, params, n};
	aws_answer	answer;
	int			rc = aws_session_call(s, AWS_STS, &req, what, &answer, err);

	*doc = answer.xml;
	assert_null(answer.json);
	return rc;
}

static void
test_json_call(void **state)
{
	canned		c = {200, NULL, "{\"Name\":\"app\",\"ARN\":\"arn:x\"}", 0, "", ""};
	aws_session *s = offline_session(&c);
	json_doc   *doc = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(call_json(s, "DescribeSecret", "{\"SecretId\":\"app\"}", "describe", &doc,
										   &err), 0);
	assert_int_equal(c.service, AWS_SECRETS_MANAGER);
	assert_string_equal(c.operation, "DescribeSecret");
	assert_string_equal(c.request, "{\"SecretId\":\"app\"}");
	assert_string_equal(json_get_string(json_root(doc), "ARN"), "arn:x");
	json_free(doc);

	/* an empty 2xx answer is an empty object */
	c.body = NULL;
	assert_int_equal(call_json(s, "UpdateSecretVersionStage", "{}", "move", &doc, &err), 0);
	assert_int_equal(json_type_of(json_root(doc)), JSON_OBJECT);
	assert_int_equal(json_count(json_root(doc)), 0);
	json_free(doc);
	aws_session_close(s);
}

/* An error answer: the service's code and words, where, and what to do. */
static void
test_json_error_shape(void **state)
{
	canned		c = {400, "ResourceNotFoundException",
	"{\"__type\":\"ResourceNotFoundException\",\"message\":\"Secrets Manager can't find the specified secret.\"}",
	0, "", ""};
	aws_session *s = offline_session(&c);
	json_doc   *doc = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(call_json(s, "GetSecretValue", "{}", "get the value of secret \"x\"", &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err.errclass, PGR_ERR_AWS);
	assert_string_equal(err.code, "ResourceNotFoundException");
	assert_string_equal(err.message, "could not get the value of secret \"x\": "
						"ResourceNotFoundException: Secrets Manager can't find the specified secret.");
	assert_string_equal(err.detail, "Secrets Manager (http://offline.invalid/) answered "
						"GetSecretValue with HTTP 400 after 1 attempt.");
	assert_string_equal(err.hint, "Check the secret id, the version id or stage, and the region.");

	/* a code the service has no hint for gets the general one, if any */
	c.errortype = "ThrottlingException";
	c.body = "{}";
	assert_int_equal(call_json(s, "GetSecretValue", "{}", "get", &doc, &err), -1);
	assert_string_equal(err.message, "could not get: ThrottlingException");
	assert_string_equal(err.hint, "Try again later, or raise AWS_MAX_ATTEMPTS.");
	aws_session_close(s);
}

static void
test_json_bad_answers(void **state)
{
	canned		c = {200, NULL, "[1, 2]", 0, "", ""};
	aws_session *s = offline_session(&c);
	json_doc   *doc = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(call_json(s, "DescribeSecret", "{}", "describe secret \"x\"", &doc, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_string_equal(err.message, "could not describe secret \"x\": the response from "
						"Secrets Manager is not a JSON object");
	assert_string_equal(err.detail, "http://offline.invalid/ answered HTTP 200 with 6 bytes "
						"of malformed JSON.");
	/* no answer at all */
	c.status = 0;
	assert_int_equal(call_json(s, "DescribeSecret", "{}", "describe secret \"x\"", &doc, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_NETWORK);
	assert_string_equal(err.message, "could not describe secret \"x\": could not reach "
						"Secrets Manager at \"http://offline.invalid/\"");
	aws_session_close(s);
}

static void
test_query_call(void **state)
{
	canned		c = {200, NULL,
		"<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
		"</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
	0, "", ""};
	aws_session *s = offline_session(&c);
	xml_doc    *doc = NULL;
	pgr_error	err;
	aws_param	params[] = {{"RoleArn", "arn:aws:iam::1:role/r"}, {"WebIdentityToken", "a.b.c"}};

	(void) state;
	assert_int_equal(call_query(s, "AssumeRoleWithWebIdentity", params, 2,
											"assume", &doc, &err), 0);
	assert_int_equal(c.service, AWS_STS);
	assert_string_equal(c.operation, "AssumeRoleWithWebIdentity");
	assert_string_equal(c.request, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
						"&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&WebIdentityToken=a.b.c");
	assert_string_equal(xml_find_text(xml_root(doc),
									  "AssumeRoleWithWebIdentityResult/Credentials/AccessKeyId"),
						"ASIA1");
	xml_free(doc);

	c.status = 403;
	c.body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
		"<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>"
		"<RequestId>r</RequestId></ErrorResponse>";
	assert_int_equal(call_query(s, "AssumeRoleWithWebIdentity", params, 2,
											"assume role \"r\"", &doc, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_AWS);
	assert_string_equal(err.code, "AccessDenied");
	assert_string_equal(err.message, "could not assume role \"r\": AccessDenied: "
						"Not authorized to perform sts:AssumeRoleWithWebIdentity");
	assert_string_equal(err.detail, "AWS STS (http://offline.invalid/) answered "
						"AssumeRoleWithWebIdentity with HTTP 403 after 1 attempt.");
	assert_non_null(strstr(err.hint, "trust policy"));

	c.status = 200;
	c.body = "not xml";
	assert_int_equal(call_query(s, "AssumeRoleWithWebIdentity", params, 2,
											"assume", &doc, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_string_equal(err.message, "could not assume: the response from AWS STS is not valid XML");
	aws_session_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_call),
		cmocka_unit_test(test_json_error_shape),
		cmocka_unit_test(test_json_bad_answers),
		cmocka_unit_test(test_query_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
