/*-------------------------------------------------------------------------
 *
 * test_cli.c
 *	  The shared command-line parser (cli.c): subcommand and shared
 *	  options, --x / --no-x flags, lists, values, refusals, and where the
 *	  command and subcommand words are.
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

#include "cli.h"

static int
collect(void *ctx, int id, const char *value, bool negated, pgr_error *err)
{
	char	   *log = ctx;
	size_t		n = strlen(log);

	(void) err;
	snprintf(log + n, 256 - n, "%d=%s%s;", id, negated ? "!" : "", value ? value : "");
	return 0;
}

static void
test_cli_parse(void **state)
{
	static const pgr_option opts[] = {
		{"secret-id", PGR_OPT_VALUE, 1, "x"},
		{"version-stages", PGR_OPT_LIST, 2, "x"},
		{"exclude-numbers", PGR_OPT_FLAG, 3, "x"},
		{NULL, 0, 0, NULL}
	};
	char	   *argv[] = {"pg_rotate", "--region", "eu-west-1", "secret", "put",
		"--secret-id=a", "--version-stages", "S1", "S2", "--no-exclude-numbers",
		"--connect-timeout", "5", "--verbose", NULL};
	char	   *bad[] = {"pg_rotate", "--connect-timeout", "0", NULL};
	char		log[256] = "";
	pgr_common_options common;
	pgr_error	err;

	(void) state;
	memset(&common, 0, sizeof(common));
	assert_int_equal(pgr_cli_parse(13, argv, opts, collect, log, &common, &err), 0);
	assert_string_equal(log, "1=a;2=S1;2=S2;3=!;");
	assert_string_equal(common.aws.region, "eu-west-1");
	assert_int_equal(common.aws.connect_timeout_ms, 5000);
	assert_true(common.verbose);
	assert_int_equal(common.npositional, 2);
	assert_string_equal(common.positional[1], "put");
	memset(&common, 0, sizeof(common));
	assert_int_equal(pgr_cli_parse(3, bad, opts, collect, log, &common, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_USAGE);
	assert_non_null(strstr(err.message, "invalid value \"0\" for --connect-timeout"));
}

/* --endpoint-url is Secrets Manager's; unknown options and misuse are refused. */
static void
test_cli_refusals(void **state)
{
	static const pgr_option opts[] = {
		{"flag", PGR_OPT_FLAG, 1, "x"},
		{"list", PGR_OPT_LIST, 2, "x"},
		{NULL, 0, 0, NULL}
	};
	char	   *endpoint[] = {"pg_rotate", "--endpoint-url=http://x", NULL};
	char	   *unknown[] = {"pg_rotate", "--bogus", NULL};
	char	   *short_opt[] = {"pg_rotate", "-q", NULL};
	char	   *flag_value[] = {"pg_rotate", "--flag=yes", NULL};
	char	   *no_value[] = {"pg_rotate", "--region", NULL};
	char	   *empty_list[] = {"pg_rotate", "--list", "--flag", NULL};
	char		log[256] = "";
	pgr_common_options common;
	pgr_error	err;

	(void) state;
	memset(&common, 0, sizeof(common));
	assert_int_equal(pgr_cli_parse(2, endpoint, opts, collect, log, &common, &err), 0);
	assert_string_equal(common.aws.endpoint_url[AWS_SECRETS_MANAGER], "http://x");
	assert_null(common.aws.endpoint_url[AWS_STS]);
	assert_int_equal(pgr_cli_parse(2, unknown, opts, collect, log, &common, &err), -1);
	assert_string_equal(err.message, "unknown option \"--bogus\"");
	assert_int_equal(pgr_cli_parse(2, short_opt, opts, collect, log, &common, &err), -1);
	assert_string_equal(err.message, "unknown option \"-q\"");
	assert_int_equal(pgr_cli_parse(2, flag_value, opts, collect, log, &common, &err), -1);
	assert_string_equal(err.message, "option \"--flag\" takes no value");
	assert_int_equal(pgr_cli_parse(2, no_value, opts, collect, log, &common, &err), -1);
	assert_string_equal(err.message, "option \"--region\" needs a value");
	assert_int_equal(pgr_cli_parse(3, empty_list, opts, collect, log, &common, &err), -1);
	assert_string_equal(err.message, "option \"--list\" needs a value");
}

/*
 * The command and subcommand words: shared options' values are skipped,
 * flags and "--x=value" take no word, other options' values are not known
 * here (only the command's parser knows them).
 */
static void
test_cli_words(void **state)
{
	char	   *argv[] = {"pg_rotate", "--profile", "prod", "--json", "--region=eu-west-1",
		"--connect-timeout", "5", "secret", "-v", "--endpoint-url", "http://x", "get",
		"--secret-id", "app", NULL};
	char	   *none[] = {"pg_rotate", "--profile", "rotate", "--json", NULL};

	(void) state;
	assert_int_equal(pgr_cli_word_index(14, argv, 0), 7);
	assert_int_equal(pgr_cli_word_index(14, argv, 1), 11);
	assert_int_equal(pgr_cli_word_index(14, argv, 2), 13);	/* "app": not skipped */
	assert_int_equal(pgr_cli_word_index(14, argv, 3), 14);
	/* a profile named like a command is the profile */
	assert_int_equal(pgr_cli_word_index(4, none, 0), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_parse),
		cmocka_unit_test(test_cli_refusals),
		cmocka_unit_test(test_cli_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
