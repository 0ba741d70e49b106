/*-------------------------------------------------------------------------
 *
 * aws_protocol.c
 *	  AWS's JSON and Query protocols over http.c (see aws_protocol.h).
 *
 * What passes through here may hold secrets both ways (a SecretString to
 * store, credentials in an answer): request bodies are built in pgr_bufs,
 * answers are freed with http_response_free(), and the parsed documents
 * live in the JSON and XML readers' wiping arenas; each is wiped when it
 * goes.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_protocol.h"
#include "buf.h"

/* ----- transports ------------------------------------------------------- */

static int
perform_http(void *arg, const aws_target *target, const char *operation,
			 const http_request *req, const http_signing *sign, http_response *resp,
			 pgr_error *err)
{
	(void) target;
	(void) operation;
	return http_perform(arg, req, sign, aws_error_code, resp, err);
}

/* Calls through http (its retries, its connection). */
aws_transport
aws_http_transport(http_client *http)
{
	aws_transport t = {perform_http, http};

	return t;
}

/* ----- errors ----------------------------------------------------------- */

/* "aws.prefix#Code:more" -> "Code" */
static void
copy_code(const char *s, size_t n, char *code, size_t codelen)
{
	const char *hash = memchr(s, '#', n);
	size_t		colon;

	if (hash)
	{
		n -= (size_t) (hash + 1 - s);
		s = hash + 1;
	}
	for (colon = 0; colon < n && s[colon] != ':'; colon++)
		;
	n = colon;
	if (n >= codelen)
		n = codelen - 1;
	memcpy(code, s, n);
	code[n] = '\0';
}

/* The <Error> element of a Query error document, in any of its spellings. */
static const xml_node *
xml_error_element(const xml_node *root)
{
	const xml_node *e;

	if (root && strcmp(xml_name(root), "Error") == 0)
		return root;
	e = xml_find(root, "Error");
	return e ? e : xml_find(root, "Errors/Error");
}

/*
 * The error code and message of a failed answer, in either protocol: the
 * code from X-Amzn-Errortype, else the JSON body's "__type" (or "code"),
 * else the XML document's <Code>, stripped of a namespace ("...#") and a
 * suffix (":..."); the message from "message"/"Message" or <Message>.
 * Either comes back "" when absent. Pure.
 */
void
aws_parse_error(const char *errortype_header, const char *body, size_t len,
				char *code, size_t codelen, char *message, size_t msglen)
{
	json_doc   *json = NULL;
	xml_doc    *xml = NULL;
	const char *c = NULL;
	const char *m = NULL;
	size_t		clen = 0;

	code[0] = '\0';
	message[0] = '\0';
	if (errortype_header && *errortype_header)
		copy_code(errortype_header, strlen(errortype_header), code, codelen);
	if (body && len && json_parse(body, len, 0, &json, NULL) == 0)
	{
		const json_value *root = json_root(json);
		const json_value *v = json_get(root, "__type");

		if (json_type_of(v) != JSON_STRING)
			v = json_get(root, "code");
		c = json_string(v, &clen);
		m = json_get_string(root, "message");
		if (!m)
			m = json_get_string(root, "Message");
	}
	else if (body && len && xml_parse(body, len, &xml, NULL) == 0)
	{
		const xml_node *e = xml_error_element(xml_root(xml));

		c = xml_find_text(e, "Code");
		clen = c ? strlen(c) : 0;
		m = xml_find_text(e, "Message");
	}
	if (c && !code[0])
		copy_code(c, clen, code, codelen);
	if (m)
		snprintf(message, msglen, "%s", m);
	json_free(json);
	xml_free(xml);
}

/* http_error_code_fn for the retry layer. */
void
aws_error_code(const http_response *resp, char *code, size_t codelen)
{
	char		msg[8];

	aws_parse_error(resp->errortype, resp->body, resp->bodylen, code, codelen,
					msg, sizeof(msg));
}

/* The hint for an error: the service's own, else one for any AWS API. */
static const char *
error_hint(const aws_service *svc, const char *code, long status)
{
	const char *hint = aws_service_hint(svc, code);

	if (hint)
		return hint;
	if (strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0)
		return "Grant the caller's IAM identity this action.";
	if (strcmp(code, "InvalidSignatureException") == 0 ||
		strcmp(code, "SignatureDoesNotMatch") == 0 ||
		strcmp(code, "IncompleteSignature") == 0)
		return "The request signature was rejected: check that the secret access key belongs to the access key id.";
	if (strcmp(code, "UnrecognizedClientException") == 0 ||
		strcmp(code, "InvalidClientTokenId") == 0)
		return "The access key id or session token is not valid: check the credentials.";
	if (strcmp(code, "ExpiredTokenException") == 0 || strcmp(code, "ExpiredToken") == 0)
		return "The session token has expired: obtain new temporary credentials.";
	if (http_is_clock_skew_code(code))
		return "Synchronize the system clock (for example with chrony or systemd-timesyncd).";
	if (http_is_throttling_code(code))
		return "Try again later, or raise AWS_MAX_ATTEMPTS.";
	if (status >= 500)
		return "The service had an internal error; try again later.";
	return NULL;
}

/* err for an answer that is not a 2xx: the service's code and words. */
static void
answer_error(const aws_target *t, const char *operation, const char *what,
			 const http_response *resp, pgr_error *err)
{
	char		code[128],
				msg[PGR_ERRMSG_LEN];
	const char *hint;

	aws_parse_error(resp->errortype, resp->body, resp->bodylen, code, sizeof(code),
					msg, sizeof(msg));
	pgr_error_set(err, PGR_ERR_AWS, code[0] ? code : NULL, "could not %s: %s%s%s",
				  what, code[0] ? code : "HTTP error", msg[0] ? ": " : "", msg);
	pgr_error_detail(err, "%s (%s) answered %s with HTTP %ld after %d attempt%s%s%s.",
					 t->service->name, t->url, operation, resp->status, resp->attempts,
					 resp->attempts == 1 ? "" : "s",
					 resp->request_id[0] ? "; request id " : "", resp->request_id);
	hint = error_hint(t->service, code, resp->status);
	if (hint)
		pgr_error_hint(err, "%s", hint);
	pgr_wipe(msg, sizeof(msg));
}

/* ----- one exchange ------------------------------------------------------ */

/*
 * POST req's body to the target; 0 when a 2xx answer is in resp (freed by
 * the caller either way), else -1 with err saying what went wrong.
 */
static int
exchange(const aws_transport *transport, const aws_target *t, const char *operation,
		 const char *what, http_request *req, http_response *resp, pgr_error *err)
{
	http_signing sign;

	memset(resp, 0, sizeof(*resp));
	req->method = "POST";
	req->url = t->url;
	req->allow_http = t->allow_http;
	req->max_response = t->service->max_response;
	req->what = t->service->name;
	sign.credentials = t->credentials;
	sign.region = t->region;
	sign.service = t->service->signing_name;
	if (transport->perform(transport->arg, t, operation, req,
						   t->credentials ? &sign : NULL, resp, err) != 0)
	{
		pgr_error_prefix(err, "could not %s: ", what);
		return -1;
	}
	if (resp->status < 200 || resp->status >= 300)
	{
		answer_error(t, operation, what, resp, err);
		return -1;
	}
	return 0;
}

/*
 * One JSON-protocol operation: body (a JSON object, may hold a secret) in,
 * the answer's object out (*out, freed with json_free).
 */
static int
call_json(const aws_transport *transport, const aws_target *target,
		  const char *operation, const char *body, size_t bodylen,
		  const char *what, json_doc **out, pgr_error *err)
{
	char		xtarget[128];
	http_header headers[2];
	http_request req;
	http_response resp;
	json_doc   *doc = NULL;
	int			rc = -1;

	snprintf(xtarget, sizeof(xtarget), "%s.%s", target->service->json_target, operation);
	headers[0] = (http_header) {"X-Amz-Target", xtarget, false};
	headers[1] = (http_header) {"Content-Type", "application/x-amz-json-1.1", false};
	memset(&req, 0, sizeof(req));
	req.headers = headers;
	req.nheaders = 2;
	req.body = body;
	req.bodylen = bodylen;
	if (exchange(transport, target, operation, what, &req, &resp, err) != 0)
		goto done;
	/* an empty answer is an empty object */
	if (json_parse(resp.bodylen ? resp.body : "{}", resp.bodylen ? resp.bodylen : 2, 0,
				   &doc, NULL) != 0 ||
		json_type_of(json_root(doc)) != JSON_OBJECT)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "could not %s: the response from %s is not a JSON object",
					  what, target->service->name);
		pgr_error_detail(err, "%s answered HTTP %ld with %zu bytes of malformed JSON.",
						 target->url, resp.status, resp.bodylen);
		pgr_error_hint(err, "Check that the endpoint really is %s.", target->service->name);
		goto done;
	}
	*out = doc;
	doc = NULL;
	rc = 0;
done:
	json_free(doc);
	http_response_free(&resp);
	return rc;
}

/* Append name=value, form-urlencoded; false when out of memory. */
bool
aws_form_append(pgr_buf *body, const char *name, const char *value)
{
	char	   *enc = sigv4_uri_encode(value, strlen(value), false);
	bool		ok;

	if (!enc)
		return false;
	ok = pgr_buf_printf(body, "%s%s=%s", body->len ? "&" : "", name, enc);
	pgr_free_secret(enc);
	return ok;
}

/*
 * One Query-protocol action: the form fields (values may be secrets) in,
 * the answer's XML document out (*out, freed with xml_free).
 */
static int
call_query(const aws_transport *transport, const aws_target *target,
		   const char *action, const aws_param *params, size_t nparams,
		   const char *what, xml_doc **out, pgr_error *err)
{
	http_header header = {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8",
	false};
	http_request req;
	http_response resp;
	pgr_buf		body;
	pgr_error	perr;
	bool		ok;
	int			rc = -1;

	memset(&resp, 0, sizeof(resp));
	pgr_buf_init(&body, 0);
	ok = aws_form_append(&body, "Action", action) &&
		aws_form_append(&body, "Version", target->service->api_version);
	for (size_t i = 0; ok && i < nparams; i++)
		ok = aws_form_append(&body, params[i].name, params[i].value);
	if (!ok)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.headers = &header;
	req.nheaders = 1;
	req.body = body.data;
	req.bodylen = body.len;
	if (exchange(transport, target, action, what, &req, &resp, err) != 0)
		goto done;
	if (xml_parse(resp.body, resp.bodylen, out, &perr) != 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "could not %s: the response from %s is not valid XML",
					  what, target->service->name);
		pgr_error_detail(err, "%s", perr.detail);
		pgr_error_hint(err, "Check that the endpoint really is %s.", target->service->name);
		goto done;
	}
	rc = 0;
done:
	http_response_free(&resp);
	pgr_buf_free(&body);
	return rc;
}

/*
 * One call in the target service's protocol: req in, out->json (JSON) or
 * out->xml (Query) out, freed with aws_answer_free(). what says what was
 * being done, for messages ("get the value of secret \"x\"").
 */
int
aws_call(const aws_transport *transport, const aws_target *target, const aws_request *req,
		 const char *what, aws_answer *out, pgr_error *err)
{
	memset(out, 0, sizeof(*out));
	if (target->service->protocol == AWS_PROTOCOL_QUERY)
		return call_query(transport, target, req->operation, req->params, req->nparams,
						  what, &out->xml, err);
	return call_json(transport, target, req->operation, req->body, req->bodylen, what,
					 &out->json, err);
}

/* Wipe and free an answer; the struct may be reused. */
void
aws_answer_free(aws_answer *answer)
{
	json_free(answer->json);
	xml_free(answer->xml);
	memset(answer, 0, sizeof(*answer));
}
