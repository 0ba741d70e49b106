/*-------------------------------------------------------------------------
 *
 * aws_config.h
 *	  AWS configuration as the AWS CLI resolves it: profiles, region,
 *	  endpoints, retry and TLS settings, and the credential provider chain.
 *
 * Resolution order (first that is set wins):
 *	 profile	--profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default"
 *	 region		--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region
 *	 endpoint	--endpoint-url, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 *				the profile's [services] section, its endpoint_url, the
 *				rotation templates' <SERVICE>_ENDPOINT, else the regional
 *				https endpoint (FIPS / dual-stack variants when asked)
 *	 credentials environment (skipped with --profile), web identity
 *				(AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile),
 *				shared credentials file, credential_process, config file,
 *				container credentials, EC2 instance metadata (IMDSv2)
 *
 * The parsing and resolution core (aws_ini_parse, aws_config_resolve) does
 * no I/O: the environment is read through a callback and the files' text is
 * passed in. aws_config_load reads the real environment and files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_AWS_CONFIG_H
#define PGR_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "http.h"

typedef struct aws_ini aws_ini;

/* Reads one environment variable; NULL when unset. */
typedef const char *(*aws_getenv_fn) (void *arg, const char *name);

/* What the command line said; NULL / 0 for "not given". */
typedef struct aws_cli_options
{
	const char *region;
	const char *endpoint_url;
	const char *profile;
	const char *ca_bundle;
	long		connect_timeout_ms;
	long		timeout_ms;
	int			max_attempts;
	bool		verbose;
} aws_cli_options;

/* One AWS service's names for endpoint resolution. */
typedef struct aws_service
{
	const char *env_id;			/* "SECRETS_MANAGER": AWS_ENDPOINT_URL_<env_id> */
	const char *config_key;		/* "secretsmanager": key in [services x] */
	const char *host_prefix;	/* "secretsmanager": <prefix>.<region>.amazonaws.com */
	const char *legacy_env;		/* "SECRETS_MANAGER_ENDPOINT", or NULL */
} aws_service;

extern const aws_service aws_service_secretsmanager;
extern const aws_service aws_service_sts;

typedef struct aws_config
{
	char	   *profile;
	bool		profile_explicit;	/* --profile given: env credentials skipped */
	char	   *region;			/* NULL if none could be found */
	const char *region_source;	/* "--region", "AWS_REGION", ... */
	char	   *ca_bundle;
	int			max_attempts;
	long		connect_timeout_ms;
	long		timeout_ms;
	bool		verbose;
	const char *cli_endpoint;	/* --endpoint-url, borrowed */
	aws_ini    *config;			/* the config file, parsed (owned) */
	aws_ini    *credentials;	/* the shared credentials file (owned) */
	aws_getenv_fn getenv_fn;
	void	   *getenv_arg;
} aws_config;

typedef struct aws_credentials
{
	char	   *access_key_id;
	char	   *secret_access_key;	/* secret: wiped on free */
	char	   *session_token;	/* secret, may be NULL */
	time_t		expiration;		/* 0: does not expire */
	char		source[64];		/* "environment", "profile app", ... */
} aws_credentials;

/* INI files (~/.aws/config, ~/.aws/credentials) */
extern int	aws_ini_parse(const char *text, size_t len, aws_ini **out, pgr_error *err);
extern const char *aws_ini_get(const aws_ini *ini, const char *section, const char *key);
extern bool aws_ini_has_section(const aws_ini *ini, const char *section);
extern void aws_ini_free(aws_ini *ini);

/* Configuration */
extern int	aws_config_resolve(const aws_cli_options *opts, aws_getenv_fn env,
							   void *envarg, const char *config_text, size_t config_len,
							   const char *cred_text, size_t cred_len,
							   aws_config *out, pgr_error *err);
extern int	aws_config_load(const aws_cli_options *opts, aws_config *out, pgr_error *err);
extern void aws_config_free(aws_config *cfg);
extern const char *aws_config_env(const aws_config *cfg, const char *name);
extern const char *aws_config_profile_value(const aws_config *cfg, const char *key);
extern int	aws_config_endpoint(const aws_config *cfg, const aws_service *svc,
								char **url, bool *explicit_url, const char **source,
								pgr_error *err);
extern void aws_config_http_options(const aws_config *cfg, http_options *opts);

/* Credentials */
extern int	aws_credentials_resolve(const aws_config *cfg, http_client *http,
									aws_credentials *out, pgr_error *err);
extern bool aws_credentials_expiring(const aws_credentials *cred, time_t now,
									 int margin_seconds);
extern void aws_credentials_free(aws_credentials *cred);
extern int	aws_parse_iso8601(const char *s, time_t *out);
extern char *aws_xml_text(const char *doc, const char *tag);

#endif							/* PGR_AWS_CONFIG_H */
