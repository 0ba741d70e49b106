/*-------------------------------------------------------------------------
 *
 * emf.c
 *	  One Lambda invocation's metrics as a CloudWatch Embedded Metric
 *	  Format document (see emf.h).
 *
 * The format (CloudWatch's "Specification: Embedded metric format"): a JSON
 * object whose "_aws" member holds "Timestamp" (integer milliseconds since
 * the epoch) and "CloudWatchMetrics", an array of directives, each with
 * "Namespace", "Dimensions" (an array of dimension sets, each an array of at
 * most 9 member names; a set may be empty) and "Metrics" (at most 100
 * {"Name", "Unit"}). Every name a directive uses must be a member of the
 * root object: a dimension's value a string, a metric's a number. Other
 * root members are kept as log fields. So a metric that was not measured
 * (the lag of a step that moved no label) is left out of both places.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "emf.h"
#include "json.h"

#define EMF_SECRET_NAME_LEN 1024	/* CloudWatch's limit on a dimension value */

/*
 * Is ns a namespace CloudWatch accepts for custom metrics? 1 to 255
 * printable ASCII characters, not starting with ':' nor with "AWS/"
 * (reserved for AWS's own). Returns 0, or -1 with a usage error.
 */
int
emf_namespace_check(const char *ns, pgr_error *err)
{
	size_t		len = ns ? strlen(ns) : 0;
	bool		printable = true;

	for (size_t i = 0; i < len; i++)
		if (ns[i] < 0x20 || ns[i] > 0x7e)
			printable = false;
	if (len == 0 || len > EMF_MAX_NAMESPACE_LEN || !printable || ns[0] == ':' ||
		strncmp(ns, "AWS/", 4) == 0)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid CloudWatch namespace in %s",
					  EMF_NAMESPACE_ENV);
		pgr_error_detail(err, "A namespace has 1 to %d printable ASCII characters, does not "
						 "start with \":\" and is not under \"AWS/\".", EMF_MAX_NAMESPACE_LEN);
		pgr_error_hint(err, "Unset it for the default \"%s\", or set it to another name.",
					   EMF_DEFAULT_NAMESPACE);
		return -1;
	}
	return 0;
}

/*
 * Did this invocation complete the rotation, i.e. move AWSCURRENT to the
 * new version? finishSecret does, and setSecret when it collapsed the lag
 * (then it measured the lag). A step that found the version current already
 * ("already_current") completed nothing: an earlier invocation did.
 */
bool
emf_rotation_completed(const char *step, const rot_result *res)
{
	rot_step_kind kind;

	if (res->outcome != ROT_OUTCOME_ROTATED || rot_step_parse(step, &kind) < 0)
		return false;
	return kind == ROT_FINISH_SECRET || (kind == ROT_SET_SECRET && res->lag_ms >= 0);
}

static void
write_metric(json_writer *w, const char *name, const char *unit)
{
	json_write_begin_object(w);
	json_write_key(w, "Name");
	json_write_string(w, name);
	json_write_key(w, "Unit");
	json_write_string(w, unit);
	json_write_end_object(w);
}

/*
 * The document of one invocation into out (initialized here): the metrics
 * above, and as plain log fields the request id, the step (null when the
 * event named none), the outcome and the secret's ARN. Returns false when
 * out could not be written (out of memory).
 */
bool
emf_write_invocation(pgr_buf *out, const char *ns, double timestamp_ms,
					 const char *request_id, const char *step, const rot_result *res)
{
	char		name[EMF_SECRET_NAME_LEN + 1];
	bool		lag = res->lag_ms >= 0;
	bool		failed = rot_outcome_is_failure(res->outcome);
	json_writer w;

	rot_result_secret_name(res, name, sizeof(name));
	pgr_buf_init(out, 0);
	json_writer_init(&w, out, false);
	json_write_begin_object(&w);
	json_write_key(&w, "_aws");
	json_write_begin_object(&w);
	json_write_key(&w, "Timestamp");
	json_write_int(&w, (long long) timestamp_ms);
	json_write_key(&w, "CloudWatchMetrics");
	json_write_begin_array(&w);
	json_write_begin_object(&w);
	json_write_key(&w, "Namespace");
	json_write_string(&w, ns);
	json_write_key(&w, "Dimensions");
	json_write_begin_array(&w);
	json_write_begin_array(&w);
	json_write_string(&w, "SecretName");
	json_write_end_array(&w);
	json_write_begin_array(&w);
	json_write_end_array(&w);
	json_write_end_array(&w);
	json_write_key(&w, "Metrics");
	json_write_begin_array(&w);
	write_metric(&w, "Rotated", "Count");
	write_metric(&w, "Failed", "Count");
	if (lag)
		write_metric(&w, "LagMs", "Milliseconds");
	write_metric(&w, "DurationMs", "Milliseconds");
	json_write_end_array(&w);
	json_write_end_object(&w);
	json_write_end_array(&w);
	json_write_end_object(&w);

	/* the directive's targets */
	json_write_key(&w, "SecretName");
	json_write_string(&w, name);
	json_write_key(&w, "Rotated");
	json_write_int(&w, emf_rotation_completed(step, res) ? 1 : 0);
	json_write_key(&w, "Failed");
	json_write_int(&w, failed ? 1 : 0);
	if (lag)
	{
		json_write_key(&w, "LagMs");
		json_write_double(&w, res->lag_ms);
	}
	json_write_key(&w, "DurationMs");
	json_write_double(&w, res->total_ms);

	/* log fields, for CloudWatch Logs Insights */
	json_write_key(&w, "RequestId");
	json_write_string(&w, request_id);
	json_write_key(&w, "Step");
	if (step)
		json_write_string(&w, step);
	else
		json_write_null(&w);
	json_write_key(&w, "Outcome");
	json_write_string(&w, rot_outcome_name(res->outcome));
	json_write_key(&w, "SecretId");
	json_write_string(&w, res->secret_id);
	json_write_end_object(&w);
	return json_writer_ok(&w);
}
