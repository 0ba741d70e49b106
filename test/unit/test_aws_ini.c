/*-------------------------------------------------------------------------
 *
 * test_aws_ini.c
 *	  The AWS config/credentials file parser (aws_ini.c): sections, keys,
 *	  nested settings, comments, malformed lines, and the wiping of values.
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

#include "aws_ini.h"
#include "freed_memory.h"

/* Comments, blank lines, spacing, case, nested settings, a repeated key. */
static const char config_text[] =
	"# a comment\n"
	"; another\n"
	"[default]\n"
	"  region   =   eu-central-1  \n"
	"\n"
	"[profile dev]\n"
	"Region=us-west-2\n"
	"region = us-west-1\n"
	"[services local]\n"
	"secretsmanager =\n"
	"  endpoint_url = http://127.0.0.1:4566\n"
	"sts =\n"
	"\tendpoint_url = http://127.0.0.1:4567\n";

static const char cred_text[] =
	"[default]\n"
	"aws_secret_access_key = secret/with=equals\n";

static void
test_ini_parse(void **state)
{
	aws_ini    *ini;
	pgr_error	err;

	(void) state;
	assert_int_equal(aws_ini_parse(config_text, strlen(config_text), &ini, &err), 0);
	assert_string_equal(aws_ini_get(ini, "default", "region"), "eu-central-1");
	/* keys are case-insensitive, and a later one replaces an earlier one */
	assert_string_equal(aws_ini_get(ini, "profile dev", "REGION"), "us-west-1");
	assert_string_equal(aws_ini_get(ini, "services local", "secretsmanager.endpoint_url"),
						"http://127.0.0.1:4566");
	assert_string_equal(aws_ini_get(ini, "services local", "sts.endpoint_url"),
						"http://127.0.0.1:4567");
	assert_null(aws_ini_get(ini, "profile nope", "region"));
	assert_true(aws_ini_has_section(ini, "profile dev"));
	aws_ini_free(ini);

	assert_int_equal(aws_ini_parse(cred_text, strlen(cred_text), &ini, &err), 0);
	assert_string_equal(aws_ini_get(ini, "default", "aws_secret_access_key"),
						"secret/with=equals");
	aws_ini_free(ini);

	assert_int_equal(aws_ini_parse("key = before section\n", 20, &ini, &err), -1);
	assert_non_null(strstr(err.message, "line 1 comes before any [section]"));
	assert_int_equal(aws_ini_parse("[ok]\nnot a pair\n", 16, &ini, &err), -1);
	assert_non_null(strstr(err.message, "line 2"));
	assert_int_equal(aws_ini_parse("[broken\n", 8, &ini, &err), -1);
	assert_non_null(strstr(err.message, "malformed section header on line 1"));
}

/* Values and whole lines are wiped: a comment may hold a commented-out key. */
static void
test_ini_wipes_values_and_lines(void **state)
{
	static const char text[] =
		"[default]\n"
		"# aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYOLDCOMMENT\n"
		"aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n";
	aws_ini    *ini;
	pgr_error	err;

	(void) state;
	freed_memory_keep(true);
	assert_int_equal(aws_ini_parse(text, strlen(text), &ini, &err), 0);
	assert_string_equal(aws_ini_get(ini, "default", "aws_secret_access_key"),
						"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY");
	aws_ini_free(ini);
	assert_true(freed_memory_holds_str("default"));	/* the scan sees our frees */
	assert_false(freed_memory_holds_str("MDENGbPxRfiCYEXAMPLEKEY"));
	assert_false(freed_memory_holds_str("MDENGbPxRfiCYOLDCOMMENT"));
	freed_memory_keep(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_parse),
		cmocka_unit_test(test_ini_wipes_values_and_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
