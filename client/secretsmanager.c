/*-------------------------------------------------------------------------
 *
 * secretsmanager.c
 *	  AWS Secrets Manager calls: JSON requests (awsJson1_1), SigV4 signed
 *	  through http.c, responses and errors parsed with json-c.
 *
 * Secret values pass through three kinds of memory we own: the serialized
 * request, the response body and json-c's objects (and its tokenizer's
 * buffer). Each is wiped before it is freed.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "buf.h"
#include "log.h"
#include "secretsmanager.h"

/* Refresh temporary credentials this long before they expire. */
#define CREDENTIAL_REFRESH_MARGIN 300

struct sm_client
{
	const aws_config *cfg;		/* borrowed: outlives the client */
	char	   *endpoint;
	bool		endpoint_explicit;
	char	   *region;
	http_client *http;
	bool		owns_http;
	aws_credentials creds;
	bool		have_creds;
};

/*
 * Create a client for the configuration cfg (borrowed: keep it alive while
 * the client is used). shared_http, if not NULL, is used instead of a new
 * handle and is not freed with the client.
 */
int
sm_client_new(const aws_config *cfg, http_client *shared_http, sm_client **out,
			  pgr_error *err)
{
	sm_client  *sm = calloc(1, sizeof(*sm));
	const char *source = NULL;

	if (!sm)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	sm->cfg = cfg;
	if (aws_config_endpoint(cfg, &aws_service_secretsmanager, &sm->endpoint,
							&sm->endpoint_explicit, &source, err) != 0)
		goto fail;
	if (!cfg->region)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "no AWS region is configured");
		pgr_error_detail(err, "Requests are signed for a region, even with --endpoint-url.");
		pgr_error_hint(err, "Give --region, set AWS_REGION, or set \"region\" in the profile \"%s\".",
					   cfg->profile);
		goto fail;
	}
	sm->region = strdup(cfg->region);
	if (!sm->region)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (shared_http)
		sm->http = shared_http;
	else
	{
		http_options hopts;

		aws_config_http_options(cfg, &hopts);
		sm->http = http_client_new(&hopts, err);
		if (!sm->http)
			goto fail;
		sm->owns_http = true;
	}
	if (cfg->verbose)
		pgr_log_debug("Secrets Manager endpoint %s (from %s), region %s (from %s)",
					  sm->endpoint, source, sm->region,
					  cfg->region_source ? cfg->region_source : "?");
	*out = sm;
	return 0;
fail:
	sm_client_free(sm);
	return -1;
}

void
sm_client_free(sm_client *sm)
{
	if (!sm)
		return;
	if (sm->owns_http)
		http_client_free(sm->http);
	aws_credentials_free(&sm->creds);
	free(sm->endpoint);
	free(sm->region);
	free(sm);
}

/* The client's HTTP handle, to share with other callers on this thread. */
http_client *
sm_client_http(sm_client *sm)
{
	return sm->http;
}

/* Resolve credentials on first use, and again when about to expire. */
static int
ensure_credentials(sm_client *sm, pgr_error *err)
{
	if (sm->have_creds &&
		!aws_credentials_expiring(&sm->creds, time(NULL), CREDENTIAL_REFRESH_MARGIN))
		return 0;
	if (sm->have_creds)
	{
		aws_credentials_free(&sm->creds);
		sm->have_creds = false;
	}
	if (aws_credentials_resolve(sm->cfg, sm->http, &sm->creds, err) != 0)
		return -1;
	sm->have_creds = true;
	if (sm->cfg->verbose)
		pgr_log_debug("using AWS credentials from %s (access key id %s)",
					  sm->creds.source, sm->creds.access_key_id);
	return 0;
}

/* Overwrite every string value in a json-c tree (they may be secrets). */
static void
wipe_strings(json_object *o)
{
	switch (json_object_get_type(o))
	{
		case json_type_string:
			pgr_wipe((char *) json_object_get_string(o),
					 (size_t) json_object_get_string_len(o));
			break;
		case json_type_object:
			{
				json_object_object_foreach(o, key, val)
				{
					(void) key;
					wipe_strings(val);
				}
				break;
			}
		case json_type_array:
			for (size_t i = 0; i < json_object_array_length(o); i++)
				wipe_strings(json_object_array_get_idx(o, i));
			break;
		default:
			break;
	}
}

/* Release a response object, wiping its strings first. NULL is allowed. */
void
sm_response_put(json_object *response)
{
	if (!response)
		return;
	wipe_strings(response);
	json_object_put(response);
}

/*
 * Parse JSON text into an owned object (put it with sm_response_put()); NULL
 * if it is not one valid JSON document. The tokenizer's buffer, which holds
 * each string while it is parsed, is sized to the input once so that it is
 * never reallocated (leaving copies of a secret in freed memory), and is
 * wiped before it is freed. Pure: exposed for tests and fuzzing.
 */
json_object *
sm_parse_json(const char *text, size_t len)
{
	json_tokener *tok;
	json_object *obj;

	if (!text || len > SM_MAX_RESPONSE_SIZE)
		return NULL;
	tok = json_tokener_new_ex(64);
	if (!tok)
		return NULL;
	if (printbuf_memset(tok->pb, 0, 0, (int) len + 1) < 0)
	{
		json_tokener_free(tok);
		return NULL;
	}
	printbuf_reset(tok->pb);
	obj = json_tokener_parse_ex(tok, text, (int) len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
				(size_t) json_tokener_get_parse_end(tok) < len))
	{
		/* trailing bytes after the value: not one JSON document */
		size_t		end = json_tokener_get_parse_end(tok);

		while (end < len && (text[end] == ' ' || text[end] == '\n' ||
							 text[end] == '\r' || text[end] == '\t'))
			end++;
		if (end < len)
		{
			sm_response_put(obj);
			obj = NULL;
		}
	}
	/* json-c 0.16 keeps its printbuf public; wipe what it copied */
	if (tok->pb && tok->pb->buf)
		pgr_wipe(tok->pb->buf, (size_t) tok->pb->size);
	json_tokener_free(tok);
	return obj;
}

static void
copy_code(const char *s, size_t n, char *code, size_t codelen)
{
	const char *hash;
	size_t		colon;

	/* "aws.prefix#Code:more" -> "Code" */
	hash = memchr(s, '#', n);
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

/*
 * The error code and message of a failed awsJson1_1 response: the code from
 * X-Amzn-Errortype, else the body's "__type" (or "code"), both stripped of a
 * namespace ("...#") and of a suffix (":..."); the message from the body's
 * "message" or "Message". An XML error body (<Code>, <Message>) is
 * understood too. Either comes back "" when absent.
 */
void
sm_parse_error(const char *errortype_header, const char *body, size_t len,
			   char *code, size_t codelen, char *message, size_t msglen)
{
	json_object *doc = NULL;
	json_object *v;

	code[0] = '\0';
	message[0] = '\0';
	if (errortype_header && *errortype_header)
		copy_code(errortype_header, strlen(errortype_header), code, codelen);
	if (body && len)
		doc = sm_parse_json(body, len);
	if (doc && json_object_is_type(doc, json_type_object))
	{
		if (!code[0] &&
			((json_object_object_get_ex(doc, "__type", &v) ||
			  json_object_object_get_ex(doc, "code", &v)) &&
			 json_object_is_type(v, json_type_string)))
			copy_code(json_object_get_string(v), (size_t) json_object_get_string_len(v),
					  code, codelen);
		if ((json_object_object_get_ex(doc, "message", &v) ||
			 json_object_object_get_ex(doc, "Message", &v)) &&
			json_object_is_type(v, json_type_string))
			snprintf(message, msglen, "%s", json_object_get_string(v));
	}
	else if (body && len && memchr(body, '<', len) && strlen(body) == len)
	{
		/* query-protocol style XML errors (moto's IAM checks, proxies) */
		char	   *c = aws_xml_text(body, "Code");
		char	   *m = aws_xml_text(body, "Message");

		if (c && !code[0])
			copy_code(c, strlen(c), code, codelen);
		if (m)
			snprintf(message, msglen, "%s", m);
		free(c);
		free(m);
	}
	sm_response_put(doc);
}

/* http_error_code_fn for the retry layer. */
void
sm_error_code(const http_response *resp, char *code, size_t codelen)
{
	char		msg[8];

	sm_parse_error(resp->errortype, resp->body, resp->bodylen, code, codelen,
				   msg, sizeof(msg));
}

/* Whether err carries the service error code "code". */
bool
sm_error_is(const pgr_error *err, const char *code)
{
	return err && code && strcmp(err->code, code) == 0;
}

/* The hint for a service error, by code; NULL if none fits. */
static const char *
error_hint(const char *code, long status)
{
	if (strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0)
		return "Grant the caller's IAM identity this Secrets Manager action on the secret (and kms:Decrypt on its key).";
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
	if (strcmp(code, "ResourceNotFoundException") == 0)
		return "Check the secret id, the version id or stage, and the region.";
	if (strcmp(code, "InvalidRequestException") == 0)
		return "The secret's current state does not allow this request; see the message.";
	if (strcmp(code, "DecryptionFailure") == 0)
		return "Grant kms:Decrypt on the secret's KMS key to the caller.";
	if (http_is_throttling_code(code))
		return "Try again later, or raise AWS_MAX_ATTEMPTS.";
	if (status >= 500)
		return "The service had an internal error; try again later.";
	return NULL;
}

/*
 * Call one operation. what says what we were doing, for the message
 * ("get the value of secret \"x\""). On success *response (if not NULL)
 * receives the parsed JSON object; on failure err holds the service's code.
 */
static int
call(sm_client *sm, const char *operation, const char *what, json_object *request,
	 json_object **response, pgr_error *err)
{
	char		target[128];
	http_header headers[2];
	http_request req;
	http_signing sign;
	sigv4_credentials cred;
	http_response resp;
	const char *body;
	size_t		bodylen;
	json_object *doc = NULL;
	int			rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (ensure_credentials(sm, err) != 0)
		return -1;
	body = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN |
										  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!body)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	bodylen = strlen(body);
	snprintf(target, sizeof(target), "secretsmanager.%s", operation);
	headers[0] = (http_header) {"X-Amz-Target", target, false};
	headers[1] = (http_header) {"Content-Type", "application/x-amz-json-1.1", false};
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = sm->endpoint;
	req.headers = headers;
	req.nheaders = 2;
	req.body = body;
	req.bodylen = bodylen;
	req.max_response = SM_MAX_RESPONSE_SIZE;
	req.allow_http = sm->endpoint_explicit;
	req.what = "Secrets Manager";
	cred.access_key_id = sm->creds.access_key_id;
	cred.secret_access_key = sm->creds.secret_access_key;
	cred.session_token = sm->creds.session_token;
	sign.credentials = &cred;
	sign.region = sm->region;
	sign.service = "secretsmanager";

	if (http_perform(sm->http, &req, &sign, sm_error_code, &resp, err) != 0)
	{
		pgr_error_prefix(err, "could not %s: ", what);
		goto done;
	}
	if (resp.status < 200 || resp.status >= 300)
	{
		char		code[128],
					msg[PGR_ERRMSG_LEN];
		const char *hint;

		sm_parse_error(resp.errortype, resp.body, resp.bodylen, code, sizeof(code),
					   msg, sizeof(msg));
		pgr_error_set(err, PGR_ERR_AWS, code[0] ? code : NULL, "could not %s: %s%s%s",
					  what, code[0] ? code : "HTTP error",
					  msg[0] ? ": " : "", msg);
		pgr_error_detail(err, "Secrets Manager (%s) answered %s with HTTP %ld after %d attempt%s%s%s.",
						 sm->endpoint, operation, resp.status, resp.attempts,
						 resp.attempts == 1 ? "" : "s",
						 resp.request_id[0] ? "; request id " : "", resp.request_id);
		hint = error_hint(code, resp.status);
		if (hint)
			pgr_error_hint(err, "%s", hint);
		pgr_wipe(msg, sizeof(msg));
		goto done;
	}
	doc = resp.bodylen ? sm_parse_json(resp.body, resp.bodylen) : json_object_new_object();
	if (!doc || !json_object_is_type(doc, json_type_object))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "could not %s: the response from Secrets Manager is not a JSON object",
					  what);
		pgr_error_detail(err, "%s answered HTTP %ld with %zu bytes of malformed JSON.",
						 sm->endpoint, resp.status, resp.bodylen);
		pgr_error_hint(err, "Check that the endpoint really is Secrets Manager.");
		goto done;
	}
	if (response)
	{
		*response = doc;
		doc = NULL;
	}
	rc = 0;
done:
	sm_response_put(doc);
	/* the serialized request may hold a secret value */
	pgr_wipe((char *) body, bodylen);
	http_response_free(&resp);
	return rc;
}

/* Add a string member if value is not NULL; false when out of memory. */
static bool
add_string(json_object *obj, const char *key, const char *value)
{
	json_object *s;

	if (!value)
		return true;
	s = json_object_new_string(value);
	if (!s)
		return false;
	if (json_object_object_add(obj, key, s) != 0)
	{
		json_object_put(s);
		return false;
	}
	return true;
}

static bool
add_bool(json_object *obj, const char *key, bool set, bool value)
{
	json_object *b;

	if (!set)
		return true;
	b = json_object_new_boolean(value);
	if (!b || json_object_object_add(obj, key, b) != 0)
	{
		json_object_put(b);
		return false;
	}
	return true;
}

/* A string member, borrowed; NULL if absent or not a string. */
static const char *
get_string(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Copy an array of strings; false on a non-string or out of memory. */
static bool
copy_string_array(json_object *arr, char ***out, int *n)
{
	size_t		len;

	*out = NULL;
	*n = 0;
	if (!arr)
		return true;
	if (!json_object_is_type(arr, json_type_array))
		return false;
	len = json_object_array_length(arr);
	*out = calloc(len + 1, sizeof(char *));
	if (!*out)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string) ||
			!((*out)[i] = strdup(json_object_get_string(e))))
			return false;
		(*n)++;
	}
	return true;
}

static void
free_string_array(char **arr, int n)
{
	for (int i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

static json_object *
new_request(pgr_error *err)
{
	json_object *r = json_object_new_object();

	if (!r)
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	return r;
}

static int
request_oom(json_object *req, pgr_error *err)
{
	sm_response_put(req);
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	return -1;
}

/*
 * The end of a read call: on a parse failure (parsed != 0) say which call
 * it was and drop the response; otherwise give the caller the raw object
 * (response, may be NULL) or drop it.
 */
static int
hand_over(json_object *doc, int parsed, const char *what, json_object **response,
		  pgr_error *err)
{
	if (parsed != 0)
	{
		pgr_error_prefix(err, "could not %s: ", what);
		sm_response_put(doc);
		return -1;
	}
	if (response)
		*response = doc;
	else
		sm_response_put(doc);
	return 0;
}

/*
 * GetSecretValue of one version, named by version_id and/or version_stage
 * (give one: without either the service picks AWSCURRENT, which moto gets
 * wrong). out (may be NULL) receives the typed value; response (may be
 * NULL) the raw object.
 */
int
sm_get_secret_value(sm_client *sm, const char *secret_id, const char *version_id,
					const char *version_stage, sm_secret_value *out,
					json_object **response, pgr_error *err)
{
	json_object *req = new_request(err);
	json_object *doc = NULL;
	char		what[PGR_ERRMSG_LEN / 2];
	int			rc;

	if (!req)
		return -1;
	if (!add_string(req, "SecretId", secret_id) ||
		!add_string(req, "VersionId", version_id) ||
		!add_string(req, "VersionStage", version_stage))
		return request_oom(req, err);
	snprintf(what, sizeof(what), "get the value of secret \"%s\"%s%s%s", secret_id,
			 version_stage || version_id ? " (" : "",
			 version_stage ? version_stage : version_id ? version_id : "",
			 version_stage || version_id ? ")" : "");
	rc = call(sm, "GetSecretValue", what, req, &doc, err);
	json_object_put(req);
	if (rc != 0)
		return -1;

	return hand_over(doc, sm_secret_value_from_response(doc, out, err), what, response, err);
}

/*
 * The typed value of a GetSecretValue response doc (borrowed). out may be
 * NULL to check the response only. On success *out owns copies (free with
 * sm_secret_value_free); on failure nothing is left allocated. Pure.
 */
int
sm_secret_value_from_response(json_object *doc, sm_secret_value *out, pgr_error *err)
{
	sm_secret_value v;
	json_object *created;
	const char *secret_string = get_string(doc, "SecretString");

	if (secret_string &&
		json_object_get_string_len(json_object_object_get(doc, "SecretString")) > SM_MAX_SECRET_SIZE)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the value is larger than Secrets Manager's %d-byte limit",
					  SM_MAX_SECRET_SIZE);
		return -1;
	}
	if (!out)
		return 0;
	memset(&v, 0, sizeof(v));
	v.arn = pgr_strdup(get_string(doc, "ARN"));
	v.name = pgr_strdup(get_string(doc, "Name"));
	v.version_id = pgr_strdup(get_string(doc, "VersionId"));
	v.secret_string = pgr_strdup(secret_string);
	if (json_object_object_get_ex(doc, "CreatedDate", &created))
		v.created_date = json_object_get_double(created);
	if (!copy_string_array(json_object_object_get(doc, "VersionStages"),
						   &v.version_stages, &v.nstages) ||
		!v.version_id)
	{
		sm_secret_value_free(&v);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the response lacks VersionId or has malformed VersionStages");
		return -1;
	}
	*out = v;
	return 0;
}

void
sm_secret_value_free(sm_secret_value *v)
{
	if (!v)
		return;
	free(v->arn);
	free(v->name);
	free(v->version_id);
	pgr_free_secret(v->secret_string);
	free_string_array(v->version_stages, v->nstages);
	memset(v, 0, sizeof(*v));
}

/*
 * DescribeSecret: the ARN, rotation settings and every version's stages
 * (VersionIdsToStages).
 */
int
sm_describe_secret(sm_client *sm, const char *secret_id, sm_description *out,
				   json_object **response, pgr_error *err)
{
	json_object *req = new_request(err);
	json_object *doc = NULL;
	char		what[PGR_ERRMSG_LEN / 2];
	int			rc;

	if (!req)
		return -1;
	if (!add_string(req, "SecretId", secret_id))
		return request_oom(req, err);
	snprintf(what, sizeof(what), "describe secret \"%s\"", secret_id);
	rc = call(sm, "DescribeSecret", what, req, &doc, err);
	json_object_put(req);
	if (rc != 0)
		return -1;
	return hand_over(doc, out ? sm_description_from_response(doc, out, err) : 0, what,
					 response, err);
}

/*
 * The typed form of a DescribeSecret response doc (borrowed). On success
 * *out owns copies (free with sm_description_free); on failure nothing is
 * left allocated. Pure.
 */
int
sm_description_from_response(json_object *doc, sm_description *out, pgr_error *err)
{
	sm_description d;
	json_object *v;
	bool		ok = true;

	memset(&d, 0, sizeof(d));
	d.arn = pgr_strdup(get_string(doc, "ARN"));
	d.name = pgr_strdup(get_string(doc, "Name"));
	d.rotation_lambda_arn = pgr_strdup(get_string(doc, "RotationLambdaARN"));
	if (json_object_object_get_ex(doc, "RotationEnabled", &v))
	{
		d.rotation_enabled_present = true;
		d.rotation_enabled = json_object_get_boolean(v);
	}
	d.deleted = json_object_object_get_ex(doc, "DeletedDate", &v) &&
		!json_object_is_type(v, json_type_null);
	if (json_object_object_get_ex(doc, "VersionIdsToStages", &v))
	{
		if (!json_object_is_type(v, json_type_object))
			ok = false;
		else
		{
			d.versions = calloc((size_t) json_object_object_length(v) + 1,
								sizeof(sm_version));
			ok = d.versions != NULL;
			if (ok)
			{
				json_object_object_foreach(v, vid, stages)
				{
					sm_version *ver = &d.versions[d.nversions++];

					ver->version_id = strdup(vid);
					if (!ver->version_id ||
						!copy_string_array(stages, &ver->stages, &ver->nstages))
					{
						ok = false;
						break;
					}
				}
			}
		}
	}
	if (!ok)
	{
		sm_description_free(&d);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "malformed VersionIdsToStages in the response");
		return -1;
	}
	*out = d;
	return 0;
}

void
sm_description_free(sm_description *d)
{
	if (!d)
		return;
	free(d->arn);
	free(d->name);
	free(d->rotation_lambda_arn);
	for (int i = 0; i < d->nversions; i++)
	{
		free(d->versions[i].version_id);
		free_string_array(d->versions[i].stages, d->versions[i].nstages);
	}
	free(d->versions);
	memset(d, 0, sizeof(*d));
}

/* The version id that carries stage, or NULL. */
const char *
sm_version_with_stage(const sm_description *d, const char *stage)
{
	for (int i = 0; i < d->nversions; i++)
		for (int j = 0; j < d->versions[i].nstages; j++)
			if (strcmp(d->versions[i].stages[j], stage) == 0)
				return d->versions[i].version_id;
	return NULL;
}

/* Whether version_id exists and carries stage. */
bool
sm_version_has_stage(const sm_description *d, const char *version_id, const char *stage)
{
	for (int i = 0; i < d->nversions; i++)
		if (strcmp(d->versions[i].version_id, version_id) == 0)
			for (int j = 0; j < d->versions[i].nstages; j++)
				if (strcmp(d->versions[i].stages[j], stage) == 0)
					return true;
	return false;
}

/*
 * PutSecretValue: a new version with SecretString, ClientRequestToken (the
 * idempotency token / version id), VersionStages and RotationToken passed
 * through as given.
 */
int
sm_put_secret_value(sm_client *sm, const sm_put_input *in, sm_put_output *out,
					json_object **response, pgr_error *err)
{
	json_object *req = new_request(err);
	json_object *doc = NULL;
	char		what[PGR_ERRMSG_LEN / 2];
	int			rc;

	if (!req)
		return -1;
	if (in->secret_string && strlen(in->secret_string) > SM_MAX_SECRET_SIZE)
	{
		json_object_put(req);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "cannot store a value in secret \"%s\": it is larger than Secrets Manager's %d-byte limit",
					  in->secret_id, SM_MAX_SECRET_SIZE);
		return -1;
	}
	if (!add_string(req, "SecretId", in->secret_id) ||
		!add_string(req, "ClientRequestToken", in->client_request_token) ||
		!add_string(req, "SecretString", in->secret_string) ||
		!add_string(req, "RotationToken", in->rotation_token))
		return request_oom(req, err);
	if (in->version_stages && in->nstages > 0)
	{
		json_object *arr = json_object_new_array();

		if (!arr || json_object_object_add(req, "VersionStages", arr) != 0)
		{
			json_object_put(arr);
			return request_oom(req, err);
		}
		for (int i = 0; i < in->nstages; i++)
		{
			json_object *s = json_object_new_string(in->version_stages[i]);

			if (!s || json_object_array_add(arr, s) != 0)
			{
				json_object_put(s);
				return request_oom(req, err);
			}
		}
	}
	snprintf(what, sizeof(what), "store a new value in secret \"%s\"", in->secret_id);
	rc = call(sm, "PutSecretValue", what, req, &doc, err);
	sm_response_put(req);		/* wipes SecretString */
	if (rc != 0)
		return -1;
	if (out)
		sm_put_output_from_response(doc, out);
	if (response)
		*response = doc;
	else
		sm_response_put(doc);
	return 0;
}

/*
 * The typed form of a PutSecretValue response doc (borrowed): each member
 * a copy, NULL when absent. Free with sm_put_output_free. Pure.
 */
void
sm_put_output_from_response(json_object *doc, sm_put_output *out)
{
	memset(out, 0, sizeof(*out));
	out->arn = pgr_strdup(get_string(doc, "ARN"));
	out->name = pgr_strdup(get_string(doc, "Name"));
	out->version_id = pgr_strdup(get_string(doc, "VersionId"));
}

void
sm_put_output_free(sm_put_output *o)
{
	if (!o)
		return;
	free(o->arn);
	free(o->name);
	free(o->version_id);
	memset(o, 0, sizeof(*o));
}

/*
 * UpdateSecretVersionStage: move version_stage to move_to_version_id and/or
 * remove it from remove_from_version_id.
 */
int
sm_update_secret_version_stage(sm_client *sm, const char *secret_id,
							   const char *version_stage, const char *move_to_version_id,
							   const char *remove_from_version_id,
							   json_object **response, pgr_error *err)
{
	json_object *req = new_request(err);
	json_object *doc = NULL;
	char		what[PGR_ERRMSG_LEN / 2];
	int			rc;

	if (!req)
		return -1;
	if (!add_string(req, "SecretId", secret_id) ||
		!add_string(req, "VersionStage", version_stage) ||
		!add_string(req, "MoveToVersionId", move_to_version_id) ||
		!add_string(req, "RemoveFromVersionId", remove_from_version_id))
		return request_oom(req, err);
	snprintf(what, sizeof(what), "move stage \"%s\" of secret \"%s\"",
			 version_stage ? version_stage : "", secret_id);
	rc = call(sm, "UpdateSecretVersionStage", what, req, &doc, err);
	json_object_put(req);
	if (rc != 0)
		return -1;
	if (response)
		*response = doc;
	else
		sm_response_put(doc);
	return 0;
}

/*
 * GetRandomPassword with every option the API has. *password (may be NULL)
 * receives a copy to free with pgr_free_secret().
 */
int
sm_get_random_password(sm_client *sm, const sm_random_password_input *in,
					   char **password, json_object **response, pgr_error *err)
{
	json_object *req = new_request(err);
	json_object *doc = NULL;
	const char *pw;
	int			rc;

	if (!req)
		return -1;
	if (in->password_length > 0)
	{
		json_object *n = json_object_new_int64(in->password_length);

		if (!n || json_object_object_add(req, "PasswordLength", n) != 0)
		{
			json_object_put(n);
			return request_oom(req, err);
		}
	}
	if (!add_string(req, "ExcludeCharacters", in->exclude_characters) ||
		!add_bool(req, "ExcludeNumbers", in->exclude_numbers_set, in->exclude_numbers) ||
		!add_bool(req, "ExcludePunctuation", in->exclude_punctuation_set, in->exclude_punctuation) ||
		!add_bool(req, "ExcludeUppercase", in->exclude_uppercase_set, in->exclude_uppercase) ||
		!add_bool(req, "ExcludeLowercase", in->exclude_lowercase_set, in->exclude_lowercase) ||
		!add_bool(req, "IncludeSpace", in->include_space_set, in->include_space) ||
		!add_bool(req, "RequireEachIncludedType", in->require_each_included_type_set,
				  in->require_each_included_type))
		return request_oom(req, err);
	rc = call(sm, "GetRandomPassword", "get a random password", req, &doc, err);
	json_object_put(req);
	if (rc != 0)
		return -1;
	pw = get_string(doc, "RandomPassword");
	if (!pw)
	{
		sm_response_put(doc);
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "could not get a random password: the response has no RandomPassword");
		return -1;
	}
	if (password && !(*password = strdup(pw)))
	{
		sm_response_put(doc);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	if (response)
		*response = doc;
	else
		sm_response_put(doc);
	return 0;
}
