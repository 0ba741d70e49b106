/*-------------------------------------------------------------------------
 *
 * test_aws_config.c
 *	  The pure parts of the AWS configuration: the config/credentials file
 *	  parser, the resolution order of profile, region and endpoint, the
 *	  retry policy, the error parser and the option parser.
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

#include "aws_config.h"
#include "cli.h"
#include "http.h"
#include "secretsmanager.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *
env_lookup(void *arg, const char *name)
{
	(void) arg;
	for (const char *const *p = fake_env; p && *p; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static const char config_text[] =
	"# a comment\n"
	"; another\n"
	"[default]\n"
	"region = eu-central-1\n"
	"max_attempts = 7\n"
	"\n"
	"[profile dev]\n"
	"Region=us-west-2\n"
	"services = local\n"
	"endpoint_url = http://global.example\n"
	"\n"
	"[services local]\n"
	"secretsmanager =\n"
	"  endpoint_url = http://127.0.0.1:4566\n"
	"sts =\n"
	"  endpoint_url = http://127.0.0.1:4567\n";

static const char cred_text[] =
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = secret/with=equals\n"
	"[dev]\n"
	"aws_access_key_id=AKIADEV\n"
	"aws_secret_access_key=devsecret\n";

static void
test_ini_parse(void **state)
{
	aws_ini    *ini;
	pgr_error	err;

	(void) state;
	assert_int_equal(aws_ini_parse(config_text, strlen(config_text), &ini, &err), 0);
	assert_string_equal(aws_ini_get(ini, "default", "region"), "eu-central-1");
	/* keys are case-insensitive: the file says "Region" */
	assert_string_equal(aws_ini_get(ini, "profile dev", "region"), "us-west-2");
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
}

static int
resolve(const char *const *env, const aws_cli_options *opts, aws_config *cfg, pgr_error *err)
{
	fake_env = env;
	return aws_config_resolve(opts, env_lookup, NULL, config_text, strlen(config_text),
							  cred_text, strlen(cred_text), cfg, err);
}

static void
test_region_order(void **state)
{
	aws_config	cfg;
	aws_cli_options opts;
	pgr_error	err;
	const char *none[] = {NULL};
	const char *def[] = {"AWS_DEFAULT_REGION", "ca-central-1", NULL};
	const char *both[] = {"AWS_DEFAULT_REGION", "ca-central-1", "AWS_REGION", "sa-east-1", NULL};

	(void) state;
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(resolve(none, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.region, "eu-central-1");
	assert_string_equal(cfg.region_source, "profile");
	assert_int_equal(cfg.max_attempts, 7);
	aws_config_free(&cfg);
	assert_int_equal(resolve(def, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.region, "ca-central-1");
	aws_config_free(&cfg);
	assert_int_equal(resolve(both, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.region, "sa-east-1");
	aws_config_free(&cfg);
	opts.region = "ap-east-1";
	assert_int_equal(resolve(both, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.region, "ap-east-1");
	assert_string_equal(cfg.region_source, "--region");
	aws_config_free(&cfg);
	opts.region = "bad region!";
	assert_int_equal(resolve(none, &opts, &cfg, &err), -1);
	assert_non_null(strstr(err.message, "invalid region"));
}

static void
test_profile_order(void **state)
{
	aws_config	cfg;
	aws_cli_options opts;
	pgr_error	err;
	const char *env_profile[] = {"AWS_DEFAULT_PROFILE", "nope", "AWS_PROFILE", "dev", NULL};
	const char *missing[] = {"AWS_PROFILE", "missing", NULL};

	(void) state;
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(resolve(env_profile, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.profile, "dev");
	assert_false(cfg.profile_explicit);
	assert_string_equal(cfg.region, "us-west-2");
	aws_config_free(&cfg);
	opts.profile = "default";
	assert_int_equal(resolve(env_profile, &opts, &cfg, &err), 0);
	assert_string_equal(cfg.profile, "default");
	assert_true(cfg.profile_explicit);
	aws_config_free(&cfg);
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(resolve(missing, &opts, &cfg, &err), -1);
	assert_non_null(strstr(err.message, "\"missing\" could not be found"));
}

static void
check_endpoint(const char *const *env, const aws_cli_options *opts, const aws_service *svc,
			   const char *want, bool want_explicit)
{
	aws_config	cfg;
	pgr_error	err;
	char	   *url;
	bool		explicit_url;
	const char *source;

	assert_int_equal(resolve(env, opts, &cfg, &err), 0);
	assert_int_equal(aws_config_endpoint(&cfg, svc, &url, &explicit_url, &source, &err), 0);
	assert_string_equal(url, want);
	assert_int_equal(explicit_url, want_explicit);
	free(url);
	aws_config_free(&cfg);
}

static void
test_endpoint_order(void **state)
{
	aws_cli_options opts;
	const char *none[] = {NULL};
	const char *dev[] = {"AWS_PROFILE", "dev", NULL};
	const char *global[] = {"AWS_PROFILE", "dev", "AWS_ENDPOINT_URL", "http://env-global", NULL};
	const char *svc[] = {"AWS_PROFILE", "dev", "AWS_ENDPOINT_URL", "http://env-global",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://env-sm", NULL};
	const char *legacy[] = {"SECRETS_MANAGER_ENDPOINT", "https://vpce.example", NULL};
	const char *fips[] = {"AWS_USE_FIPS_ENDPOINT", "true", NULL};
	const char *china[] = {"AWS_REGION", "cn-north-1", NULL};
	const char *ignore[] = {"AWS_PROFILE", "dev", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true",
	"AWS_ENDPOINT_URL", "http://env-global", NULL};

	(void) state;
	memset(&opts, 0, sizeof(opts));
	check_endpoint(none, &opts, &aws_service_secretsmanager,
				   "https://secretsmanager.eu-central-1.amazonaws.com", false);
	check_endpoint(dev, &opts, &aws_service_secretsmanager, "http://127.0.0.1:4566", true);
	check_endpoint(dev, &opts, &aws_service_sts, "http://127.0.0.1:4567", true);
	check_endpoint(global, &opts, &aws_service_secretsmanager, "http://env-global", true);
	check_endpoint(svc, &opts, &aws_service_secretsmanager, "http://env-sm", true);
	check_endpoint(svc, &opts, &aws_service_sts, "http://env-global", true);
	check_endpoint(legacy, &opts, &aws_service_secretsmanager, "https://vpce.example", true);
	check_endpoint(fips, &opts, &aws_service_secretsmanager,
				   "https://secretsmanager-fips.eu-central-1.amazonaws.com", false);
	check_endpoint(china, &opts, &aws_service_secretsmanager,
				   "https://secretsmanager.cn-north-1.amazonaws.com.cn", false);
	check_endpoint(ignore, &opts, &aws_service_secretsmanager,
				   "https://secretsmanager.us-west-2.amazonaws.com", false);
	opts.endpoint_url = "http://cli";
	check_endpoint(svc, &opts, &aws_service_secretsmanager, "http://cli", true);
	/* --endpoint-url is Secrets Manager's only, as in the AWS CLI */
	check_endpoint(svc, &opts, &aws_service_sts, "http://env-global", true);
}

static void
test_retry_policy(void **state)
{
	(void) state;
	assert_true(http_status_retryable(500, ""));
	assert_true(http_status_retryable(503, "ServiceUnavailable"));
	assert_true(http_status_retryable(400, "ThrottlingException"));
	assert_true(http_status_retryable(429, ""));
	assert_false(http_status_retryable(400, "ResourceNotFoundException"));
	assert_false(http_status_retryable(403, "AccessDeniedException"));
	assert_false(http_status_retryable(501, ""));
	assert_true(http_is_clock_skew_code("RequestTimeTooSkewed"));
	/* full jitter: r * min(cap, base * 2^(i-1)) */
	assert_true(http_backoff_ms(1, 1000, 20000, 0.5) == 500);
	assert_true(http_backoff_ms(3, 1000, 20000, 1.0) == 4000);
	assert_true(http_backoff_ms(10, 1000, 20000, 1.0) == 20000);
	assert_true(http_backoff_ms(2, 1000, 20000, 0.0) == 0);
}

static void
test_error_parsing(void **state)
{
	char		code[64],
				msg[128];
	const char *json = "{\"__type\":\"com.amazonaws.secretsmanager#ResourceNotFoundException\","
		"\"message\":\"can't find it\"}";
	const char *xml = "<ErrorResponse><Error><Code>AccessDenied</Code>"
		"<Message>not &amp; allowed</Message></Error></ErrorResponse>";

	(void) state;
	sm_parse_error(NULL, json, strlen(json), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "ResourceNotFoundException");
	assert_string_equal(msg, "can't find it");
	sm_parse_error("ThrottlingException:http://internal.amazon.com/coral/", json,
				   strlen(json), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "ThrottlingException");
	sm_parse_error(NULL, xml, strlen(xml), code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "AccessDenied");
	assert_string_equal(msg, "not & allowed");
	sm_parse_error(NULL, "{garbage", 8, code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
}

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
	assert_non_null(strstr(err.message, "invalid value \"0\" for --connect-timeout"));
}

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
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_parse),
		cmocka_unit_test(test_region_order),
		cmocka_unit_test(test_profile_order),
		cmocka_unit_test(test_endpoint_order),
		cmocka_unit_test(test_retry_policy),
		cmocka_unit_test(test_error_parsing),
		cmocka_unit_test(test_cli_parse),
		cmocka_unit_test(test_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
