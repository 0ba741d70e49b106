/*-------------------------------------------------------------------------
 *
 * lambda_runtime.c
 *	  The Lambda Runtime API client (see lambda_runtime.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "json.h"
#include "lambda_runtime.h"

#define RUNTIME_PATH	"/2018-06-01/runtime"

/* The captured headers of a "next invocation" answer, by index. */
enum
{
	H_REQUEST_ID = 0,
	H_DEADLINE,
	H_TRACE_ID
};

struct lambda_runtime
{
	char		base[512];		/* http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime */
	http_client *http;
};

/* A client for the Runtime API at api ("host:port"). */
int
lambda_runtime_open(const char *api, lambda_runtime **out, pgr_error *err)
{
	lambda_runtime *rt;
	http_options o;

	if (http_global_init(err) != 0)
		return -1;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	snprintf(rt->base, sizeof(rt->base), "http://%s%s", api, RUNTIME_PATH);
	memset(&o, 0, sizeof(o));
	o.max_attempts = 1;
	rt->http = http_client_new(&o, err);
	if (!rt->http)
	{
		free(rt);
		return -1;
	}
	*out = rt;
	return 0;
}

void
lambda_runtime_close(lambda_runtime *rt)
{
	if (!rt)
		return;
	http_client_free(rt->http);
	free(rt);
}

/* GET the next invocation; no timeout, as the Runtime API may hold it long. */
int
lambda_runtime_next(lambda_runtime *rt, lambda_invocation *out, pgr_error *err)
{
	char		url[600];
	http_request req = {0};
	http_response resp = {0};
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s/invocation/next", rt->base);
	req.method = "GET";
	req.url = url;
	req.timeout_ms = -1;
	req.max_attempts = 1;
	req.allow_http = true;
	req.max_response = LAMBDA_MAX_EVENT_SIZE;
	req.what = "the Lambda Runtime API";
	req.capture_headers[H_REQUEST_ID] = "Lambda-Runtime-Aws-Request-Id";
	req.capture_headers[H_DEADLINE] = "Lambda-Runtime-Deadline-Ms";
	req.capture_headers[H_TRACE_ID] = "Lambda-Runtime-Trace-Id";
	if (http_perform(rt->http, &req, NULL, NULL, &resp, err) < 0)
		goto done;
	if (resp.status != 200 || !resp.captured[H_REQUEST_ID][0])
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL,
					  "the Lambda Runtime API answered the next-invocation request with HTTP %ld",
					  resp.status);
		goto done;
	}
	snprintf(out->request_id, sizeof(out->request_id), "%s", resp.captured[H_REQUEST_ID]);
	snprintf(out->trace_id, sizeof(out->trace_id), "%s", resp.captured[H_TRACE_ID]);
	out->deadline_ms = strtod(resp.captured[H_DEADLINE], NULL);
	out->event_len = resp.bodylen;
	out->event = resp.body;
	resp.body = NULL;
	rc = 0;
done:
	http_response_free(&resp);
	return rc;
}

void
lambda_invocation_free(lambda_invocation *inv)
{
	if (!inv)
		return;
	if (inv->event)
	{
		pgr_wipe(inv->event, inv->event_len);
		free(inv->event);
	}
	memset(inv, 0, sizeof(*inv));
}

/* POST a JSON body to the Runtime API; an error type goes in its header. */
static int
post(lambda_runtime *rt, const char *path, const char *body, const char *error_type,
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

/* The invocation succeeded: its response is body (JSON text). */
int
lambda_runtime_respond(lambda_runtime *rt, const char *request_id, const char *body,
					   pgr_error *err)
{
	char		path[600];

	snprintf(path, sizeof(path), "/invocation/%s/response", request_id);
	return post(rt, path, body, NULL, err);
}

/*
 * The invocation (or, with request_id NULL, the runtime's start) failed:
 * {"errorMessage": why's message and detail, "errorType": error_type}.
 */
int
lambda_runtime_fail(lambda_runtime *rt, const char *request_id, const char *error_type,
					const pgr_error *why, pgr_error *err)
{
	char		path[600];
	pgr_buf		body;
	json_writer w;
	int			rc = -1;

	if (request_id)
		snprintf(path, sizeof(path), "/invocation/%s/error", request_id);
	else
		snprintf(path, sizeof(path), "/init/error");
	pgr_buf_init(&body, 0);
	json_writer_init(&w, &body, false);
	json_write_begin_object(&w);
	json_write_key(&w, "errorMessage");
	{
		char		message[PGR_ERRMSG_LEN * 2 + 4];

		snprintf(message, sizeof(message), "%s%s%s", why->message,
				 why->detail[0] ? ": " : "", why->detail);
		json_write_string(&w, message);
	}
	json_write_key(&w, "errorType");
	json_write_string(&w, error_type);
	json_write_end_object(&w);
	if (!json_writer_ok(&w))
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	else
		rc = post(rt, path, body.data, error_type, err);
	pgr_buf_free(&body);
	return rc;
}
