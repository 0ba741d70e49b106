/*-------------------------------------------------------------------------
 *
 * lambda.c
 *	  pg_rotate as an AWS Lambda custom runtime: the Runtime API loop.
 *
 * Secrets Manager's scheduler invokes the function once per rotation step
 * with {"Step", "SecretId", "ClientRequestToken", "RotationToken"}. This
 * loop fetches each invocation from the Runtime API, runs the step, and
 * posts the response or the error; it reads its settings from the same
 * environment variables as AWS's Python rotation functions, so a function's
 * code can be swapped for pg_rotate and keep its configuration.
 *
 * Logs are JSON objects, one per line on stdout (CloudWatch Logs keeps each
 * as one event); json-c escapes every control character (CWE-117), and no
 * secret is ever in one.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aws_config.h"
#include "buf.h"
#include "clock.h"
#include "cli.h"
#include "commands.h"
#include "http.h"
#include "log.h"
#include "rotation.h"
#include "secretsmanager.h"

#define RUNTIME_PATH		"/2018-06-01/runtime"
#define MAX_EVENT_SIZE		(256 * 1024)	/* Lambda's own limit for events */
#define DEADLINE_MARGIN_MS	500.0	/* answer this long before the deadline */

/* The captured headers of a "next invocation" response, by index. */
enum
{
	H_REQUEST_ID = 0,
	H_DEADLINE,
	H_TRACE_ID
};

typedef struct runtime
{
	char		base[512];		/* http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime */
	http_client *http;			/* for the Runtime API only */
	sm_client  *sm;
	aws_config	cfg;
	bool		have_cfg;
	rot_options opts;
} runtime;


/* POST a JSON body to the Runtime API; an error type goes in its header. */
static int
post(runtime *rt, const char *path, const char *body, const char *error_type,
	 pgr_error *err)
{
	char		url[1024];
	http_header headers[2] = {
		{"Content-Type", "application/json", false},
		{"Lambda-Runtime-Function-Error-Type", error_type, false}
	};
	http_request req = {0};
	http_response resp = {0};
	int			rc;

	snprintf(url, sizeof(url), "%s%s", rt->base, path);
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = error_type ? 2 : 1;
	req.body = body;
	req.bodylen = strlen(body);
	req.max_attempts = 1;
	req.allow_http = true;
	req.what = "the Lambda Runtime API";
	rc = http_perform(rt->http, &req, NULL, NULL, &resp, err);
	if (rc == 0 && (resp.status < 200 || resp.status >= 300))
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL, "the Lambda Runtime API refused POST %s: HTTP %ld",
					  path, resp.status);
		rc = -1;
	}
	http_response_free(&resp);
	return rc;
}

/* {"errorMessage": ..., "errorType": ...}, posted to path. */
static void
post_error(runtime *rt, const char *path, const char *type, const pgr_error *why)
{
	json_object *obj = json_object_new_object();
	char		message[PGR_ERRMSG_LEN * 2 + 4];
	pgr_error	err = {0};

	snprintf(message, sizeof(message), "%s%s%s", why->message,
			 why->detail[0] ? ": " : "", why->detail);
	json_object_object_add(obj, "errorMessage", json_object_new_string(message));
	json_object_object_add(obj, "errorType", json_object_new_string(type));
	if (post(rt, path, json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), type,
			 &err) < 0)
		pgr_log_report(&err);
	json_object_put(obj);
}

/*
 * The errorType Secrets Manager shows for a failed step: the service's
 * error code for AWS errors, else the kind of failure.
 */
static const char *
error_type(const pgr_error *err)
{
	if (err->errclass == PGR_ERR_AWS && err->code[0])
		return err->code;
	switch (err->errclass)
	{
		case PGR_ERR_USAGE:
		case PGR_ERR_INPUT:
			return "PgRotate.InvalidInput";
		case PGR_ERR_AWS:
			return "PgRotate.SecretsManagerError";
		case PGR_ERR_NETWORK:
			return "PgRotate.NetworkError";
		case PGR_ERR_DATABASE:
			return "PgRotate.DatabaseError";
		case PGR_ERR_NONE:
		case PGR_ERR_INTERNAL:
			break;
	}
	return "PgRotate.InternalError";
}

/* A string member of the event, or NULL when absent or not a string. */
static const char *
event_string(json_object *event, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(event, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* One line per invocation: what ran, for which secret, how it ended. */
static void
log_invocation(const char *request_id, const char *step, const rot_result *res, double ms)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "level", json_object_new_string(
							   res->outcome == ROT_OUTCOME_FAILED ? "error" : "info"));
	json_object_object_add(obj, "request_id", json_object_new_string(request_id));
	json_object_object_add(obj, "step", step ? json_object_new_string(step) : NULL);
	json_object_object_add(obj, "secret_id", json_object_new_string(res->secret_id));
	json_object_object_add(obj, "version_id", json_object_new_string(res->version_id));
	json_object_object_add(obj, "outcome", json_object_new_string(rot_outcome_name(res->outcome)));
	json_object_object_add(obj, "ms", json_object_new_double(ms));
	json_object_object_add(obj, "lag_ms", res->lag_ms >= 0 ?
						   json_object_new_double(res->lag_ms) : NULL);
	json_object_object_add(obj, "sm_calls", json_object_new_int(res->sm_calls));
	if (res->error.message[0])
	{
		json_object_object_add(obj, "error", json_object_new_string(res->error.message));
		json_object_object_add(obj, "error_type", json_object_new_string(error_type(&res->error)));
		if (res->error.detail[0])
			json_object_object_add(obj, "detail", json_object_new_string(res->error.detail));
	}
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(obj);
}

/*
 * Run one invocation: parse the event, run the step within the deadline,
 * and post the outcome. Returns -1 only when the Runtime API itself failed.
 */
static int
handle(runtime *rt, const http_response *next)
{
	const char *request_id = next->captured[H_REQUEST_ID];
	double		deadline = strtod(next->captured[H_DEADLINE], NULL);
	double		t0 = pgr_epoch_ms();
	json_object *event = NULL;
	const char *step_name = NULL;
	const char *secret_id;
	const char *token;
	rot_step_kind step;
	rot_result	res;
	rot_options opts = rt->opts;
	char		path[512];
	pgr_error	err = {0};
	int			rc = 0;

	rot_result_init(&res, "");
	if (next->captured[H_TRACE_ID][0])
		setenv("_X_AMZN_TRACE_ID", next->captured[H_TRACE_ID], 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");

	event = next->body ? json_tokener_parse(next->body) : NULL;
	if (!event || !json_object_is_type(event, json_type_object))
		pgr_error_set(&res.error, PGR_ERR_INPUT, NULL, "the invocation's event is not a JSON object");
	else
	{
		step_name = event_string(event, "Step");
		secret_id = event_string(event, "SecretId");
		token = event_string(event, "ClientRequestToken");
		snprintf(res.secret_id, sizeof(res.secret_id), "%s", secret_id ? secret_id : "");
		if (!step_name || !secret_id || !token)
			pgr_error_set(&res.error, PGR_ERR_INPUT, NULL,
						  "the event lacks %s", !step_name ? "\"Step\"" :
						  !secret_id ? "\"SecretId\"" : "\"ClientRequestToken\"");
		else if (rot_step_parse(step_name, &step) < 0)
			pgr_error_set(&res.error, PGR_ERR_INPUT, NULL, "invalid step parameter \"%s\"",
						  step_name);
		else
		{
			/* finish before Lambda's deadline, whatever the step waits on */
			http_client_set_deadline(sm_client_http(rt->sm), 0);
			if (deadline > 0)
			{
				double		left_s = (deadline - DEADLINE_MARGIN_MS - t0) / 1000.0;

				http_client_set_deadline(sm_client_http(rt->sm), deadline - DEADLINE_MARGIN_MS);
				if (opts.db.connect_timeout <= 0 || opts.db.connect_timeout > left_s)
					opts.db.connect_timeout = left_s > 2 ? (int) left_s : 2;
			}
			rot_run_step(rt->sm, &opts, step, secret_id, token,
						 event_string(event, "RotationToken"), &res);
		}
	}
	log_invocation(request_id, step_name, &res, pgr_epoch_ms() - t0);
	if (res.outcome == ROT_OUTCOME_FAILED)
	{
		snprintf(path, sizeof(path), "/invocation/%s/error", request_id);
		post_error(rt, path, error_type(&res.error), &res.error);
	}
	else
	{
		snprintf(path, sizeof(path), "/invocation/%s/response", request_id);
		if (post(rt, path, "null", NULL, &err) < 0)
		{
			pgr_log_report(&err);
			rc = -1;
		}
	}
	json_object_put(event);
	pgr_error_clear(&res.error);
	return rc;
}

/* GET the next invocation; no timeout, as the Runtime API may hold it long. */
static int
next_invocation(runtime *rt, http_response *resp, pgr_error *err)
{
	char		url[600];
	http_request req = {0};

	snprintf(url, sizeof(url), "%s/invocation/next", rt->base);
	req.method = "GET";
	req.url = url;
	req.timeout_ms = -1;
	req.max_attempts = 1;
	req.allow_http = true;
	req.max_response = MAX_EVENT_SIZE;
	req.what = "the Lambda Runtime API";
	req.capture_headers[H_REQUEST_ID] = "Lambda-Runtime-Aws-Request-Id";
	req.capture_headers[H_DEADLINE] = "Lambda-Runtime-Deadline-Ms";
	req.capture_headers[H_TRACE_ID] = "Lambda-Runtime-Trace-Id";
	if (http_perform(rt->http, &req, NULL, NULL, resp, err) < 0)
		return -1;
	if (resp->status != 200 || !resp->captured[H_REQUEST_ID][0])
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL,
					  "the Lambda Runtime API answered the next-invocation request with HTTP %ld",
					  resp->status);
		return -1;
	}
	return 0;
}

/*
 * The CA bundle for Secrets Manager's TLS. The bundled libcurl was built on
 * Debian and looks for Debian's file; Amazon Linux 2023 keeps its bundle
 * elsewhere, so use that one when ours is missing and none was configured.
 */
static void
default_ca_bundle(pgr_common_options *common)
{
	static const char debian_bundle[] = "/etc/ssl/certs/ca-certificates.crt";
	static const char amazon_bundle[] = "/etc/pki/tls/certs/ca-bundle.crt";

	if (common->aws.ca_bundle || getenv("AWS_CA_BUNDLE"))
		return;
	if (access(debian_bundle, R_OK) != 0 && access(amazon_bundle, R_OK) == 0)
		common->aws.ca_bundle = amazon_bundle;
}

/* Configuration and clients; on failure the caller reports an init error. */
static int
init(runtime *rt, pgr_common_options *common, pgr_error *err)
{
	http_options hopts = {0};
	const char *collapse = getenv("PG_ROTATE_COLLAPSE_LAG");

	default_ca_bundle(common);
	rot_options_init(&rt->opts);
	rt->opts.collapse_lag = !(collapse && strcasecmp(collapse, "false") == 0);
	rt->opts.db.sslmode = common->sslmode;
	rt->opts.db.sslrootcert = common->sslrootcert;
	if (rot_options_from_env(&rt->opts, err) < 0 ||
		http_global_init(err) < 0 ||
		aws_config_load(&common->aws, &rt->cfg, err) < 0)
		return -1;
	rt->have_cfg = true;
	if (sm_client_new(&rt->cfg, NULL, &rt->sm, err) < 0)
		return -1;
	hopts.max_attempts = 1;
	rt->http = http_client_new(&hopts, err);
	return rt->http ? 0 : -1;
}

/*
 * pg_rotate lambda (and the binary started as "bootstrap"): serve
 * invocations until the Runtime API goes away. Exit status 1 then, 2 when
 * not started inside Lambda.
 */
int
cmd_lambda(int argc, char **argv)
{
	runtime		rt = {0};
	pgr_common_options common = {0};
	pgr_error	err = {0};
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	int			rc = PGR_EXIT_FAILURE;

	pgr_log_set_json(true);
	if (pgr_cli_parse(argc, argv, NULL, NULL, NULL, &common, &err) != 0)
	{
		pgr_log_report(&err);
		return PGR_EXIT_USAGE;
	}
	if (common.help)
	{
		printf("Usage:\n  pg_rotate lambda   (or the binary named \"bootstrap\")\n\n"
			   "Serves AWS Lambda invocations from AWS_LAMBDA_RUNTIME_API; see README.md.\n");
		return PGR_EXIT_OK;
	}
	if (!api || !api[0] || strlen(api) > 256)
	{
		pgr_error_set(&err, PGR_ERR_USAGE, NULL, "AWS_LAMBDA_RUNTIME_API is not set");
		pgr_error_hint(&err, "\"pg_rotate lambda\" runs inside AWS Lambda; use \"pg_rotate step\" "
					   "or \"pg_rotate rotate\" elsewhere.");
		pgr_log_report(&err);
		return PGR_EXIT_USAGE;
	}
	snprintf(rt.base, sizeof(rt.base), "http://%s%s", api, RUNTIME_PATH);
	if (init(&rt, &common, &err) < 0)
	{
		pgr_log_report(&err);
		if (!rt.http)
		{
			http_options hopts = {0};
			pgr_error	ignored = {0};

			rt.http = http_client_new(&hopts, &ignored);
		}
		if (rt.http)
			post_error(&rt, "/init/error", "Runtime.InitError", &err);
		goto done;
	}
	for (;;)
	{
		http_response next = {0};

		if (next_invocation(&rt, &next, &err) < 0)
		{
			http_response_free(&next);
			pgr_log_report(&err);
			break;
		}
		if (handle(&rt, &next) < 0)
		{
			http_response_free(&next);
			break;
		}
		http_response_free(&next);
	}

done:
	http_client_free(rt.http);
	sm_client_free(rt.sm);
	if (rt.have_cfg)
		aws_config_free(&rt.cfg);
	return rc;
}
