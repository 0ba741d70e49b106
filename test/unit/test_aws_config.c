/*-------------------------------------------------------------------------
 *
 * test_aws_config.c
 *	  AWS configuration resolution (aws_config.c): the order of profile,
 *	  region and settings, and each service's endpoint, generically.
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
	"[default]\n"
	"region = eu-central-1\n"
	"max_attempts = 7\n"
	"\n"
	"[profile dev]\n"
	"Region=us-west-2\n"
	"services = local\n"
	"endpoint_url = http://global.example\n"
	"\n"
	"[profile bare]\n"
	"output = json\n"
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

static int
resolve(const char *const *env, const aws_options *opts, aws_config *cfg, pgr_error *err)
{
	fake_env = env;
	return aws_config_resolve(opts, env_lookup, NULL, config_text, strlen(config_text),
							  cred_text, strlen(cred_text), cfg, err);
}

static void
test_region_order(void **state)
{
	aws_config	cfg;
	aws_options opts;
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
	assert_int_equal(err.errclass, PGR_ERR_USAGE);
	assert_non_null(strstr(err.message, "invalid region \"bad region!\" (from --region)"));
}

static void
test_profile_order(void **state)
{
	aws_config	cfg;
	aws_options opts;
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
	assert_int_equal(err.errclass, PGR_ERR_USAGE);
	assert_non_null(strstr(err.message, "\"missing\" could not be found"));
}

/* Settings: attempts from the option, the environment, the profile, or none. */
static void
test_settings_order(void **state)
{
	aws_config	cfg;
	aws_options opts;
	pgr_error	err;
	const char *env_attempts[] = {"AWS_MAX_ATTEMPTS", "5", "AWS_CA_BUNDLE", "/env/ca.pem", NULL};
	const char *bare[] = {"AWS_PROFILE", "bare", "AWS_MAX_ATTEMPTS", "zero", NULL};

	(void) state;
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(resolve(env_attempts, &opts, &cfg, &err), 0);
	assert_int_equal(cfg.max_attempts, 5);
	assert_string_equal(cfg.ca_bundle, "/env/ca.pem");
	aws_config_free(&cfg);
	opts.max_attempts = 2;
	opts.ca_bundle = "/cli/ca.pem";
	assert_int_equal(resolve(env_attempts, &opts, &cfg, &err), 0);
	assert_int_equal(cfg.max_attempts, 2);
	assert_string_equal(cfg.ca_bundle, "/cli/ca.pem");
	aws_config_free(&cfg);
	/* not a number, and not in the profile: left to the HTTP layer's default */
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(resolve(bare, &opts, &cfg, &err), 0);
	assert_int_equal(cfg.max_attempts, 0);
	aws_config_free(&cfg);
}

static void
check_endpoint(const char *const *env, const aws_options *opts, aws_service_id id,
			   const char *want, bool want_explicit, const char *want_source)
{
	aws_config	cfg;
	pgr_error	err;
	aws_endpoint e;

	assert_int_equal(resolve(env, opts, &cfg, &err), 0);
	assert_int_equal(aws_config_endpoint(&cfg, aws_service_get(id), &e, &err), 0);
	assert_string_equal(e.url, want);
	assert_int_equal(e.explicit_url, want_explicit);
	assert_string_equal(e.source, want_source);
	free(e.url);
	aws_config_free(&cfg);
}

static void
test_endpoint_order(void **state)
{
	aws_options opts;
	const char *none[] = {NULL};
	const char *dev[] = {"AWS_PROFILE", "dev", NULL};
	const char *global[] = {"AWS_PROFILE", "dev", "AWS_ENDPOINT_URL", "http://env-global", NULL};
	const char *svc[] = {"AWS_PROFILE", "dev", "AWS_ENDPOINT_URL", "http://env-global",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://env-sm", NULL};
	const char *legacy[] = {"SECRETS_MANAGER_ENDPOINT", "https://vpce.example", NULL};
	const char *fips[] = {"AWS_USE_FIPS_ENDPOINT", "true", NULL};
	const char *dual[] = {"AWS_USE_DUALSTACK_ENDPOINT", "TRUE", NULL};
	const char *china[] = {"AWS_REGION", "cn-north-1", NULL};
	const char *ignore[] = {"AWS_PROFILE", "dev", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true",
	"AWS_ENDPOINT_URL", "http://env-global", NULL};

	(void) state;
	memset(&opts, 0, sizeof(opts));
	check_endpoint(none, &opts, AWS_SECRETS_MANAGER,
				   "https://secretsmanager.eu-central-1.amazonaws.com", false,
				   "the regional endpoint");
	check_endpoint(dev, &opts, AWS_SECRETS_MANAGER, "http://127.0.0.1:4566", true,
				   "the profile's services section");
	check_endpoint(dev, &opts, AWS_STS, "http://127.0.0.1:4567", true,
				   "the profile's services section");
	check_endpoint(global, &opts, AWS_SECRETS_MANAGER, "http://env-global", true,
				   "AWS_ENDPOINT_URL");
	check_endpoint(svc, &opts, AWS_SECRETS_MANAGER, "http://env-sm", true,
				   "AWS_ENDPOINT_URL_<SERVICE>");
	check_endpoint(svc, &opts, AWS_STS, "http://env-global", true, "AWS_ENDPOINT_URL");
	check_endpoint(legacy, &opts, AWS_SECRETS_MANAGER, "https://vpce.example", true,
				   "SECRETS_MANAGER_ENDPOINT");
	/* the older variable is Secrets Manager's only */
	check_endpoint(legacy, &opts, AWS_STS, "https://sts.eu-central-1.amazonaws.com", false,
				   "the regional endpoint");
	check_endpoint(fips, &opts, AWS_SECRETS_MANAGER,
				   "https://secretsmanager-fips.eu-central-1.amazonaws.com", false,
				   "the regional FIPS endpoint");
	check_endpoint(dual, &opts, AWS_SECRETS_MANAGER,
				   "https://secretsmanager.eu-central-1.api.aws", false, "the regional endpoint");
	check_endpoint(china, &opts, AWS_SECRETS_MANAGER,
				   "https://secretsmanager.cn-north-1.amazonaws.com.cn", false,
				   "the regional endpoint");
	check_endpoint(ignore, &opts, AWS_SECRETS_MANAGER,
				   "https://secretsmanager.us-west-2.amazonaws.com", false,
				   "the regional endpoint");
	opts.endpoint_url[AWS_SECRETS_MANAGER] = "http://cli";
	check_endpoint(svc, &opts, AWS_SECRETS_MANAGER, "http://cli", true, "--endpoint-url");
	/* an option names one service's endpoint, as the AWS CLI's do */
	check_endpoint(svc, &opts, AWS_STS, "http://env-global", true, "AWS_ENDPOINT_URL");
	memset(&opts, 0, sizeof(opts));
	opts.endpoint_url[AWS_STS] = "http://cli-sts";
	check_endpoint(svc, &opts, AWS_STS, "http://cli-sts", true, "the command line");
	check_endpoint(svc, &opts, AWS_SECRETS_MANAGER, "http://env-sm", true,
				   "AWS_ENDPOINT_URL_<SERVICE>");
}

/* Without a region: STS has its global endpoint, a regional service none. */
static void
test_endpoint_without_region(void **state)
{
	aws_config	cfg;
	pgr_error	err;
	aws_endpoint e;
	const char *none[] = {NULL};

	(void) state;
	fake_env = none;
	assert_int_equal(aws_config_resolve(NULL, env_lookup, NULL, NULL, 0, NULL, 0, &cfg, &err), 0);
	assert_null(cfg.region);
	assert_int_equal(aws_config_endpoint(&cfg, aws_service_get(AWS_STS), &e, &err), 0);
	assert_string_equal(e.url, "https://sts.amazonaws.com");
	assert_string_equal(e.source, "the global endpoint");
	assert_false(e.explicit_url);
	free(e.url);
	assert_int_equal(aws_config_endpoint(&cfg, aws_service_get(AWS_SECRETS_MANAGER), &e, &err),
					 -1);
	assert_int_equal(err.errclass, PGR_ERR_USAGE);
	assert_string_equal(err.message, "no AWS region is configured");
	assert_non_null(strstr(err.hint, "--region"));
	aws_config_free(&cfg);
}

/* A file that does not parse is refused with the file named in the hint. */
static void
test_bad_files(void **state)
{
	aws_config	cfg;
	pgr_error	err;
	const char *none[] = {NULL};

	(void) state;
	fake_env = none;
	assert_int_equal(aws_config_resolve(NULL, env_lookup, NULL, "x = 1\n", 6, NULL, 0, &cfg,
										&err), -1);
	assert_int_equal(err.errclass, PGR_ERR_INPUT);
	assert_non_null(strstr(err.message, "could not parse the AWS config file: line 1"));
	assert_non_null(strstr(err.hint, "AWS_CONFIG_FILE"));
	assert_int_equal(aws_config_resolve(NULL, env_lookup, NULL, NULL, 0, "[a\n", 3, &cfg,
										&err), -1);
	assert_non_null(strstr(err.message, "could not parse the AWS credentials file"));
	assert_non_null(strstr(err.hint, "AWS_SHARED_CREDENTIALS_FILE"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_order),
		cmocka_unit_test(test_profile_order),
		cmocka_unit_test(test_settings_order),
		cmocka_unit_test(test_endpoint_order),
		cmocka_unit_test(test_endpoint_without_region),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
