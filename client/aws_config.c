/*-------------------------------------------------------------------------
 *
 * aws_config.c
 *	  Profiles, region, settings and endpoints, resolved in the AWS CLI's
 *	  order (see aws_config.h).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_config.h"
#include "buf.h"
#include "file.h"

#define MAX_CONFIG_FILE		(1024 * 1024)

/* An environment variable, through the resolver's callback; "" is unset. */
const char *
aws_config_env(const aws_config *cfg, const char *name)
{
	const char *v = cfg->getenv_fn ? cfg->getenv_fn(cfg->getenv_arg, name) : NULL;

	return v && *v ? v : NULL;
}

/*
 * A setting of the selected profile in the config file: "[default]" (or
 * "[profile default]") for the default profile, "[profile NAME]" otherwise.
 */
const char *
aws_config_profile_value(const aws_config *cfg, const char *key)
{
	char		section[256];
	const char *v;

	snprintf(section, sizeof(section), "profile %s", cfg->profile);
	v = aws_ini_get(cfg->config, section, key);
	if (!v && strcmp(cfg->profile, "default") == 0)
		v = aws_ini_get(cfg->config, "default", key);
	return v && *v ? v : NULL;
}

/* Whether the selected profile is defined in either file. */
static bool
profile_exists(const aws_config *cfg)
{
	char		section[256];

	snprintf(section, sizeof(section), "profile %s", cfg->profile);
	return aws_ini_has_section(cfg->config, section) ||
		(strcmp(cfg->profile, "default") == 0 &&
		 aws_ini_has_section(cfg->config, "default")) ||
		aws_ini_has_section(cfg->credentials, cfg->profile);
}

/* A boolean setting: "true" in any case is on, anything else off. */
bool
aws_config_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

/* A positive integer setting; 0 and errors mean "not set". */
long
aws_config_positive(const char *v)
{
	char	   *end;
	long		n;

	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end != '\0' || n <= 0)
		return 0;
	return n;
}

/*
 * Resolve the configuration from command-line options, the environment
 * (through env) and the texts of the config and credentials files (either
 * may be NULL). Pure: no I/O. On success *out must be freed with
 * aws_config_free.
 */
int
aws_config_resolve(const aws_options *opts, aws_getenv_fn env, void *envarg,
				   const char *config_text, size_t config_len,
				   const char *cred_text, size_t cred_len,
				   aws_config *out, pgr_error *err)
{
	aws_config	cfg;
	const char *v;
	static const aws_options no_opts;

	memset(&cfg, 0, sizeof(cfg));
	if (!opts)
		opts = &no_opts;
	cfg.getenv_fn = env;
	cfg.getenv_arg = envarg;
	for (int i = 0; i < AWS_NSERVICES; i++)
		cfg.cli_endpoint[i] = opts->endpoint_url[i] && *opts->endpoint_url[i] ?
			opts->endpoint_url[i] : NULL;
	cfg.verbose = opts->verbose;

	if (config_text && aws_ini_parse(config_text, config_len, &cfg.config, err) != 0)
	{
		pgr_error_prefix(err, "could not parse the AWS config file: ");
		pgr_error_hint(err, "Fix the file named by AWS_CONFIG_FILE (default ~/.aws/config).");
		goto fail;
	}
	if (cred_text && aws_ini_parse(cred_text, cred_len, &cfg.credentials, err) != 0)
	{
		pgr_error_prefix(err, "could not parse the AWS credentials file: ");
		pgr_error_hint(err, "Fix the file named by AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials).");
		goto fail;
	}

	/* profile */
	if (opts->profile && *opts->profile)
	{
		cfg.profile = strdup(opts->profile);
		cfg.profile_explicit = true;
	}
	else if ((v = aws_config_env(&cfg, "AWS_PROFILE")) ||
			 (v = aws_config_env(&cfg, "AWS_DEFAULT_PROFILE")))
		cfg.profile = strdup(v);
	else
		cfg.profile = strdup("default");
	if (!cfg.profile)
		goto oom;
	if (strcmp(cfg.profile, "default") != 0 && !profile_exists(&cfg))
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "the config profile \"%s\" could not be found", cfg.profile);
		pgr_error_hint(err, "Define [profile %s] in the AWS config file or [%s] in the credentials file, or choose another profile.",
					   cfg.profile, cfg.profile);
		goto fail;
	}

	/* region */
	if (opts->region && *opts->region)
	{
		cfg.region = strdup(opts->region);
		cfg.region_source = "--region";
	}
	else if ((v = aws_config_env(&cfg, "AWS_REGION")))
	{
		cfg.region = strdup(v);
		cfg.region_source = "AWS_REGION";
	}
	else if ((v = aws_config_env(&cfg, "AWS_DEFAULT_REGION")))
	{
		cfg.region = strdup(v);
		cfg.region_source = "AWS_DEFAULT_REGION";
	}
	else if ((v = aws_config_profile_value(&cfg, "region")))
	{
		cfg.region = strdup(v);
		cfg.region_source = "profile";
	}
	if (cfg.region_source && !cfg.region)
		goto oom;
	if (cfg.region)
	{
		for (const char *p = cfg.region; *p; p++)
			if (!isalnum((unsigned char) *p) && *p != '-')
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid region \"%s\" (from %s)",
							  cfg.region, cfg.region_source);
				pgr_error_hint(err, "A region looks like \"us-east-1\".");
				goto fail;
			}
	}

	/* retries, TLS, timeouts */
	cfg.max_attempts = opts->max_attempts;
	if (cfg.max_attempts <= 0)
		cfg.max_attempts = (int) aws_config_positive(aws_config_env(&cfg, "AWS_MAX_ATTEMPTS"));
	if (cfg.max_attempts <= 0)
		cfg.max_attempts = (int) aws_config_positive(aws_config_profile_value(&cfg, "max_attempts"));
	v = opts->ca_bundle && *opts->ca_bundle ? opts->ca_bundle :
		aws_config_env(&cfg, "AWS_CA_BUNDLE");
	if (!v)
		v = aws_config_profile_value(&cfg, "ca_bundle");
	if (v && !(cfg.ca_bundle = strdup(v)))
		goto oom;
	cfg.connect_timeout_ms = opts->connect_timeout_ms;
	cfg.timeout_ms = opts->timeout_ms;

	*out = cfg;
	return 0;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
fail:
	aws_config_free(&cfg);
	return -1;
}

static const char *
real_getenv(void *arg, const char *name)
{
	(void) arg;
	return getenv(name);
}

/* "~/x" against $HOME. Returns malloc'd. */
static char *
expand_home(const char *path)
{
	const char *home = getenv("HOME");
	pgr_buf		b;

	if (path[0] != '~' || path[1] != '/' || !home)
		return strdup(path);
	pgr_buf_init(&b, 0);
	pgr_buf_printf(&b, "%s%s", home, path + 1);
	return pgr_buf_detach(&b);
}

/*
 * Resolve the configuration from the real environment and files
 * (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, defaults under ~/.aws).
 */
int
aws_config_load(const aws_options *opts, aws_config *out, pgr_error *err)
{
	const char *cpath = getenv("AWS_CONFIG_FILE");
	const char *kpath = getenv("AWS_SHARED_CREDENTIALS_FILE");
	char	   *cfile = expand_home(cpath && *cpath ? cpath : "~/.aws/config");
	char	   *kfile = expand_home(kpath && *kpath ? kpath : "~/.aws/credentials");
	pgr_buf		ctext,
				ktext;
	int			crc = -1,
				krc = -1,
				rc = -1;

	pgr_buf_init(&ctext, 0);
	pgr_buf_init(&ktext, 0);
	if (!cfile || !kfile)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	if ((crc = pgr_read_file(cfile, MAX_CONFIG_FILE, "AWS config file", &ctext, err)) < 0 ||
		(krc = pgr_read_file(kfile, MAX_CONFIG_FILE, "AWS credentials file", &ktext, err)) < 0)
		goto done;
	rc = aws_config_resolve(opts, real_getenv, NULL,
							crc > 0 ? ctext.data : NULL, ctext.len,
							krc > 0 ? ktext.data : NULL, ktext.len, out, err);
done:
	pgr_buf_free(&ctext);
	pgr_buf_free(&ktext);
	free(cfile);
	free(kfile);
	return rc;
}

void
aws_config_free(aws_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->profile);
	free(cfg->region);
	free(cfg->ca_bundle);
	aws_ini_free(cfg->config);
	aws_ini_free(cfg->credentials);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * A configured endpoint for svc, in the CLI's order (aws_config.h), or NULL;
 * *source says where it came from.
 */
static const char *
configured_endpoint(const aws_config *cfg, const aws_service *svc, const char **source)
{
	char		name[128];
	const char *v;
	const char *services;

	if (cfg->cli_endpoint[svc->id])
	{
		*source = svc->cli_option ? svc->cli_option : "the command line";
		return cfg->cli_endpoint[svc->id];
	}
	if (!aws_config_true(aws_config_env(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) &&
		!aws_config_true(aws_config_profile_value(cfg, "ignore_configured_endpoint_urls")))
	{
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", svc->env_id);
		if ((v = aws_config_env(cfg, name)))
		{
			*source = "AWS_ENDPOINT_URL_<SERVICE>";
			return v;
		}
		if ((v = aws_config_env(cfg, "AWS_ENDPOINT_URL")))
		{
			*source = "AWS_ENDPOINT_URL";
			return v;
		}
		if ((services = aws_config_profile_value(cfg, "services")))
		{
			char		section[256],
						key[128];

			snprintf(section, sizeof(section), "services %s", services);
			snprintf(key, sizeof(key), "%s.endpoint_url", svc->config_key);
			v = aws_ini_get(cfg->config, section, key);
			if (v && *v)
			{
				*source = "the profile's services section";
				return v;
			}
		}
		if ((v = aws_config_profile_value(cfg, "endpoint_url")))
		{
			*source = "the profile's endpoint_url";
			return v;
		}
	}
	if (svc->legacy_env && (v = aws_config_env(cfg, svc->legacy_env)))
	{
		*source = svc->legacy_env;
		return v;
	}
	return NULL;
}

/*
 * The endpoint of a service, in the CLI's order (aws_config.h). On success
 * out->url is malloc'd (the caller frees it).
 */
int
aws_config_endpoint(const aws_config *cfg, const aws_service *svc, aws_endpoint *out,
					pgr_error *err)
{
	const char *source = NULL;
	const char *v = configured_endpoint(cfg, svc, &source);
	pgr_buf		b;

	memset(out, 0, sizeof(*out));
	if (v)
	{
		out->url = strdup(v);
		out->explicit_url = true;
	}
	else if (!cfg->region && svc->global_endpoint)
	{
		out->url = strdup(svc->global_endpoint);
		source = "the global endpoint";
	}
	else if (!cfg->region)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "no AWS region is configured");
		pgr_error_hint(err, "Give --region, set AWS_REGION, or set \"region\" in the profile \"%s\".",
					   cfg->profile);
		return -1;
	}
	else
	{
		bool		fips = aws_config_true(aws_config_env(cfg, "AWS_USE_FIPS_ENDPOINT")) ||
			aws_config_true(aws_config_profile_value(cfg, "use_fips_endpoint"));
		bool		dual = aws_config_true(aws_config_env(cfg, "AWS_USE_DUALSTACK_ENDPOINT")) ||
			aws_config_true(aws_config_profile_value(cfg, "use_dualstack_endpoint"));
		bool		china = strncmp(cfg->region, "cn-", 3) == 0;

		pgr_buf_init(&b, 0);
		pgr_buf_printf(&b, "https://%s%s.%s.%s", svc->host_prefix, fips ? "-fips" : "",
					   cfg->region, dual ? "api.aws" : china ? "amazonaws.com.cn" : "amazonaws.com");
		out->url = pgr_buf_detach(&b);
		source = fips ? "the regional FIPS endpoint" : "the regional endpoint";
	}
	if (!out->url)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	out->source = source;
	return 0;
}
