/*-------------------------------------------------------------------------
 *
 * aws_config.c
 *	  Profiles, region, endpoints and the credential provider chain,
 *	  resolved in the AWS CLI's order (see aws_config.h).
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "aws_config.h"
#include "buf.h"
#include "log.h"

#define MAX_CONFIG_FILE		(1024 * 1024)
#define MAX_PROCESS_OUTPUT	(64 * 1024)
#define MAX_TOKEN_FILE		(64 * 1024)

const aws_service aws_service_secretsmanager = {
	"SECRETS_MANAGER", "secretsmanager", "secretsmanager", "SECRETS_MANAGER_ENDPOINT"
};
const aws_service aws_service_sts = {"STS", "sts", "sts", NULL};

/* ----------------------------------------------------------------------
 * INI files
 * ---------------------------------------------------------------------- */

typedef struct ini_entry
{
	char	   *section;
	char	   *key;			/* lowercase; "parent.child" when nested */
	char	   *value;			/* may be a secret: wiped on free */
} ini_entry;

struct aws_ini
{
	ini_entry  *entries;
	size_t		n;
	size_t		cap;
};

static char *
trim_dup(const char *s, size_t len)
{
	while (len && isspace((unsigned char) *s))
	{
		s++;
		len--;
	}
	while (len && isspace((unsigned char) s[len - 1]))
		len--;
	return strndup(s, len);
}

static bool
ini_add(aws_ini *ini, const char *section, const char *key, const char *value)
{
	ini_entry  *e;

	/* a later duplicate key overrides the earlier one, as in configparser */
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
		{
			char	   *v = strdup(value);

			if (!v)
				return false;
			pgr_free_secret(ini->entries[i].value);
			ini->entries[i].value = v;
			return true;
		}
	if (ini->n == ini->cap)
	{
		size_t		ncap = ini->cap ? ini->cap * 2 : 16;
		ini_entry  *ne = calloc(ncap, sizeof(*ne));

		if (!ne)
			return false;
		if (ini->entries)
			memcpy(ne, ini->entries, ini->n * sizeof(*ne));
		free(ini->entries);
		ini->entries = ne;
		ini->cap = ncap;
	}
	e = &ini->entries[ini->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	if (!e->section || !e->key || !e->value)
	{
		free(e->section);
		free(e->key);
		free(e->value);
		return false;
	}
	for (char *p = e->key; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	ini->n++;
	return true;
}

/*
 * Parse the AWS config/credentials file format: "[section]" headers,
 * "key = value" lines, full-line comments starting with '#' or ';', and
 * nested settings (a key with an empty value followed by indented
 * "sub = value" lines, stored as "key.sub"). Returns 0, or -1 with the line
 * number of the first malformed line.
 */
int
aws_ini_parse(const char *text, size_t len, aws_ini **out, pgr_error *err)
{
	aws_ini    *ini = calloc(1, sizeof(*ini));
	char	   *section = NULL;
	char	   *parent = NULL;
	size_t		pos = 0;
	int			lineno = 0;

	if (!ini)
		goto oom;
	while (pos < len)
	{
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		llen = nl ? (size_t) (nl - line) : len - pos;
		bool		indented = llen > 0 && (line[0] == ' ' || line[0] == '\t');
		char	   *t;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		t = trim_dup(line, llen);
		if (!t)
			goto oom;
		/* every line is wiped: a comment may hold a commented-out key */
		if (t[0] == '\0' || t[0] == '#' || t[0] == ';')
		{
			pgr_free_secret(t);
			continue;
		}
		if (t[0] == '[' && !indented)
		{
			size_t		tl = strlen(t);

			if (t[tl - 1] != ']')
			{
				pgr_free_secret(t);
				pgr_error_set(err, PGR_ERR_INPUT, NULL,
							  "malformed section header on line %d", lineno);
				goto fail;
			}
			free(section);
			section = trim_dup(t + 1, tl - 2);
			free(parent);
			parent = NULL;
			pgr_free_secret(t);
			if (!section)
				goto oom;
			continue;
		}
		{
			char	   *eq = strchr(t, '=');
			char	   *key,
					   *value;
			bool		ok;

			if (!eq || !section)
			{
				pgr_free_secret(t);
				pgr_error_set(err, PGR_ERR_INPUT, NULL, section ?
							  "line %d is not \"key = value\"" :
							  "line %d comes before any [section]", lineno);
				goto fail;
			}
			key = trim_dup(t, (size_t) (eq - t));
			value = trim_dup(eq + 1, strlen(eq + 1));
			if (!key || !value)
			{
				free(key);
				pgr_free_secret(value);
				pgr_free_secret(t);
				goto oom;
			}
			if (indented && parent)
			{
				pgr_buf		full;

				pgr_buf_init(&full, 0);
				ok = pgr_buf_printf(&full, "%s.%s", parent, key) &&
					ini_add(ini, section, full.data, value);
				pgr_buf_free(&full);
			}
			else
			{
				free(parent);
				parent = value[0] == '\0' ? strdup(key) : NULL;
				ok = ini_add(ini, section, key, value);
			}
			free(key);
			pgr_free_secret(value);
			pgr_free_secret(t);
			if (!ok)
				goto oom;
		}
	}
	free(section);
	free(parent);
	*out = ini;
	return 0;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
fail:
	free(section);
	free(parent);
	aws_ini_free(ini);
	return -1;
}

/* A value, or NULL when the section or the key is absent. */
const char *
aws_ini_get(const aws_ini *ini, const char *section, const char *key)
{
	if (!ini || !section)
		return NULL;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcasecmp(ini->entries[i].key, key) == 0)
			return ini->entries[i].value;
	return NULL;
}

bool
aws_ini_has_section(const aws_ini *ini, const char *section)
{
	if (!ini)
		return false;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0)
			return true;
	return false;
}

/* Free a parsed file; values are wiped (they may be secret keys). */
void
aws_ini_free(aws_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++)
	{
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		pgr_free_secret(ini->entries[i].value);
	}
	free(ini->entries);
	free(ini);
}

/* ----------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------- */

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

static bool
is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

/* Parse a positive integer setting; 0 and errors mean "not set". */
static long
parse_positive(const char *v)
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
aws_config_resolve(const aws_cli_options *opts, aws_getenv_fn env, void *envarg,
				   const char *config_text, size_t config_len,
				   const char *cred_text, size_t cred_len,
				   aws_config *out, pgr_error *err)
{
	aws_config	cfg;
	const char *v;
	static const aws_cli_options no_opts;

	memset(&cfg, 0, sizeof(cfg));
	if (!opts)
		opts = &no_opts;
	cfg.getenv_fn = env;
	cfg.getenv_arg = envarg;
	cfg.cli_endpoint = opts->endpoint_url && *opts->endpoint_url ? opts->endpoint_url : NULL;
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
		cfg.max_attempts = (int) parse_positive(aws_config_env(&cfg, "AWS_MAX_ATTEMPTS"));
	if (cfg.max_attempts <= 0)
		cfg.max_attempts = (int) parse_positive(aws_config_profile_value(&cfg, "max_attempts"));
	if (cfg.max_attempts <= 0)
		cfg.max_attempts = HTTP_DEFAULT_MAX_ATTEMPTS;
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

/*
 * Read a file of at most "limit" bytes into a wiped-on-free buffer.
 * Returns 1 if read, 0 if it does not exist, -1 on error (err filled).
 */
static int
read_file(const char *path, size_t limit, pgr_buf *out, const char *what, pgr_error *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	char		chunk[4096];
	ssize_t		n;

	pgr_buf_init(out, limit);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return 0;
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "could not open %s \"%s\": %s",
					  what, path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
	{
		if (!pgr_buf_append(out, chunk, (size_t) n))
		{
			pgr_wipe(chunk, sizeof(chunk));
			close(fd);
			pgr_error_set(err, PGR_ERR_INPUT, NULL, "%s \"%s\" is too large (limit %zu bytes)",
						  what, path, limit);
			pgr_buf_free(out);
			return -1;
		}
	}
	pgr_wipe(chunk, sizeof(chunk));
	if (n < 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "could not read %s \"%s\": %s",
					  what, path, strerror(errno));
		close(fd);
		pgr_buf_free(out);
		return -1;
	}
	close(fd);
	if (!out->data && !pgr_buf_append(out, "", 0))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	return 1;
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
aws_config_load(const aws_cli_options *opts, aws_config *out, pgr_error *err)
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
	if ((crc = read_file(cfile, MAX_CONFIG_FILE, &ctext, "AWS config file", err)) < 0 ||
		(krc = read_file(kfile, MAX_CONFIG_FILE, &ktext, "AWS credentials file", err)) < 0)
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

/* The HTTP options the configuration implies. */
void
aws_config_http_options(const aws_config *cfg, http_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->connect_timeout_ms = cfg->connect_timeout_ms;
	opts->timeout_ms = cfg->timeout_ms;
	opts->max_attempts = cfg->max_attempts;
	opts->ca_bundle = cfg->ca_bundle;
	opts->verbose = cfg->verbose;
}

/*
 * The endpoint URL for a service, in the CLI's order (aws_config.h). Sets
 * *explicit_url when the user configured it (then plain http is allowed)
 * and *source to where it came from. The URL is malloc'd.
 */
int
aws_config_endpoint(const aws_config *cfg, const aws_service *svc, char **url,
					bool *explicit_url, const char **source, pgr_error *err)
{
	char		name[128];
	const char *v = NULL;
	const char *src = NULL;
	bool		ignore_configured;
	pgr_buf		b;

	ignore_configured = is_true(aws_config_env(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
		is_true(aws_config_profile_value(cfg, "ignore_configured_endpoint_urls"));

	if (svc == &aws_service_secretsmanager && cfg->cli_endpoint)
	{
		v = cfg->cli_endpoint;
		src = "--endpoint-url";
	}
	if (!v && !ignore_configured)
	{
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", svc->env_id);
		if ((v = aws_config_env(cfg, name)))
			src = "AWS_ENDPOINT_URL_<SERVICE>";
		else if ((v = aws_config_env(cfg, "AWS_ENDPOINT_URL")))
			src = "AWS_ENDPOINT_URL";
		else
		{
			const char *services = aws_config_profile_value(cfg, "services");

			if (services)
			{
				char		section[256],
							key[128];

				snprintf(section, sizeof(section), "services %s", services);
				snprintf(key, sizeof(key), "%s.endpoint_url", svc->config_key);
				v = aws_ini_get(cfg->config, section, key);
				if (v && *v)
					src = "the profile's services section";
				else
					v = NULL;
			}
			if (!v && (v = aws_config_profile_value(cfg, "endpoint_url")))
				src = "the profile's endpoint_url";
		}
	}
	if (!v && svc->legacy_env && (v = aws_config_env(cfg, svc->legacy_env)))
		src = svc->legacy_env;

	if (v)
	{
		*url = strdup(v);
		*explicit_url = true;
	}
	else
	{
		const char *region = cfg->region;
		bool		fips = is_true(aws_config_env(cfg, "AWS_USE_FIPS_ENDPOINT")) ||
			is_true(aws_config_profile_value(cfg, "use_fips_endpoint"));
		bool		dual = is_true(aws_config_env(cfg, "AWS_USE_DUALSTACK_ENDPOINT")) ||
			is_true(aws_config_profile_value(cfg, "use_dualstack_endpoint"));
		bool		china;

		if (!region)
		{
			if (svc == &aws_service_sts)
			{
				*url = strdup("https://sts.amazonaws.com");
				*explicit_url = false;
				*source = "the global STS endpoint";
				return *url ? 0 : -1;
			}
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "no AWS region is configured");
			pgr_error_hint(err, "Give --region, set AWS_REGION, or set \"region\" in the profile \"%s\".",
						   cfg->profile);
			return -1;
		}
		china = strncmp(region, "cn-", 3) == 0;
		pgr_buf_init(&b, 0);
		pgr_buf_printf(&b, "https://%s%s.%s.%s", svc->host_prefix, fips ? "-fips" : "",
					   region, dual ? "api.aws" : china ? "amazonaws.com.cn" : "amazonaws.com");
		*url = pgr_buf_detach(&b);
		*explicit_url = false;
		src = fips ? "the regional FIPS endpoint" : "the regional endpoint";
	}
	if (!*url)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	*source = src;
	return 0;
}

/* ----------------------------------------------------------------------
 * Credentials
 * ---------------------------------------------------------------------- */

void
aws_credentials_free(aws_credentials *cred)
{
	if (!cred)
		return;
	free(cred->access_key_id);
	pgr_free_secret(cred->secret_access_key);
	pgr_free_secret(cred->session_token);
	memset(cred, 0, sizeof(*cred));
}

/* True when the credentials expire within margin_seconds of now. */
bool
aws_credentials_expiring(const aws_credentials *cred, time_t now, int margin_seconds)
{
	return cred->expiration != 0 && cred->expiration - margin_seconds <= now;
}

/*
 * Parse "2024-01-31T12:00:00Z" (fractions of a second and "+00:00" are
 * accepted) as UTC. Returns 0, or -1 if malformed.
 */
int
aws_parse_iso8601(const char *s, time_t *out)
{
	struct tm	tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		for (end++; isdigit((unsigned char) *end); end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0 && *end != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Fill out from copies of the three values (secret ones are wiped later). */
static int
set_credentials(aws_credentials *out, const char *akid, const char *secret,
				const char *token, time_t expiration, const char *source,
				pgr_error *err)
{
	aws_credentials c;

	memset(&c, 0, sizeof(c));
	c.access_key_id = strdup(akid);
	c.secret_access_key = strdup(secret);
	c.session_token = token && *token ? strdup(token) : NULL;
	c.expiration = expiration;
	snprintf(c.source, sizeof(c.source), "%s", source);
	if (!c.access_key_id || !c.secret_access_key || (token && *token && !c.session_token))
	{
		aws_credentials_free(&c);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	*out = c;
	return 0;
}

/*
 * Credentials from a JSON document as the container endpoint, IMDS and
 * credential_process return them. token_key is "Token" or "SessionToken".
 */
static int
credentials_from_json(const char *body, size_t len, const char *token_key,
					  bool version_1, const char *source, aws_credentials *out,
					  pgr_error *err)
{
	json_tokener *tok = json_tokener_new();
	json_object *doc = NULL;
	json_object *akid,
			   *secret,
			   *token = NULL,
			   *exp = NULL;
	time_t		expiration = 0;
	int			rc = -1;

	/*
	 * Size the tokenizer's buffer, which holds each string while it is
	 * parsed, to the input once: it is then never reallocated (which would
	 * leave copies of the secret key in freed memory) and is wiped below.
	 */
	if (!tok || printbuf_memset(tok->pb, 0, 0, (int) len + 1) < 0)
	{
		if (tok)
			json_tokener_free(tok);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	printbuf_reset(tok->pb);
	doc = json_tokener_parse_ex(tok, body, (int) len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success ||
		!json_object_is_type(doc, json_type_object))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "credentials from %s are not a JSON object",
					  source);
		goto done;
	}
	/* credential_process output must say "Version": 1 */
	if (version_1 && (!json_object_object_get_ex(doc, "Version", &exp) ||
					  json_object_get_int(exp) != 1))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "%s did not print a JSON object with \"Version\": 1", source);
		goto done;
	}
	exp = NULL;
	if (!json_object_object_get_ex(doc, "AccessKeyId", &akid) ||
		!json_object_is_type(akid, json_type_string) ||
		!json_object_object_get_ex(doc, "SecretAccessKey", &secret) ||
		!json_object_is_type(secret, json_type_string))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "credentials from %s lack AccessKeyId or SecretAccessKey", source);
		goto done;
	}
	json_object_object_get_ex(doc, token_key, &token);
	if (json_object_object_get_ex(doc, "Expiration", &exp) &&
		json_object_is_type(exp, json_type_string) &&
		aws_parse_iso8601(json_object_get_string(exp), &expiration) != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "credentials from %s have a malformed Expiration", source);
		goto done;
	}
	rc = set_credentials(out, json_object_get_string(akid), json_object_get_string(secret),
						 token && json_object_is_type(token, json_type_string) ?
						 json_object_get_string(token) : NULL, expiration, source, err);
done:
	if (doc)
	{
		/* wipe the secret strings json-c holds before they are freed */
		if (json_object_object_get_ex(doc, "SecretAccessKey", &secret) &&
			json_object_is_type(secret, json_type_string))
			pgr_wipe((char *) json_object_get_string(secret),
					 (size_t) json_object_get_string_len(secret));
		if (json_object_object_get_ex(doc, token_key, &token) &&
			json_object_is_type(token, json_type_string))
			pgr_wipe((char *) json_object_get_string(token),
					 (size_t) json_object_get_string_len(token));
		json_object_put(doc);
	}
	if (tok->pb && tok->pb->buf)
		pgr_wipe(tok->pb->buf, (size_t) tok->pb->size);
	json_tokener_free(tok);
	return rc;
}

/*
 * Split a command line like a POSIX shell's word splitting with quotes and
 * backslashes (as botocore's shlex does for credential_process). Returns a
 * NULL-terminated argv of malloc'd strings, or NULL on bad quoting.
 */
static char **
split_command(const char *cmd)
{
	size_t		max = strlen(cmd) / 2 + 2;
	char	  **argv = calloc(max, sizeof(char *));
	size_t		n = 0;
	const char *p = cmd;

	if (!argv)
		return NULL;
	for (;;)
	{
		pgr_buf		w;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		pgr_buf_init(&w, 0);
		while (*p && *p != ' ' && *p != '\t')
		{
			if (*p == '\'')
			{
				const char *q = strchr(p + 1, '\'');

				if (!q)
					goto bad;
				pgr_buf_append(&w, p + 1, (size_t) (q - p - 1));
				p = q + 1;
			}
			else if (*p == '"')
			{
				for (p++; *p && *p != '"'; p++)
				{
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$'))
						p++;
					pgr_buf_putc(&w, *p);
				}
				if (*p != '"')
					goto bad;
				p++;
			}
			else if (*p == '\\' && p[1])
			{
				pgr_buf_putc(&w, p[1]);
				p += 2;
			}
			else
				pgr_buf_putc(&w, *p++);
		}
		argv[n++] = pgr_buf_detach(&w);
		if (!argv[n - 1])
			goto bad;
		continue;
bad:
		pgr_buf_free(&w);
		for (size_t i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return NULL;
	}
	return argv;
}

/* Run credential_process and parse its JSON output (Version 1). */
static int
credentials_from_process(const char *command, const char *profile,
						 aws_credentials *out, pgr_error *err)
{
	char	  **argv = split_command(command);
	int			pipefd[2];
	pid_t		pid;
	pgr_buf		output;
	char		chunk[4096];
	ssize_t		n;
	int			status = 0;
	int			rc = -1;
	char		source[64];

	pgr_buf_init(&output, MAX_PROCESS_OUTPUT);
	snprintf(source, sizeof(source), "credential_process of profile %s", profile);
	if (!argv || !argv[0])
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "cannot parse credential_process of profile \"%s\"", profile);
		pgr_error_hint(err, "Check the quoting of the command.");
		goto done;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not create a pipe: %s",
					  strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0)
	{
		close(pipefd[0]);
		close(pipefd[1]);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0)
	{
		dup2(pipefd[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && !pgr_buf_append(&output, chunk, (size_t) n))
			break;
	pgr_wipe(chunk, sizeof(chunk));
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "credential_process of profile \"%s\" failed with exit status %d",
					  profile, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		pgr_error_detail(err, "The command was \"%s\".", argv[0]);
		pgr_error_hint(err, "Run the command by hand to see its error.");
		goto done;
	}
	if (output.overflow)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "output of credential_process of profile \"%s\" is larger than %d bytes",
					  profile, MAX_PROCESS_OUTPUT);
		goto done;
	}
	rc = credentials_from_json(output.data ? output.data : "", output.len, "SessionToken", true,
							   source, out, err);
done:
	pgr_buf_free(&output);
	if (argv)
	{
		for (size_t i = 0; argv[i]; i++)
			free(argv[i]);
		free(argv);
	}
	return rc;
}

/*
 * Whether a container credentials URL may be used: https, or a host whose
 * every address is loopback, the ECS address 169.254.170.2 or the EKS Pod
 * Identity addresses 169.254.170.23 / fd00:ec2::23.
 */
static bool
container_url_allowed(const char *url)
{
	const char *hs;
	char		host[256];
	size_t		hl;
	struct addrinfo hints,
			   *res = NULL;
	bool		ok = true;

	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	hs = url + 7;
	if (*hs == '[')
	{
		const char *e = strchr(hs, ']');

		if (!e)
			return false;
		hl = (size_t) (e - hs - 1);
		hs++;
	}
	else
		hl = strcspn(hs, ":/?#");
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (struct addrinfo *a = res; a; a = a->ai_next)
	{
		if (a->ai_family == AF_INET)
		{
			uint32_t	ip = ntohl(((struct sockaddr_in *) a->ai_addr)->sin_addr.s_addr);

			if ((ip >> 24) != 127 && ip != 0xA9FEAA02u && ip != 0xA9FEAA17u)
				ok = false;
		}
		else if (a->ai_family == AF_INET6)
		{
			struct in6_addr *ip6 = &((struct sockaddr_in6 *) a->ai_addr)->sin6_addr;
			struct in6_addr eks;

			inet_pton(AF_INET6, "fd00:ec2::23", &eks);
			if (!IN6_IS_ADDR_LOOPBACK(ip6) && memcmp(ip6, &eks, sizeof(eks)) != 0)
				ok = false;
		}
		else
			ok = false;
	}
	freeaddrinfo(res);
	return ok;
}

/* Container credentials (ECS task roles, EKS Pod Identity). */
static int
credentials_from_container(const aws_config *cfg, http_client *http,
						   aws_credentials *out, pgr_error *err)
{
	const char *rel = aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file = aws_config_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token_env = aws_config_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	pgr_buf		url,
				token;
	http_header hdr = {"Authorization", NULL, true};
	http_request req;
	http_response resp;
	int			rc = -1;

	pgr_buf_init(&url, 0);
	pgr_buf_init(&token, MAX_TOKEN_FILE);
	memset(&resp, 0, sizeof(resp));
	if (rel)
		pgr_buf_printf(&url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
	else
	{
		pgr_buf_puts(&url, full);
		if (!container_url_allowed(full))
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL,
						  "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%s\" is not allowed", full);
			pgr_error_detail(err, "Over plain http the host must be a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23.");
			pgr_error_hint(err, "Use an https:// URL or one of those hosts.");
			goto done;
		}
	}
	if (token_file)
	{
		int			r = read_file(token_file, MAX_TOKEN_FILE, &token,
								  "container authorization token file", err);

		if (r <= 0)
		{
			if (r == 0)
				pgr_error_set(err, PGR_ERR_INPUT, NULL,
							  "container authorization token file \"%s\" does not exist",
							  token_file);
			goto done;
		}
		while (token.len && (token.data[token.len - 1] == '\n' || token.data[token.len - 1] == '\r'))
			token.data[--token.len] = '\0';
	}
	else if (token_env)
		pgr_buf_puts(&token, token_env);
	if (token.data && strpbrk(token.data, "\r\n"))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the container authorization token contains a line break");
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.data;
	hdr.value = token.data;
	req.headers = token.data && token.len ? &hdr : NULL;
	req.nheaders = token.data && token.len ? 1 : 0;
	req.max_response = MAX_TOKEN_FILE;
	req.connect_timeout_ms = 2000;
	req.timeout_ms = 5000;
	req.allow_http = true;
	req.what = "the container credentials endpoint";
	if (http_perform(http, &req, NULL, NULL, &resp, err) != 0)
		goto done;
	if (resp.status != 200)
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL,
					  "the container credentials endpoint answered HTTP %ld", resp.status);
		pgr_error_hint(err, "Check the task's or pod's IAM role and the authorization token.");
		goto done;
	}
	rc = credentials_from_json(resp.body, resp.bodylen, "Token", false, "container credentials",
							   out, err);
done:
	http_response_free(&resp);
	pgr_buf_free(&url);
	pgr_buf_free(&token);
	return rc;
}

/*
 * EC2 instance metadata, IMDSv2: PUT a session token, then read the role
 * name and the role's credentials with it. Returns 1 when found, 0 when the
 * service is not there (not on EC2), -1 on error.
 */
static int
credentials_from_imds(const aws_config *cfg, http_client *http,
					  aws_credentials *out, pgr_error *err)
{
	const char *base = aws_config_env(cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	long		timeout_s = parse_positive(aws_config_env(cfg, "AWS_METADATA_SERVICE_TIMEOUT"));
	long		attempts = parse_positive(aws_config_env(cfg, "AWS_METADATA_SERVICE_NUM_ATTEMPTS"));
	pgr_buf		url,
				token;
	http_header ttl = {"X-aws-ec2-metadata-token-ttl-seconds", "21600", false};
	http_header tokhdr = {"X-aws-ec2-metadata-token", NULL, true};
	http_request req;
	http_response resp;
	pgr_error	local;
	char		role[256];
	size_t		rl;
	int			rc = -1;

	if (!base)
		base = aws_config_profile_value(cfg, "ec2_metadata_service_endpoint");
	if (!base)
	{
		const char *mode = aws_config_env(cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

		if (!mode)
			mode = aws_config_profile_value(cfg, "ec2_metadata_service_endpoint_mode");
		base = mode && strcasecmp(mode, "IPv6") == 0 ?
			"http://[fd00:ec2::254]" : "http://169.254.169.254";
	}
	pgr_buf_init(&url, 0);
	pgr_buf_init(&token, 0);
	memset(&resp, 0, sizeof(resp));
	memset(&req, 0, sizeof(req));
	req.allow_http = true;
	req.connect_timeout_ms = (timeout_s ? timeout_s : 1) * 1000;
	req.timeout_ms = (timeout_s ? timeout_s : 1) * 1000;
	req.max_attempts = (int) (attempts ? attempts : 1);
	req.max_response = 64 * 1024;
	req.what = "the EC2 instance metadata service";

	/* 1: the session token */
	pgr_buf_printf(&url, "%s/latest/api/token", base);
	req.method = "PUT";
	req.url = url.data;
	req.headers = &ttl;
	req.nheaders = 1;
	if (http_perform(http, &req, NULL, NULL, &resp, &local) != 0)
	{
		if (local.errclass == PGR_ERR_NETWORK)
		{
			pgr_log_debug("no EC2 instance metadata service: %s", local.detail);
			rc = 0;
		}
		else if (err)
			*err = local;
		goto done;
	}
	if (resp.status != 200 || resp.bodylen == 0)
	{
		pgr_log_debug("EC2 instance metadata token request answered HTTP %ld", resp.status);
		rc = 0;
		goto done;
	}
	pgr_buf_append(&token, resp.body, resp.bodylen);
	http_response_free(&resp);

	/* 2: the role name */
	tokhdr.value = token.data;
	req.method = "GET";
	req.headers = &tokhdr;
	req.nheaders = 1;
	pgr_buf_free(&url);
	pgr_buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/", base);
	req.url = url.data;
	if (http_perform(http, &req, NULL, NULL, &resp, err) != 0)
		goto done;
	if (resp.status == 404)
	{
		pgr_log_debug("this EC2 instance has no IAM role");
		rc = 0;
		goto done;
	}
	if (resp.status != 200)
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL,
					  "the EC2 instance metadata service answered HTTP %ld for the role name",
					  resp.status);
		goto done;
	}
	rl = strcspn(resp.body, "\r\n");
	if (rl == 0 || rl >= sizeof(role) || strchr(resp.body, '/'))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the EC2 instance metadata service returned an invalid role name");
		goto done;
	}
	memcpy(role, resp.body, rl);
	role[rl] = '\0';
	http_response_free(&resp);

	/* 3: the role's credentials */
	pgr_buf_free(&url);
	pgr_buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/%s", base, role);
	req.url = url.data;
	if (http_perform(http, &req, NULL, NULL, &resp, err) != 0)
		goto done;
	if (resp.status != 200)
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL,
					  "the EC2 instance metadata service answered HTTP %ld for role \"%s\"",
					  resp.status, role);
		goto done;
	}
	rc = credentials_from_json(resp.body, resp.bodylen, "Token", false,
							   "EC2 instance metadata", out, err) == 0 ? 1 : -1;
done:
	http_response_free(&resp);
	pgr_buf_free(&url);
	pgr_buf_free(&token);
	return rc;
}

/* Append key=value, form-urlencoded. */
static bool
form_add(pgr_buf *b, const char *key, const char *value)
{
	char	   *enc = sigv4_uri_encode(value, strlen(value), false);
	bool		ok;

	if (!enc)
		return false;
	ok = pgr_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, enc);
	pgr_wipe(enc, strlen(enc));
	free(enc);
	return ok;
}

/*
 * The text of <tag>...</tag> in an XML document, entity-decoded, malloc'd;
 * NULL when absent. Enough for STS's fixed-shape responses.
 */
char *
aws_xml_text(const char *doc, const char *tag)
{
	char		open[64],
				close[64];
	const char *s,
			   *e;
	pgr_buf		b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(doc, open);
	if (!s)
		return NULL;
	s += strlen(open);
	e = strstr(s, close);
	if (!e)
		return NULL;
	pgr_buf_init(&b, 0);
	while (s < e)
	{
		static const struct
		{
			const char *ent;
			char		c;
		}			ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
		{"&quot;", '"'}, {"&apos;", '\''}};
		bool		done = false;

		if (*s == '&')
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			{
				size_t		l = strlen(ents[i].ent);

				if ((size_t) (e - s) >= l && strncmp(s, ents[i].ent, l) == 0)
				{
					pgr_buf_putc(&b, ents[i].c);
					s += l;
					done = true;
					break;
				}
			}
		if (!done)
			pgr_buf_putc(&b, *s++);
	}
	return pgr_buf_detach(&b);
}

/* Web identity: STS AssumeRoleWithWebIdentity with the token file's JWT. */
static int
credentials_from_web_identity(const aws_config *cfg, http_client *http,
							  const char *token_file, const char *role_arn,
							  const char *session_name, aws_credentials *out,
							  pgr_error *err)
{
	pgr_buf		jwt,
				body;
	char	   *endpoint = NULL;
	bool		explicit_url = false;
	const char *src;
	http_header hdr = {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8", false};
	http_request req;
	http_response resp;
	char	   *akid = NULL,
			   *secret = NULL,
			   *token = NULL,
			   *exp = NULL;
	time_t		expiration = 0;
	char		default_session[64];
	int			r,
				rc = -1;

	pgr_buf_init(&jwt, MAX_TOKEN_FILE);
	pgr_buf_init(&body, 0);
	memset(&resp, 0, sizeof(resp));
	r = read_file(token_file, MAX_TOKEN_FILE, &jwt, "web identity token file", err);
	if (r <= 0)
	{
		if (r == 0)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "web identity token file \"%s\" does not exist", token_file);
			pgr_error_hint(err, "Check AWS_WEB_IDENTITY_TOKEN_FILE or the profile's web_identity_token_file.");
		}
		goto done;
	}
	while (jwt.len && isspace((unsigned char) jwt.data[jwt.len - 1]))
		jwt.data[--jwt.len] = '\0';
	if (!session_name)
	{
		snprintf(default_session, sizeof(default_session), "pg_rotate-%ld",
				 (long) time(NULL));
		session_name = default_session;
	}
	if (aws_config_endpoint(cfg, &aws_service_sts, &endpoint, &explicit_url, &src, err) != 0)
		goto done;
	if (!form_add(&body, "Action", "AssumeRoleWithWebIdentity") ||
		!form_add(&body, "Version", "2011-06-15") ||
		!form_add(&body, "RoleArn", role_arn) ||
		!form_add(&body, "RoleSessionName", session_name) ||
		!form_add(&body, "WebIdentityToken", jwt.data))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = endpoint;
	req.headers = &hdr;
	req.nheaders = 1;
	req.body = body.data;
	req.bodylen = body.len;
	req.allow_http = explicit_url;
	req.max_response = 256 * 1024;
	req.what = "AWS STS";
	if (http_perform(http, &req, NULL, NULL, &resp, err) != 0)
		goto done;
	if (resp.status != 200)
	{
		char	   *code = resp.body ? aws_xml_text(resp.body, "Code") : NULL;
		char	   *msg = resp.body ? aws_xml_text(resp.body, "Message") : NULL;

		pgr_error_set(err, PGR_ERR_AWS, code ? code : "",
					  "could not assume role \"%s\" with web identity: %s", role_arn,
					  msg ? msg : "no error message");
		pgr_error_detail(err, "AWS STS answered HTTP %ld%s%s.", resp.status,
						 code ? " " : "", code ? code : "");
		pgr_error_hint(err, "Check the role's trust policy and the token in \"%s\".", token_file);
		free(code);
		free(msg);
		goto done;
	}
	akid = aws_xml_text(resp.body, "AccessKeyId");
	secret = aws_xml_text(resp.body, "SecretAccessKey");
	token = aws_xml_text(resp.body, "SessionToken");
	exp = aws_xml_text(resp.body, "Expiration");
	if (!akid || !secret || !token ||
		(exp && aws_parse_iso8601(exp, &expiration) != 0))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "AWS STS returned malformed credentials for role \"%s\"", role_arn);
		goto done;
	}
	rc = set_credentials(out, akid, secret, token, expiration, "web identity", err);
done:
	free(akid);
	pgr_free_secret(secret);
	pgr_free_secret(token);
	free(exp);
	free(endpoint);
	http_response_free(&resp);
	pgr_buf_free(&jwt);
	pgr_buf_free(&body);
	return rc;
}

/*
 * Walk the credential provider chain (aws_config.h) and fill *out with the
 * first credentials found. A source that is configured but fails stops the
 * chain with its error, as in the SDKs. http is used for the container,
 * IMDS and STS sources.
 */
int
aws_credentials_resolve(const aws_config *cfg, http_client *http,
						aws_credentials *out, pgr_error *err)
{
	const char *akid,
			   *secret,
			   *v;
	char		source[96];
	int			r;

	/* 1. environment, unless a profile was named on the command line */
	akid = aws_config_env(cfg, "AWS_ACCESS_KEY_ID");
	secret = aws_config_env(cfg, "AWS_SECRET_ACCESS_KEY");
	if (!cfg->profile_explicit && (akid || secret))
	{
		const char *token = aws_config_env(cfg, "AWS_SESSION_TOKEN");

		if (!akid || !secret)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "partial credentials found in the environment");
			pgr_error_hint(err, "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither.");
			return -1;
		}
		if (!token)
			token = aws_config_env(cfg, "AWS_SECURITY_TOKEN");
		return set_credentials(out, akid, secret, token, 0, "environment", err);
	}

	/* 2. web identity: environment, then the profile */
	if ((v = aws_config_env(cfg, "AWS_WEB_IDENTITY_TOKEN_FILE")) &&
		aws_config_env(cfg, "AWS_ROLE_ARN"))
		return credentials_from_web_identity(cfg, http, v, aws_config_env(cfg, "AWS_ROLE_ARN"),
											 aws_config_env(cfg, "AWS_ROLE_SESSION_NAME"),
											 out, err);
	if ((v = aws_config_profile_value(cfg, "role_arn")))
	{
		const char *wif = aws_config_profile_value(cfg, "web_identity_token_file");

		if (wif)
			return credentials_from_web_identity(cfg, http, wif, v,
												 aws_config_profile_value(cfg, "role_session_name"),
												 out, err);
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" assumes a role with source_profile or credential_source, which pg_rotate does not support",
					  cfg->profile);
		pgr_error_hint(err, "Export the role's temporary credentials (for example with \"aws configure export-credentials\") or use credential_process.");
		return -1;
	}
	if (aws_config_profile_value(cfg, "sso_session") ||
		aws_config_profile_value(cfg, "sso_start_url"))
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" uses IAM Identity Center (SSO), which pg_rotate does not support",
					  cfg->profile);
		pgr_error_hint(err, "Use credential_process = aws configure export-credentials --profile %s --format process",
					   cfg->profile);
		return -1;
	}

	/* 3. the shared credentials file */
	akid = aws_ini_get(cfg->credentials, cfg->profile, "aws_access_key_id");
	secret = aws_ini_get(cfg->credentials, cfg->profile, "aws_secret_access_key");
	if (akid && secret && *akid && *secret)
	{
		snprintf(source, sizeof(source), "shared credentials file, profile %s", cfg->profile);
		return set_credentials(out, akid, secret,
							   aws_ini_get(cfg->credentials, cfg->profile, "aws_session_token"),
							   0, source, err);
	}

	/* 4. credential_process */
	if ((v = aws_config_profile_value(cfg, "credential_process")))
		return credentials_from_process(v, cfg->profile, out, err);

	/* 5. the config file */
	akid = aws_config_profile_value(cfg, "aws_access_key_id");
	secret = aws_config_profile_value(cfg, "aws_secret_access_key");
	if (akid && secret)
	{
		snprintf(source, sizeof(source), "config file, profile %s", cfg->profile);
		return set_credentials(out, akid, secret,
							   aws_config_profile_value(cfg, "aws_session_token"),
							   0, source, err);
	}

	/* 6. container credentials */
	if (aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
		aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return credentials_from_container(cfg, http, out, err);

	/* 7. EC2 instance metadata */
	if (!is_true(aws_config_env(cfg, "AWS_EC2_METADATA_DISABLED")))
	{
		r = credentials_from_imds(cfg, http, out, err);
		if (r != 0)
			return r > 0 ? 0 : -1;
	}

	pgr_error_set(err, PGR_ERR_USAGE, NULL, "could not find AWS credentials");
	pgr_error_detail(err, "Looked in the environment, the shared credentials and config files (profile \"%s\"), container credentials and EC2 instance metadata.",
					 cfg->profile);
	pgr_error_hint(err, "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile with --profile.");
	return -1;
}
