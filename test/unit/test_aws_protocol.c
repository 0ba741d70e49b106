/*-------------------------------------------------------------------------
 *
 * test_aws_protocol.c
 *	  What the two AWS protocols read from an error answer (aws_protocol.c):
 *	  the code and message of JSON errors (header or body), of Query errors
 *	  in each of their XML spellings, and form encoding of Query requests.
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

#include "aws_protocol.h"

/* An error answer: its X-Amzn-Errortype, its body, what is read from them. */
typedef struct error_case
{
	const char *header;
	const char *body;
	const char *code;
	const char *message;
} error_case;

#define SM_NOT_FOUND "{\"__type\":\"com.amazonaws.secretsmanager#ResourceNotFoundException\"," \
	"\"message\":\"can't find it\"}"

static const error_case cases[] = {
	/* JSON: the code from __type, without its namespace */
	{NULL, SM_NOT_FOUND, "ResourceNotFoundException", "can't find it"},
	/* the header wins, without its suffix */
	{"ThrottlingException:http://internal.amazon.com/coral/", SM_NOT_FOUND,
	"ThrottlingException", "can't find it"},
	{NULL, "{\"code\":\"ValidationException\",\"Message\":\"bad\"}", "ValidationException", "bad"},
	/* Query errors: ErrorResponse (STS, RDS), Response/Errors (EC2), Error (S3) */
	{NULL, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<Error><Type>Sender</Type><Code>AccessDenied</Code>"
		"<Message>not &amp; allowed</Message></Error>"
	"<RequestId>r-1</RequestId></ErrorResponse>", "AccessDenied", "not & allowed"},
	{NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
		"<Code>DBInstanceNotFound</Code><Message>DBInstance db-1 not found.</Message>"
	"</Error></Errors><RequestID>x</RequestID></Response>", "DBInstanceNotFound",
	"DBInstance db-1 not found."},
	{NULL, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>", "NoSuchKey", "gone"},
	/* nothing to read: not JSON, an XML document that is no error, broken XML */
	{NULL, "{garbage", "", ""},
	{NULL, "<html><body>bad gateway</body></html>", "", ""},
	{NULL, "<ErrorResponse><Error><Code>Unclosed", "", ""},
	{NULL, NULL, "", ""},
};

static void
test_error_answers(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		code[64],
					msg[128];
		const char *body = cases[i].body;

		aws_parse_error(cases[i].header, body, body ? strlen(body) : 0, code, sizeof(code),
						msg, sizeof(msg));
		if (strcmp(code, cases[i].code) != 0 || strcmp(msg, cases[i].message) != 0)
			fail_msg("case %zu: \"%s\", \"%s\"", i, code, msg);
	}
}

/* Codes and messages always fit their buffers. */
static void
test_small_buffers(void **state)
{
	char		code[4],
				msg[5];
	const char *json = "{\"__type\":\"ResourceNotFoundException\",\"message\":\"a long message\"}";

	(void) state;
	aws_parse_error(NULL, json, strlen(json), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "Res");
	assert_string_equal(msg, "a lo");
}

static void
test_form_encoding(void **state)
{
	pgr_buf		b;

	(void) state;
	pgr_buf_init(&b, 0);
	assert_true(aws_form_append(&b, "Action", "AssumeRoleWithWebIdentity"));
	assert_true(aws_form_append(&b, "RoleArn", "arn:aws:iam::1:role/a b+c"));
	assert_true(aws_form_append(&b, "Token", "x=y&z~._-"));
	assert_string_equal(b.data, "Action=AssumeRoleWithWebIdentity"
						"&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc"
						"&Token=x%3Dy%26z~._-");
	pgr_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_answers),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_form_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
