/*-------------------------------------------------------------------------
 *
 * aws_credentials.c
 *	  The credential provider chain (see aws_credentials.h) and the
 *	  providers that need no AWS API: the environment, the shared files,
 *	  credential_process, container credentials and IMDSv2. Web identity
 *	  goes through STS (aws_sts.c).
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws_credentials.h"
#include "aws_sts.h"
#include "buf.h"
#include "file.h"
#include "json.h"
#include "log.h"

#define MAX_PROCESS_OUTPUT	(64 * 1024)
#define MAX_TOKEN_FILE		(64 * 1024)
#define MAX_ROLE_CHAIN		8	/* source profiles followed, at most */

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

/*
 * Fill out from copies of the three values (the secret ones are wiped when
 * freed). token may be NULL or "".
 */
int
aws_credentials_set(aws_credentials *out, const char *akid, const char *secret,
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

/* A copy of from, for a caller that must not share it; to is freed by the caller. */
int
aws_credentials_copy(const aws_credentials *from, aws_credentials *to, pgr_error *err)
{
	return aws_credentials_set(to, from->access_key_id, from->secret_access_key,
							   from->session_token, from->expiration, from->source, err);
}

/*
 * Credentials from a JSON document as the container endpoint, IMDS and
 * credential_process print them: AccessKeyId, SecretAccessKey, the token
 * under token_key ("Token" or "SessionToken"), Expiration; with version_1,
 * "Version": 1 too. source names them in messages. Pure: exposed for tests.
 */
int
aws_credentials_from_json(const char *body, size_t len, const char *token_key,
						  bool version_1, const char *source, aws_credentials *out,
						  pgr_error *err)
{
	json_doc   *doc = NULL;
	const json_value *root;
	const char *akid,
			   *secret,
			   *exp;
	int64_t		version = 0;
	time_t		expiration = 0;
	int			rc = -1;

	if (json_parse(body, len, 0, &doc, err) != 0 ||
		json_type_of(root = json_root(doc)) != JSON_OBJECT)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "credentials from %s are not a JSON object",
					  source);
		goto done;
	}
	if (version_1 && (!json_int64(json_get(root, "Version"), &version) || version != 1))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "%s did not print a JSON object with \"Version\": 1", source);
		goto done;
	}
	akid = json_get_string(root, "AccessKeyId");
	secret = json_get_string(root, "SecretAccessKey");
	if (!akid || !secret)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "credentials from %s lack AccessKeyId or SecretAccessKey", source);
		goto done;
	}
	exp = json_get_string(root, "Expiration");
	if (exp && aws_parse_iso8601(exp, &expiration) != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "credentials from %s have a malformed Expiration", source);
		goto done;
	}
	rc = aws_credentials_set(out, akid, secret, json_get_string(root, token_key), expiration,
							 source, err);
done:
	json_free(doc);				/* wipes the secret key and token */
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
	pgr_error	readerr = {0};
	int			read_rc;
	int			status = 0;
	int			rc = -1;
	char		source[64];

	pgr_buf_init(&output, 0);
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
	read_rc = pgr_read_fd(pipefd[0], MAX_PROCESS_OUTPUT, "output of credential_process",
						  profile, &output, &readerr);
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
	if (read_rc != 0)
	{
		if (err)
			*err = readerr;
		if (output.overflow)
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "output of credential_process of profile \"%s\" is larger than %d bytes",
						  profile, MAX_PROCESS_OUTPUT);
		goto done;
	}
	rc = aws_credentials_from_json(output.data, output.len, "SessionToken", true, source,
								   out, err);
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

/*
 * GET the credentials document at req->url (the container endpoint's, or
 * the instance role's of IMDS) and read it, labelled source.
 */
static int
get_credentials(http_client *http, const http_request *req, const char *source,
				aws_credentials *out, pgr_error *err)
{
	http_response resp;
	int			rc = -1;

	if (http_perform(http, req, NULL, NULL, &resp, err) != 0)
		goto done;
	if (resp.status != 200)
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL, "%s answered HTTP %ld", req->what, resp.status);
		goto done;
	}
	rc = aws_credentials_from_json(resp.body, resp.bodylen, "Token", false, source, out, err);
done:
	http_response_free(&resp);
	return rc;
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
	int			rc = -1;

	pgr_buf_init(&url, 0);
	pgr_buf_init(&token, MAX_TOKEN_FILE);
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
		int			r = pgr_read_file(token_file, MAX_TOKEN_FILE,
									  "container authorization token file", &token, err);

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
	rc = get_credentials(http, &req, "container credentials", out, err);
	if (rc != 0 && err && err->errclass == PGR_ERR_AWS)
		pgr_error_hint(err, "Check the task's or pod's IAM role and the authorization token.");
done:
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
	long		timeout_s = aws_config_positive(aws_config_env(cfg, "AWS_METADATA_SERVICE_TIMEOUT"));
	long		attempts = aws_config_positive(aws_config_env(cfg, "AWS_METADATA_SERVICE_NUM_ATTEMPTS"));
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
	rc = get_credentials(http, &req, "EC2 instance metadata", out, err) == 0 ? 1 : -1;
	if (rc < 0 && err && err->errclass == PGR_ERR_AWS)
		pgr_error_detail(err, "It was asked for the credentials of role \"%s\".", role);
done:
	http_response_free(&resp);
	pgr_buf_free(&url);
	pgr_buf_free(&token);
	return rc;
}

/*
 * Web identity: the token file's JWT, exchanged by STS
 * (AssumeRoleWithWebIdentity) for the role's temporary credentials.
 */
static int
credentials_from_web_identity(const aws_config *cfg, http_client *http,
							  const char *token_file, const char *role_arn,
							  const char *session_name, aws_credentials *out,
							  pgr_error *err)
{
	pgr_buf		jwt;
	int			r,
				rc = -1;

	r = pgr_read_file(token_file, MAX_TOKEN_FILE, "web identity token file", &jwt, err);
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
	rc = aws_sts_assume_role_with_web_identity(cfg, http, role_arn, session_name, jwt.data,
											   out, err);
	if (rc != 0 && err && err->errclass == PGR_ERR_AWS)
		pgr_error_hint(err, "Check the role's trust policy and the token in \"%s\".", token_file);
done:
	pgr_buf_free(&jwt);
	return rc;
}

/*
 * Credentials from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN (or AWS_SECURITY_TOKEN). Returns 1 when found, 0
 * when neither key is set, -1 on error (one of them only).
 */
static int
credentials_from_environment(const aws_config *cfg, aws_credentials *out, pgr_error *err)
{
	const char *akid = aws_config_env(cfg, "AWS_ACCESS_KEY_ID");
	const char *secret = aws_config_env(cfg, "AWS_SECRET_ACCESS_KEY");
	const char *token = aws_config_env(cfg, "AWS_SESSION_TOKEN");

	if (!akid && !secret)
		return 0;
	if (!akid || !secret)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "partial credentials found in the environment");
		pgr_error_hint(err, "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither.");
		return -1;
	}
	if (!token)
		token = aws_config_env(cfg, "AWS_SECURITY_TOKEN");
	return aws_credentials_set(out, akid, secret, token, 0, "environment", err) == 0 ? 1 : -1;
}

/*
 * A profile's own credentials: the shared credentials file, its
 * credential_process, or the config file, in that order. Returns 1 when
 * found, 0 when the profile has none, -1 on error.
 */
static int
profile_credentials(const aws_config *cfg, aws_credentials *out, pgr_error *err)
{
	const char *akid = aws_ini_get(cfg->credentials, cfg->profile, "aws_access_key_id");
	const char *secret = aws_ini_get(cfg->credentials, cfg->profile, "aws_secret_access_key");
	const char *v;
	char		source[96];

	if (akid && secret && *akid && *secret)
	{
		snprintf(source, sizeof(source), "shared credentials file, profile %s", cfg->profile);
		return aws_credentials_set(out, akid, secret,
								   aws_ini_get(cfg->credentials, cfg->profile,
											   "aws_session_token"),
								   0, source, err) == 0 ? 1 : -1;
	}
	if ((v = aws_config_profile_value(cfg, "credential_process")))
		return credentials_from_process(v, cfg->profile, out, err) == 0 ? 1 : -1;
	akid = aws_config_profile_value(cfg, "aws_access_key_id");
	secret = aws_config_profile_value(cfg, "aws_secret_access_key");
	if (akid && secret)
	{
		snprintf(source, sizeof(source), "config file, profile %s", cfg->profile);
		return aws_credentials_set(out, akid, secret,
								   aws_config_profile_value(cfg, "aws_session_token"),
								   0, source, err) == 0 ? 1 : -1;
	}
	return 0;
}

/*
 * The code an MFA device shows, asked on the terminal (standard input,
 * prompt on standard error). Refused when standard input is not a
 * terminal: a scheduled rotation has nobody to ask.
 */
static int
mfa_code(const aws_config *cfg, const char *serial, char *code, size_t size, pgr_error *err)
{
	size_t		n;

	if (!isatty(STDIN_FILENO))
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" needs a code from MFA device \"%s\", and there is no "
					  "terminal to ask for it", cfg->profile, serial);
		pgr_error_detail(err, "pg_rotate asks for the code only when standard input is a "
						 "terminal.");
		pgr_error_hint(err, "For unattended runs, assume a role whose trust policy does not "
					   "require MFA (drop mfa_serial), or export temporary credentials first, "
					   "for example with \"aws configure export-credentials\".");
		return -1;
	}
	fprintf(stderr, "Enter MFA code for %s: ", serial);
	fflush(stderr);
	if (!fgets(code, (int) size, stdin))
		code[0] = '\0';
	code[strcspn(code, "\r\n")] = '\0';
	n = strlen(code);
	if (n != 6 || strspn(code, "0123456789") != n)
	{
		pgr_wipe(code, size);
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "an MFA code is six digits");
		return -1;
	}
	return 0;
}

static int	credentials_from_role(const aws_config *cfg, http_client *http,
								  const char *role_arn, int depth, aws_credentials *out,
								  pgr_error *err);

/*
 * The credentials an AssumeRole profile signs with: its credential_source
 * (Environment, Ec2InstanceMetadata, EcsContainer) or its source_profile's
 * credentials (which may assume a role in turn).
 */
static int
source_credentials(const aws_config *cfg, http_client *http, const char *source_profile,
				   const char *credential_source, int depth, aws_credentials *out,
				   pgr_error *err)
{
	aws_config	sub;
	const char *v;
	int			r;

	if (credential_source)
	{
		if (strcmp(credential_source, "Environment") == 0)
			r = credentials_from_environment(cfg, out, err);
		else if (strcmp(credential_source, "Ec2InstanceMetadata") == 0)
			r = credentials_from_imds(cfg, http, out, err);
		else if (strcmp(credential_source, "EcsContainer") == 0)
			r = aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
				aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI") ?
				(credentials_from_container(cfg, http, out, err) == 0 ? 1 : -1) : 0;
		else
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL,
						  "profile \"%s\" has an unknown credential_source \"%s\"",
						  cfg->profile, credential_source);
			pgr_error_hint(err, "Use Environment, Ec2InstanceMetadata or EcsContainer.");
			return -1;
		}
		if (r == 0)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL,
						  "credential_source %s of profile \"%s\" has no credentials",
						  credential_source, cfg->profile);
			pgr_error_hint(err, "Environment needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
						   "EcsContainer a container credentials URI, Ec2InstanceMetadata an "
						   "instance role.");
		}
		return r > 0 ? 0 : -1;
	}
	sub = *cfg;
	sub.profile = (char *) source_profile;
	if (strcmp(source_profile, cfg->profile) != 0 &&
		(v = aws_config_profile_value(&sub, "role_arn")))
		return credentials_from_role(&sub, http, v, depth + 1, out, err);
	r = profile_credentials(&sub, out, err);
	if (r == 0)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "source_profile \"%s\" of profile \"%s\" has no credentials",
					  source_profile, cfg->profile);
		pgr_error_hint(err, "Give [%s] aws_access_key_id and aws_secret_access_key, a "
					   "credential_process, or a role_arn of its own.", source_profile);
	}
	return r > 0 ? 0 : -1;
}

/*
 * An AssumeRole profile (role_arn with source_profile or credential_source):
 * STS's temporary credentials for the role, signed with the source's.
 * depth counts the profiles followed so far, to refuse a loop.
 */
static int
credentials_from_role(const aws_config *cfg, http_client *http, const char *role_arn,
					  int depth, aws_credentials *out, pgr_error *err)
{
	const char *source_profile = aws_config_profile_value(cfg, "source_profile");
	const char *credential_source = aws_config_profile_value(cfg, "credential_source");
	const char *duration = aws_config_profile_value(cfg, "duration_seconds");
	aws_assume_role role;
	aws_credentials source;
	char		code[16] = "";
	char		label[96];
	int			rc = -1;

	memset(&source, 0, sizeof(source));
	memset(&role, 0, sizeof(role));
	if (depth >= MAX_ROLE_CHAIN)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" is reached through more than %d source profiles",
					  cfg->profile, MAX_ROLE_CHAIN);
		pgr_error_hint(err, "Check the source_profile settings for a loop.");
		return -1;
	}
	if (source_profile && credential_source)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" has both source_profile and credential_source",
					  cfg->profile);
		pgr_error_hint(err, "Keep one of them, as the AWS CLI requires.");
		return -1;
	}
	if (!source_profile && !credential_source)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "profile \"%s\" has a role_arn but no source_profile, "
					  "credential_source or web_identity_token_file", cfg->profile);
		pgr_error_hint(err, "Say which credentials assume the role.");
		return -1;
	}
	role.role_arn = role_arn;
	role.session_name = aws_config_profile_value(cfg, "role_session_name");
	role.external_id = aws_config_profile_value(cfg, "external_id");
	role.mfa_serial = aws_config_profile_value(cfg, "mfa_serial");
	if (duration)
	{
		long		d = aws_config_positive(duration);

		if (d < 900 || d > 43200)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL,
						  "duration_seconds \"%s\" of profile \"%s\" is out of range",
						  duration, cfg->profile);
			pgr_error_hint(err, "Give 900 to 43200 seconds (at most the role's maximum "
						   "session duration).");
			return -1;
		}
		role.duration_seconds = (int) d;
	}
	if (role.mfa_serial)
	{
		if (mfa_code(cfg, role.mfa_serial, code, sizeof(code), err) != 0)
			return -1;
		role.mfa_code = code;
	}
	if (source_credentials(cfg, http, source_profile, credential_source, depth, &source,
						   err) != 0)
		goto done;
	snprintf(label, sizeof(label), "assumed role, profile %s", cfg->profile);
	rc = aws_sts_assume_role(cfg, http, &source, &role, label, out, err);
	if (rc != 0 && err && err->errclass == PGR_ERR_AWS)
		pgr_error_hint(err, "The credentials of %s%s must be allowed sts:AssumeRole on the "
					   "role, and its trust policy must allow them%s.",
					   source_profile ? "source_profile " : "credential_source ",
					   source_profile ? source_profile : credential_source,
					   role.external_id ? " with this external_id" : "");
done:
	pgr_wipe(code, sizeof(code));
	aws_credentials_free(&source);
	return rc;
}

/*
 * Walk the credential provider chain (aws_credentials.h) and fill *out with the
 * first credentials found. A source that is configured but fails stops the
 * chain with its error, as in the SDKs. http is used for the container,
 * IMDS and STS sources.
 */
int
aws_credentials_resolve(const aws_config *cfg, http_client *http,
						aws_credentials *out, pgr_error *err)
{
	const char *v;
	int			r;

	/* 1. environment, unless a profile was named on the command line */
	if (!cfg->profile_explicit && (r = credentials_from_environment(cfg, out, err)) != 0)
		return r > 0 ? 0 : -1;

	/* 2. web identity (environment, then the profile), or an AssumeRole profile */
	if ((v = aws_config_env(cfg, "AWS_WEB_IDENTITY_TOKEN_FILE")) &&
		aws_config_env(cfg, "AWS_ROLE_ARN"))
		return credentials_from_web_identity(cfg, http, v, aws_config_env(cfg, "AWS_ROLE_ARN"),
											 aws_config_env(cfg, "AWS_ROLE_SESSION_NAME"),
											 out, err);
	if ((v = aws_config_profile_value(cfg, "role_arn")))
	{
		const char *wif = aws_config_profile_value(cfg, "web_identity_token_file");

		if (wif && !aws_config_profile_value(cfg, "source_profile") &&
			!aws_config_profile_value(cfg, "credential_source"))
			return credentials_from_web_identity(cfg, http, wif, v,
												 aws_config_profile_value(cfg, "role_session_name"),
												 out, err);
		return credentials_from_role(cfg, http, v, 0, out, err);
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

	/* 3-5. the shared credentials file, credential_process, the config file */
	if ((r = profile_credentials(cfg, out, err)) != 0)
		return r > 0 ? 0 : -1;

	/* 6. container credentials */
	if (aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
		aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return credentials_from_container(cfg, http, out, err);

	/* 7. EC2 instance metadata */
	if (!aws_config_true(aws_config_env(cfg, "AWS_EC2_METADATA_DISABLED")))
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
