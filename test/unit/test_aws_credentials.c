/*-------------------------------------------------------------------------
 *
 * test_aws_credentials.c
 *	  The pure parts of the credential providers (aws_credentials.c): the
 *	  JSON documents of credential_process, container credentials and
 *	  IMDS, timestamps, expiry, and the wiping of secret keys.
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

#include "aws_credentials.h"
#include "freed_memory.h"

#define SECRET_KEY	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
#define TOKEN		"IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"

static void
test_iso8601(void **state)
{
	time_t		t;

	(void) state;
	assert_int_equal(aws_parse_iso8601("2015-08-30T12:36:00Z", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(aws_parse_iso8601("2015-08-30T12:36:00.123+00:00", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(aws_parse_iso8601("yesterday", &t), -1);
	assert_int_equal(aws_parse_iso8601("2015-08-30T12:36:00+02:00", &t), -1);
	assert_int_equal(aws_parse_iso8601(NULL, &t), -1);
}

static void
test_process_output(void **state)
{
	const char *ok = "{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \""
		SECRET_KEY "\", \"SessionToken\": \"" TOKEN "\", \"Expiration\": \"2099-01-01T00:00:00Z\"}";
	aws_credentials c;
	pgr_error	err;

	(void) state;
	assert_int_equal(aws_credentials_from_json(ok, strlen(ok), "SessionToken", true, "p", &c,
											   &err), 0);
	assert_string_equal(c.access_key_id, "AKIAPROC");
	assert_string_equal(c.secret_access_key, SECRET_KEY);
	assert_string_equal(c.session_token, TOKEN);
	assert_int_equal(c.expiration, 4070908800);
	assert_string_equal(c.source, "p");
	assert_false(aws_credentials_expiring(&c, 4070908800 - 301, 300));
	assert_true(aws_credentials_expiring(&c, 4070908800 - 299, 300));
	aws_credentials_free(&c);
}

/* Each malformed document is refused with its own message. */
static void
test_refusals(void **state)
{
	static const struct
	{
		const char *json;
		bool		version_1;
		const char *message;
	}			cases[] = {
		{"", false, "credentials from src are not a JSON object"},
		{"[]", false, "credentials from src are not a JSON object"},
		{"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", true,
		"src did not print a JSON object with \"Version\": 1"},
		{"{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", true,
		"src did not print a JSON object with \"Version\": 1"},
		{"{\"AccessKeyId\":\"A\"}", false, "credentials from src lack AccessKeyId or SecretAccessKey"},
		{"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":5}", false,
		"credentials from src lack AccessKeyId or SecretAccessKey"},
		{"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}", false,
		"credentials from src have a malformed Expiration"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		aws_credentials c;
		pgr_error	err;

		pgr_error_clear(&err);
		assert_int_equal(aws_credentials_from_json(cases[i].json, strlen(cases[i].json),
												   "Token", cases[i].version_1, "src", &c,
												   &err), -1);
		assert_int_equal(err.errclass, PGR_ERR_INPUT);
		assert_string_equal(err.message, cases[i].message);
	}
}

/* The secret key and the token leave nothing in freed memory. */
static void
test_secrets_are_wiped(void **state)
{
	const char *doc = "{\"AccessKeyId\":\"AKIAWIPE\",\"SecretAccessKey\":\"" SECRET_KEY
		"\",\"Token\":\"" TOKEN "\"}";
	aws_credentials c,
				copy;
	pgr_error	err;

	(void) state;
	freed_memory_keep(true);
	assert_int_equal(aws_credentials_from_json(doc, strlen(doc), "Token", false, "IMDS", &c,
											   &err), 0);
	assert_int_equal(aws_credentials_copy(&c, &copy, &err), 0);
	aws_credentials_free(&copy);
	aws_credentials_free(&c);
	assert_true(freed_memory_holds_str("AKIAWIPE"));	/* not a secret: not wiped */
	assert_false(freed_memory_holds_str("K7MDENG/bPxRfiCY"));
	assert_false(freed_memory_holds_str("EXAMPLESESSION"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_process_output),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_secrets_are_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
