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

static void
parse(const char *header, const char *body, char *code, char *msg)
{
	aws_parse_error(header, body, body ? strlen(body) : 0, code, 64, msg, 128);
}

static void
test_json_errors(void **state)
{
	char		code[64],
				msg[128];
	const char *json = "{\"__type\":\"com.amazonaws.secretsmanager#ResourceNotFoundException\","
		"\"message\":\"can't find it\"}";

	(void) state;
	parse(NULL, json, code, msg);
	assert_string_equal(code, "ResourceNotFoundException");
	assert_string_equal(msg, "can't find it");
	/* the header wins, without its suffix */
	parse("ThrottlingException:http://internal.amazon.com/coral/", json, code, msg);
	assert_string_equal(code, "ThrottlingException");
	assert_string_equal(msg, "can't find it");
	parse(NULL, "{\"code\":\"ValidationException\",\"Message\":\"bad\"}", code, msg);
	assert_string_equal(code, "ValidationException");
	assert_string_equal(msg, "bad");
	parse(NULL, "{garbage", code, msg);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
	parse(NULL, NULL, code, msg);
	assert_string_equal(code, "");
}

/* Query errors: ErrorResponse (STS, RDS), Response/Errors (EC2), Error (S3). */
static void
test_xml_errors(void **state)
{
	char		code[64],
				msg[128];

	(void) state;
	parse(NULL, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		  "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
		  "<Message>not &amp; allowed</Message></Error>"
		  "<RequestId>r-1</RequestId></ErrorResponse>", code, msg);
	assert_string_equal(code, "AccessDenied");
	assert_string_equal(msg, "not & allowed");
	parse(NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
		  "<Code>DBInstanceNotFound</Code><Message>DBInstance db-1 not found.</Message>"
		  "</Error></Errors><RequestID>x</RequestID></Response>", code, msg);
	assert_string_equal(code, "DBInstanceNotFound");
	assert_string_equal(msg, "DBInstance db-1 not found.");
	parse(NULL, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>", code, msg);
	assert_string_equal(code, "NoSuchKey");
	/* a document that is not an error, or not XML */
	parse(NULL, "<html><body>bad gateway</body></html>", code, msg);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
	parse(NULL, "<ErrorResponse><Error><Code>Unclosed", code, msg);
	assert_string_equal(code, "");
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
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_xml_errors),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_form_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
