/*-------------------------------------------------------------------------
 *
 * lambda.c
 *	  pg_rotate as an AWS Lambda custom runtime: the invocation loop.
 *
 * Secrets Manager's scheduler invokes the function once per rotation step
 * with {"Step", "SecretId", "ClientRequestToken", "RotationToken"}. This
 * loop fetches each invocation from the Runtime API (lambda_runtime.h),
 * runs the step within the invocation's deadline, and posts the response
 * or the error; it reads its settings from the same environment variables
 * as AWS's Python rotation functions, so a function's code can be swapped
 * for pg_rotate and keep its configuration.
 *
 * Logs are JSON objects, one per line on stdout (CloudWatch Logs keeps each
 * as one event): one per invocation, the step's result (rot_result.h) with
 * the request id and the step, then the invocation's metrics as a CloudWatch
 * Embedded Metric Format document (emf.h) unless PG_ROTATE_METRICS_NAMESPACE
 * is set empty; the JSON writer escapes every control character (CWE-117),
 * and no secret is ever in one.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "emf.h"
#include "json.h"
#include "lambda_runtime.h"
#include "log.h"
#include "password_env.h"
#include "rotation.h"
#include "rotation_env.h"

#define DEADLINE_MARGIN_MS	500.0	/* answer this long before the deadline */

typedef struct runtime
{
	lambda_runtime *api;
	aws_session *session;
	rot_options opts;
	const char *metrics_namespace;	/* NULL: no metrics */
	resolve_map resolve;		/* opts.db.resolve, from PG_ROTATE_RESOLVE */
} runtime;

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

/*
 * One line per invocation: the request id, the step, and the result in its
 * one shape (rot_result_write_json), with the errorType posted on failure.
 */
static void
log_invocation(const char *request_id, const char *step, const rot_result *res)
{
	pgr_buf		line;
	json_writer w;

	pgr_log_record_begin(&line, &w, rot_outcome_is_failure(res->outcome) ? "error" : "info");
	json_write_key(&w, "request_id");
	json_write_string(&w, request_id);
	json_write_key(&w, "step");
	if (step)
		json_write_string(&w, step);
	else
		json_write_null(&w);
	rot_result_write_json(&w, res);
	if (rot_outcome_is_failure(res->outcome))
	{
		json_write_key(&w, "error_type");
		json_write_string(&w, error_type(&res->error));
	}
	pgr_log_record_end(&line, &w);
}

/* The invocation's metrics (emf.h), one line after its log line. */
static void
log_metrics(const runtime *rt, const char *request_id, const char *step,
			const rot_result *res)
{
	pgr_buf		line;

	if (!rt->metrics_namespace)
		return;
	if (emf_write_invocation(&line, rt->metrics_namespace, pgr_epoch_ms(), request_id, step,
							 res))
		pgr_log_json_line(&line);
	pgr_buf_free(&line);
}

/*
 * Run the step the event names, finishing before Lambda's deadline
 * whatever the step waits on: Secrets Manager calls through the session,
 * database connections through their connect timeout.
 */
static void
run_event(runtime *rt, const json_value *event, double deadline, rot_result *res,
		  const char **step_name)
{
	const char *secret_id = json_get_string(event, "SecretId");
	const char *token = json_get_string(event, "ClientRequestToken");
	rot_options opts = rt->opts;
	rot_step_kind step;

	*step_name = json_get_string(event, "Step");
	snprintf(res->secret_id, sizeof(res->secret_id), "%s", secret_id ? secret_id : "");
	if (!*step_name || !secret_id || !token)
	{
		pgr_error_set(&res->error, PGR_ERR_INPUT, NULL, "the event lacks %s",
					  !*step_name ? "\"Step\"" : !secret_id ? "\"SecretId\"" :
					  "\"ClientRequestToken\"");
		return;
	}
	if (rot_step_parse(*step_name, &step) < 0)
	{
		pgr_error_set(&res->error, PGR_ERR_INPUT, NULL, "invalid step parameter \"%s\"",
					  *step_name);
		return;
	}
	aws_session_set_deadline(rt->session, deadline > 0 ? deadline - DEADLINE_MARGIN_MS : 0);
	if (deadline > 0)
	{
		double		left_s = (deadline - DEADLINE_MARGIN_MS - pgr_epoch_ms()) / 1000.0;

		if (opts.db.connect_timeout <= 0 || opts.db.connect_timeout > left_s)
			opts.db.connect_timeout = left_s > 2 ? (int) left_s : 2;
	}
	rot_run_step(rt->session, &opts, step, secret_id, token,
				 json_get_string(event, "RotationToken"), res);
}

/*
 * Run one invocation: parse the event, run the step, post the outcome.
 * Returns -1 only when the Runtime API itself failed.
 */
static int
handle(runtime *rt, const lambda_invocation *inv)
{
	json_doc   *event = NULL;
	const char *step_name = NULL;
	rot_result	res;
	pgr_error	err = {0};
	int			rc = 0;

	rot_result_init(&res, "");
	if (inv->trace_id[0])
		setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");

	if (json_parse(inv->event, inv->event_len, 0, &event, NULL) != 0 ||
		json_type_of(json_root(event)) != JSON_OBJECT)
		pgr_error_set(&res.error, PGR_ERR_INPUT, NULL,
					  "the invocation's event is not a JSON object");
	else
		run_event(rt, json_root(event), inv->deadline_ms, &res, &step_name);
	log_invocation(inv->request_id, step_name, &res);
	log_metrics(rt, inv->request_id, step_name, &res);
	if (rot_outcome_is_failure(res.outcome))
	{
		if (lambda_runtime_fail(rt->api, inv->request_id, error_type(&res.error), &res.error,
								&err) < 0)
			pgr_log_report(&err);
	}
	else if (lambda_runtime_respond(rt->api, inv->request_id, "null", &err) < 0)
	{
		pgr_log_report(&err);
		rc = -1;
	}
	json_free(event);
	pgr_error_clear(&res.error);
	return rc;
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

/* Settings and the AWS session; on failure the caller reports an init error. */
static int
init(runtime *rt, pgr_common_options *common, pgr_error *err)
{
	const char *collapse = getenv("PG_ROTATE_COLLAPSE_LAG");
	const char *anchor = getenv("PG_ROTATE_ANCHOR_IN_SECRET");
	const char *ns = getenv(EMF_NAMESPACE_ENV);

	/* unset: the default namespace; set empty: no metrics */
	if (!ns)
		rt->metrics_namespace = EMF_DEFAULT_NAMESPACE;
	else if (ns[0] && emf_namespace_check(ns, err) < 0)
		return -1;
	else if (ns[0])
		rt->metrics_namespace = ns;
	default_ca_bundle(common);
	rot_options_init(&rt->opts);
	rt->opts.collapse_lag = !(collapse && strcasecmp(collapse, "false") == 0);
	rt->opts.anchor_in_secret = anchor && strcasecmp(anchor, "true") == 0;
	rt->opts.db.sslmode = common->sslmode;
	rt->opts.db.sslrootcert = common->sslrootcert;
	if (pgr_password_rules_from_env(&rt->opts.rules, err) < 0 ||
		rot_settings_from_env(&rt->opts, &rt->resolve, err) < 0)
		return -1;
	return aws_session_open(&common->aws, &rt->session, err);
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
	if (lambda_runtime_open(api, &rt.api, &err) < 0)
	{
		pgr_log_report(&err);
		return PGR_EXIT_FAILURE;
	}
	if (init(&rt, &common, &err) < 0)
	{
		pgr_error	ignored = {0};

		pgr_log_report(&err);
		lambda_runtime_fail(rt.api, NULL, "Runtime.InitError", &err, &ignored);
		goto done;
	}
	for (;;)
	{
		lambda_invocation inv;
		int			rc;

		if (lambda_runtime_next(rt.api, &inv, &err) < 0)
		{
			pgr_log_report(&err);
			break;
		}
		rc = handle(&rt, &inv);
		lambda_invocation_free(&inv);
		if (rc < 0)
			break;
	}

done:
	aws_session_close(rt.session);
	lambda_runtime_close(rt.api);
	resolve_map_free(&rt.resolve);
	return PGR_EXIT_FAILURE;
}
