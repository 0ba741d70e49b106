/*-------------------------------------------------------------------------
 *
 * fuzz_aws_config.c
 *	  libFuzzer target: the AWS config and credentials file parser
 *	  (aws_ini_parse) and configuration resolution (aws_config_resolve,
 *	  aws_config_endpoint for every service) with a fake environment.
 *
 * Input: up to four parts separated by 0x1E (ASCII record separator):
 * the config file's text, the credentials file's text, the environment as
 * "NAME=value" lines, and command-line options as "profile=", "region=",
 * "endpoint=" lines. Missing parts are absent (NULL file, empty
 * environment, no options).
 *
 * Properties: parsing either file never crashes or leaks; a resolved
 * configuration has a profile, a region made of letters, digits and '-'
 * (or none), no negative attempt count, and for each service an endpoint
 * URL whenever a region, an explicit endpoint or a global endpoint exists;
 * a derived endpoint is https; resolving twice gives the same answer.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_config.h"
#include "aws_credentials.h"
#include "buf.h"

#define MAX_ENV 32

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fake_env
{
	char	   *names[MAX_ENV];
	char	   *values[MAX_ENV];
	int			n;
} fake_env;

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_aws_config: property violated: %s\n", what);
		abort();
	}
}

static const char *
fake_getenv(void *arg, const char *name)
{
	fake_env   *env = arg;

	for (int i = env->n - 1; i >= 0; i--)
		if (strcmp(env->names[i], name) == 0)
			return env->values[i];
	return NULL;
}

/* Split "NAME=value" lines of text (NUL-terminated) in place into env. */
static void
parse_env(char *text, fake_env *env)
{
	for (char *line = text; line && *line && env->n < MAX_ENV;)
	{
		char	   *nl = strchr(line, '\n');
		char	   *eq;

		if (nl)
			*nl++ = '\0';
		eq = strchr(line, '=');
		if (eq)
		{
			*eq = '\0';
			env->names[env->n] = line;
			env->values[env->n] = eq + 1;
			env->n++;
		}
		line = nl;
	}
}

/* "profile=", "region=", "endpoint=", "sts=", "ca=" lines into opts (borrowing text). */
static void
parse_options(char *text, aws_options *opts)
{
	for (char *line = text; line && *line;)
	{
		char	   *nl = strchr(line, '\n');

		if (nl)
			*nl++ = '\0';
		if (strncmp(line, "profile=", 8) == 0)
			opts->profile = line + 8;
		else if (strncmp(line, "region=", 7) == 0)
			opts->region = line + 7;
		else if (strncmp(line, "endpoint=", 9) == 0)
			opts->endpoint_url[AWS_SECRETS_MANAGER] = line + 9;
		else if (strncmp(line, "sts=", 4) == 0)
			opts->endpoint_url[AWS_STS] = line + 4;
		else if (strncmp(line, "ca=", 3) == 0)
			opts->ca_bundle = line + 3;
		line = nl;
	}
}

static void
parse_one_file(const char *text, size_t len)
{
	aws_ini    *ini = NULL;
	pgr_error	err;

	pgr_error_clear(&err);
	if (aws_ini_parse(text, len, &ini, &err) != 0)
	{
		check(err.message[0] != '\0', "a failure has a message");
		return;
	}
	(void) aws_ini_get(ini, "default", "region");
	(void) aws_ini_get(ini, "profile default", "aws_secret_access_key");
	(void) aws_ini_has_section(ini, "default");
	aws_ini_free(ini);
}

/*
 * Resolve the configuration and every service's endpoint; returns the
 * endpoints' URLs joined, to compare two resolutions.
 */
static char *
resolve(const aws_options *opts, fake_env *env, const char *config, size_t config_len,
		const char *cred, size_t cred_len)
{
	aws_config	cfg;
	pgr_error	err;
	pgr_buf		urls;

	pgr_error_clear(&err);
	if (aws_config_resolve(opts, fake_getenv, env, config, config_len, cred, cred_len,
						   &cfg, &err) != 0)
	{
		check(err.message[0] != '\0', "a failure has a message");
		return NULL;
	}
	check(cfg.profile != NULL, "a profile is chosen");
	check(cfg.max_attempts >= 0, "no negative attempts");
	if (cfg.region)
		for (const char *p = cfg.region; *p; p++)
			check((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  (*p >= '0' && *p <= '9') || *p == '-', "region characters");
	(void) aws_config_profile_value(&cfg, "region");
	pgr_buf_init(&urls, 0);
	for (int id = 0; id < AWS_NSERVICES; id++)
	{
		const aws_service *svc = aws_service_get((aws_service_id) id);
		aws_endpoint e;

		pgr_error_clear(&err);
		if (aws_config_endpoint(&cfg, svc, &e, &err) == 0)
		{
			check(e.url != NULL && e.source != NULL, "an endpoint and its source");
			check(e.explicit_url || strncmp(e.url, "https://", 8) == 0,
				  "a derived endpoint is https");
			pgr_buf_printf(&urls, "%s\n", e.url);
			free(e.url);
		}
		else
			check(cfg.region == NULL && !cfg.cli_endpoint[id] && !svc->global_endpoint,
				  "an endpoint fails only without a region");
	}
	aws_config_free(&cfg);
	return pgr_buf_detach(&urls);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size + 1);
	char	   *part[4] = {NULL, NULL, NULL, NULL};
	size_t		partlen[4] = {0, 0, 0, 0};
	int			nparts = 0;
	size_t		start = 0;
	fake_env	env;
	aws_options opts;
	char	   *url1,
			   *url2;
	time_t		t;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && nparts < 4; i++)
	{
		if (i == size || copy[i] == '\x1e')
		{
			copy[i] = '\0';
			part[nparts] = copy + start;
			partlen[nparts] = i - start;
			nparts++;
			start = i + 1;
		}
	}

	/* the raw parser, on every part, with its exact length (NULs included) */
	for (int i = 0; i < nparts; i++)
		parse_one_file(part[i], partlen[i]);
	(void) aws_parse_iso8601(part[0], &t);

	memset(&env, 0, sizeof(env));
	memset(&opts, 0, sizeof(opts));
	if (part[2])
		parse_env(part[2], &env);
	if (part[3])
		parse_options(part[3], &opts);

	url1 = resolve(&opts, &env, part[0], partlen[0], part[1], partlen[1]);
	url2 = resolve(&opts, &env, part[0], partlen[0], part[1], partlen[1]);
	check((url1 == NULL) == (url2 == NULL), "resolution is deterministic");
	if (url1 && url2)
		check(strcmp(url1, url2) == 0, "endpoint is deterministic");
	free(url1);
	free(url2);
	free(copy);
	return 0;
}
