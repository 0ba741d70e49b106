/*-------------------------------------------------------------------------
 *
 * aws_config.h
 *	  AWS configuration as the AWS CLI resolves it: the profile, the
 *	  region, retry and TLS settings, and each service's endpoint.
 *
 * Resolution order (first that is set wins):
 *	 profile	--profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default"
 *	 region		--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region
 *	 endpoint	the service's option (--endpoint-url for Secrets Manager),
 *				AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
 *				[services] section, its endpoint_url, the service's older
 *				variable (SECRETS_MANAGER_ENDPOINT), else the regional https
 *				endpoint (FIPS / dual-stack variants when asked), or the
 *				service's global one when no region is set
 *
 * The core (aws_config_resolve, aws_config_endpoint) does no I/O: the
 * environment is read through a callback and the files' text is passed in.
 * aws_config_load reads the real environment and files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_CONFIG_H
#define PGR_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_ini.h"
#include "aws_options.h"
#include "aws_services.h"
#include "error.h"

/* Reads one environment variable; NULL when unset. */
typedef const char *(*aws_getenv_fn) (void *arg, const char *name);

typedef struct aws_config
{
	char	   *profile;
	bool		profile_explicit;	/* --profile given: env credentials skipped */
	char	   *region;			/* NULL if none could be found */
	const char *region_source;	/* "--region", "AWS_REGION", ... */
	char	   *ca_bundle;
	int			max_attempts;	/* 0: the HTTP layer's default */
	long		connect_timeout_ms;
	long		timeout_ms;
	bool		verbose;
	const char *cli_endpoint[AWS_NSERVICES];	/* from the options, borrowed */
	aws_ini    *config;			/* the config file, parsed (owned) */
	aws_ini    *credentials;	/* the shared credentials file (owned) */
	aws_getenv_fn getenv_fn;
	void	   *getenv_arg;
} aws_config;

/* Where a service's requests go. */
typedef struct aws_endpoint
{
	char	   *url;			/* malloc'd */
	bool		explicit_url;	/* configured by the user: plain http allowed */
	const char *source;			/* "--endpoint-url", "AWS_ENDPOINT_URL", ... */
} aws_endpoint;

extern int	aws_config_resolve(const aws_options *opts, aws_getenv_fn env,
							   void *envarg, const char *config_text, size_t config_len,
							   const char *cred_text, size_t cred_len,
							   aws_config *out, pgr_error *err);
extern int	aws_config_load(const aws_options *opts, aws_config *out, pgr_error *err);
extern void aws_config_free(aws_config *cfg);
extern const char *aws_config_env(const aws_config *cfg, const char *name);
extern const char *aws_config_profile_value(const aws_config *cfg, const char *key);
extern bool aws_config_true(const char *value);
extern long aws_config_positive(const char *value);
extern int	aws_config_endpoint(const aws_config *cfg, const aws_service *svc,
								aws_endpoint *out, pgr_error *err);

#endif							/* PGR_AWS_CONFIG_H */
