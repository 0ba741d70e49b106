/*-------------------------------------------------------------------------
 *
 * http.c
 *	  Requests through one reused libcurl handle, with the AWS SDKs'
 *	  "standard" retry mode and per-attempt SigV4 signing.
 *
 * Retry rules (as in the SDKs' standard mode): at most max_attempts
 * attempts (3 by default); retry on connection errors and timeouts, on HTTP
 * 500/502/503/504, and on throttling or transient error codes; never on any
 * other 4xx. The delay before retry i is full-jitter exponential backoff,
 * random(0, 1) * min(20 s, base * 2^(i-1)) with a 1 s base. A client-wide
 * retry quota (500 tokens, 5 per retry, 10 per timeout retry) stops retry
 * storms when a service is down. A clock-skew error whose Date header shows
 * the local clock more than 4 minutes off is retried once, re-signed with
 * the server's time, without counting as an attempt.
 *
 * TLS peer and host verification are always on; plain http is refused
 * unless the request says it was given explicitly. Verbose logs show the
 * method, URL, headers (Authorization, X-Amz-Security-Token and other
 * credentials redacted), status and timing, never a body.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "buf.h"
#include "clock.h"
#include "http.h"
#include "log.h"

#define RETRY_QUOTA_MAX		500
#define RETRY_COST			5
#define RETRY_TIMEOUT_COST	10
#define CLOCK_SKEW_SECONDS	240

struct http_client
{
	CURL	   *curl;
	long		connect_timeout_ms;
	long		timeout_ms;
	int			max_attempts;
	char	   *ca_bundle;
	bool		verbose;
	double		backoff_base_ms;
	int			retry_quota;
	long		clock_offset;	/* seconds to add to the local clock */
	double		deadline_ms;	/* epoch ms no request may outlast; 0: none */
	char		errbuf[CURL_ERROR_SIZE];
};

/* What one transfer collects. */
typedef struct transfer
{
	pgr_buf		body;
	const http_request *req;
	http_response *resp;
} transfer;

static const char *const throttling_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "InternalFailure", "InternalServiceError",
	"ServiceUnavailable", NULL
};

static const char *const clock_skew_codes[] = {
	"RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException",
	"SignatureDoesNotMatch", "AuthFailure", "RequestInTheFuture", NULL
};

static const char *const redacted_headers[] = {
	"authorization", "x-amz-security-token", "x-aws-ec2-metadata-token",
	"proxy-authorization", NULL
};

static bool
in_list(const char *const *list, const char *code)
{
	if (!code || !*code)
		return false;
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return true;
	return false;
}

bool
http_is_throttling_code(const char *code)
{
	return in_list(throttling_codes, code);
}

bool
http_is_transient_code(const char *code)
{
	return in_list(transient_codes, code);
}

bool
http_is_clock_skew_code(const char *code)
{
	return in_list(clock_skew_codes, code);
}

/*
 * Whether a completed response should be retried: 500/502/503/504, 429, or
 * a throttling/transient error code. Any other 4xx is final.
 */
bool
http_status_retryable(long status, const char *code)
{
	if (status >= 200 && status < 300)
		return false;
	if (http_is_throttling_code(code) || http_is_transient_code(code))
		return true;
	return status == 429 || status == 500 || status == 502 ||
		status == 503 || status == 504;
}

/*
 * Full-jitter backoff before retry number "retry" (1 for the first retry):
 * r01 * min(cap, base * 2^(retry-1)), r01 uniform in [0, 1).
 */
double
http_backoff_ms(int retry, double base_ms, double cap_ms, double r01)
{
	double		ceiling = base_ms;

	for (int i = 1; i < retry && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	return r01 * ceiling;
}

/* A uniform random number in [0, 1) from the CSPRNG. */
static double
random01(void)
{
	uint32_t	r = 0;

	if (RAND_bytes((unsigned char *) &r, sizeof(r)) != 1)
		return 0.5;
	return (double) r / 4294967296.0;
}

static void
sleep_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) ((ms - (double) ts.tv_sec * 1000) * 1000000);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}


/* Initialize libcurl once, before any thread starts (main does it). */
int
http_global_init(pgr_error *err)
{
	CURLcode	rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not initialize libcurl: %s",
					  curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Create a client with one libcurl handle. opts may be NULL for defaults.
 * Returns NULL and fills err on failure. Free with http_client_free.
 */
http_client *
http_client_new(const http_options *opts, pgr_error *err)
{
	http_client *c = calloc(1, sizeof(*c));
	const char *base;

	if (!c)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
	{
		free(c);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not create a libcurl handle");
		return NULL;
	}
	c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ?
		opts->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	c->timeout_ms = opts && opts->timeout_ms > 0 ?
		opts->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	c->max_attempts = opts && opts->max_attempts > 0 ?
		opts->max_attempts : HTTP_DEFAULT_MAX_ATTEMPTS;
	c->verbose = opts && opts->verbose;
	c->retry_quota = RETRY_QUOTA_MAX;
	c->backoff_base_ms = HTTP_BACKOFF_BASE_MS;
	if (opts && opts->ca_bundle && *opts->ca_bundle)
	{
		c->ca_bundle = strdup(opts->ca_bundle);
		if (!c->ca_bundle)
		{
			http_client_free(c);
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
			return NULL;
		}
	}
	/* test-only knob, so retry tests need not wait seconds */
	base = getenv(HTTP_TEST_BACKOFF_ENV);
	if (base && *base)
	{
		char	   *end;
		double		v = strtod(base, &end);

		if (*end == '\0' && v >= 0 && v <= HTTP_BACKOFF_BASE_MS)
			c->backoff_base_ms = v;
	}
	return c;
}

void
http_client_free(http_client *client)
{
	if (!client)
		return;
	if (client->curl)
		curl_easy_cleanup(client->curl);
	free(client->ca_bundle);
	free(client);
}

/* Wipe and free a response's body; the struct may be reused. */
void
http_response_free(http_response *resp)
{
	if (!resp)
		return;
	if (resp->body)
	{
		pgr_wipe(resp->body, resp->bodylen);
		free(resp->body);
	}
	memset(resp, 0, sizeof(*resp));
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	transfer   *t = userdata;
	size_t		n = size * nmemb;

	if (!pgr_buf_append(&t->body, ptr, n))
		return 0;				/* aborts the transfer: CURLE_WRITE_ERROR */
	return n;
}

/* Copy a header's value (trimmed) if its name matches. */
static bool
header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t		nlen = strlen(name);
	size_t		start,
				end;

	if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
		return false;
	start = nlen + 1;
	end = len;
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
						   line[end - 1] == ' '))
		end--;
	if (end - start >= outlen)
		end = start + outlen - 1;
	memcpy(out, line + start, end - start);
	out[end - start] = '\0';
	return true;
}

static size_t
header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	transfer   *t = userdata;
	size_t		n = size * nitems;
	char		date[128];

	if (n >= 5 && strncmp(buffer, "HTTP/", 5) == 0)
	{
		/* a new header block (after 100-continue): forget the last one */
		t->resp->errortype[0] = '\0';
		t->resp->request_id[0] = '\0';
		t->resp->server_date = 0;
		memset(t->resp->captured, 0, sizeof(t->resp->captured));
		return n;
	}
	for (int i = 0; i < HTTP_MAX_CAPTURE && t->req->capture_headers[i]; i++)
		header_value(buffer, n, t->req->capture_headers[i], t->resp->captured[i],
					 sizeof(t->resp->captured[i]));
	header_value(buffer, n, "X-Amzn-Errortype", t->resp->errortype,
				 sizeof(t->resp->errortype));
	if (!header_value(buffer, n, "x-amzn-RequestId", t->resp->request_id,
					  sizeof(t->resp->request_id)))
		header_value(buffer, n, "x-amz-request-id", t->resp->request_id,
					 sizeof(t->resp->request_id));
	if (header_value(buffer, n, "Date", date, sizeof(date)))
	{
		time_t		d = curl_getdate(date, NULL);

		t->resp->server_date = d > 0 ? d : 0;
	}
	return n;
}

static bool
is_redacted(const http_header *h)
{
	char		lower[64];
	size_t		i;

	if (h->secret)
		return true;
	for (i = 0; i < sizeof(lower) - 1 && h->name[i]; i++)
		lower[i] = (char) ((h->name[i] >= 'A' && h->name[i] <= 'Z') ?
						   h->name[i] + 32 : h->name[i]);
	lower[i] = '\0';
	return in_list(redacted_headers, lower);
}

/* Wipe and free a header list: values may hold credentials. */
static void
free_slist(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		if (l->data)
			pgr_wipe(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/* Append "Name: value" to a curl header list; false when out of memory. */
static bool
add_header(struct curl_slist **list, const char *name, const char *value)
{
	pgr_buf		line;
	struct curl_slist *n;

	pgr_buf_init(&line, 0);
	if (!pgr_buf_printf(&line, "%s: %s", name, value))
	{
		pgr_buf_free(&line);
		return false;
	}
	n = curl_slist_append(*list, line.data);
	pgr_buf_free(&line);
	if (!n)
		return false;
	*list = n;
	return true;
}

/*
 * Split the URL into what SigV4 needs: the Host header's value (with a
 * non-default port), the path and the query.
 */
static int
url_parts(const char *url, char **host, char **path, char **query, bool *is_https,
		  pgr_error *err)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *h = NULL,
			   *port = NULL,
			   *p = NULL,
			   *q = NULL;
	int			rc = -1;
	pgr_buf		hb;

	pgr_buf_init(&hb, 0);
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid URL \"%s\"", url);
		pgr_error_hint(err, "Give an absolute URL such as https://secretsmanager.us-east-1.amazonaws.com.");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) != CURLUE_OK)
		q = NULL;
	*is_https = strcasecmp(scheme, "https") == 0;
	if (!*is_https && strcasecmp(scheme, "http") != 0)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "unsupported URL scheme \"%s\" in \"%s\"", scheme, url);
		pgr_error_hint(err, "Use an https:// URL.");
		goto done;
	}
	if (port && !((*is_https && strcmp(port, "443") == 0) ||
				  (!*is_https && strcmp(port, "80") == 0)))
		pgr_buf_printf(&hb, "%s:%s", h, port);
	else
		pgr_buf_puts(&hb, h);
	*host = pgr_buf_detach(&hb);
	*path = strdup(p);
	*query = q ? strdup(q) : NULL;
	if (!*host || !*path || (q && !*query))
	{
		free(*host);
		free(*path);
		free(*query);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto done;
	}
	rc = 0;
done:
	pgr_buf_free(&hb);
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	curl_free(p);
	curl_free(q);
	curl_url_cleanup(u);
	return rc;
}

/*
 * Build the header list for one attempt: the caller's headers, then, when
 * signing, Host, X-Amz-Date, X-Amz-Security-Token and Authorization for the
 * time "now".
 */
static int
build_headers(http_client *c, const http_request *req, const http_signing *sign,
			  const char *host, const char *path, const char *query,
			  struct curl_slist **out, pgr_error *err)
{
	struct curl_slist *list = NULL;
	sigv4_header *sh = NULL;
	sigv4_result res;
	char		amz_date[SIGV4_AMZ_DATE_LEN];
	bool		ok = true;

	memset(&res, 0, sizeof(res));
	for (size_t i = 0; i < req->nheaders && ok; i++)
		ok = add_header(&list, req->headers[i].name, req->headers[i].value);
	/* no "Expect: 100-continue" round trip */
	ok = ok && (list = curl_slist_append(list, "Expect:")) != NULL;
	if (ok && sign && sign->credentials)
	{
		sigv4_request sreq;
		sigv4_params params;
		size_t		n = 0;

		if (sigv4_amz_date(time(NULL) + c->clock_offset, amz_date,
						   sizeof(amz_date)) != 0)
		{
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not format the request date");
			free_slist(list);
			return -1;
		}
		sh = calloc(req->nheaders + 2, sizeof(*sh));
		if (!sh)
			goto oom;
		for (size_t i = 0; i < req->nheaders; i++)
		{
			sh[n].name = req->headers[i].name;
			sh[n++].value = req->headers[i].value;
		}
		sh[n].name = "Host";
		sh[n++].value = host;
		sh[n].name = "X-Amz-Date";
		sh[n++].value = amz_date;
		sreq.method = req->method;
		sreq.path = path;
		sreq.query = query;
		sreq.headers = sh;
		sreq.nheaders = n;
		sreq.body = req->body;
		sreq.bodylen = req->bodylen;
		params.region = sign->region;
		params.service = sign->service;
		params.amz_date = amz_date;
		params.normalize_path = true;
		params.sign_session_token = true;
		if (sigv4_sign(&sreq, sign->credentials, &params, &res, err) != 0)
		{
			free(sh);
			free_slist(list);
			return -1;
		}
		ok = add_header(&list, "Host", host) &&
			add_header(&list, "X-Amz-Date", amz_date) &&
			(!res.add_token_header ||
			 add_header(&list, "X-Amz-Security-Token", sign->credentials->session_token)) &&
			add_header(&list, "Authorization", res.authorization);
		sigv4_result_free(&res);
		free(sh);
	}
	if (!ok)
		goto oom;
	*out = list;
	return 0;

oom:
	free(sh);
	free_slist(list);
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	return -1;
}

/* Log the request line and its headers, credentials redacted. */
static void
log_request(http_client *c, const http_request *req, int attempt, int max_attempts,
			struct curl_slist *list)
{
	if (!c->verbose || !pgr_log_enabled(PGR_LOG_DEBUG))
		return;
	pgr_log_debug("> %s %s (attempt %d of %d, %zu bytes)", req->method, req->url,
				  attempt, max_attempts, req->bodylen);
	for (struct curl_slist *l = list; l; l = l->next)
	{
		const char *colon = strchr(l->data, ':');
		char		name[64];
		http_header h;
		size_t		nlen;

		if (!colon || colon[1] == '\0')
			continue;
		nlen = (size_t) (colon - l->data);
		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;
		memcpy(name, l->data, nlen);
		name[nlen] = '\0';
		h.name = name;
		h.value = NULL;
		h.secret = false;
		for (size_t i = 0; i < req->nheaders; i++)
			if (req->headers[i].secret && strcasecmp(req->headers[i].name, name) == 0)
				h.secret = true;
		if (is_redacted(&h))
			pgr_log_debug(">   %s: [redacted]", name);
		else
			pgr_log_debug(">   %s", l->data);
	}
}

/* True for libcurl errors worth retrying (connection trouble, timeouts). */
static bool
curl_retryable(CURLcode rc, bool *is_timeout)
{
	*is_timeout = rc == CURLE_OPERATION_TIMEDOUT;
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_SSL_CONNECT_ERROR:
			return true;
		default:
			return false;
	}
}


/* Would waiting delay_ms and trying again overrun the deadline? */
static bool
out_of_time(const http_client *c, double delay_ms)
{
	return c->deadline_ms > 0 && pgr_epoch_ms() + delay_ms >= c->deadline_ms;
}

/*
 * Make every later request end by deadline_epoch_ms (milliseconds since the
 * epoch, as Lambda's Lambda-Runtime-Deadline-Ms), retries included; 0 lifts
 * the limit.
 */
void
http_client_set_deadline(http_client *c, double deadline_epoch_ms)
{
	c->deadline_ms = deadline_epoch_ms;
}

/*
 * One attempt. Returns the CURLcode; on CURLE_OK resp holds the status,
 * headers of interest and the body.
 */
static CURLcode
perform_once(http_client *c, const http_request *req, struct curl_slist *headers,
			 bool is_https, http_response *resp, bool *overflow)
{
	CURL	   *h = c->curl;
	transfer	t;
	CURLcode	rc;
	long		ctimeout = req->connect_timeout_ms > 0 ? req->connect_timeout_ms :
		c->connect_timeout_ms;
	long		timeout = req->timeout_ms > 0 ? req->timeout_ms :
		req->timeout_ms < 0 ? 0 : c->timeout_ms;

	pgr_buf_init(&t.body, req->max_response ? req->max_response : HTTP_DEFAULT_MAX_RESPONSE);
	t.req = req;
	t.resp = resp;
	if (c->deadline_ms > 0)
	{
		/* never outlast the deadline: clamp both timeouts to what is left */
		long		left = (long) (c->deadline_ms - pgr_epoch_ms());

		if (left < 1)
			left = 1;
		if (timeout == 0 || timeout > left)
			timeout = left;
		if (ctimeout > left)
			ctimeout = left;
	}
	*overflow = false;

	/* reset keeps live connections, TLS sessions and the DNS cache */
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, is_https ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pg_rotate/1.0");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
	if (strcmp(req->method, "POST") == 0)
	{
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->bodylen);
	}
	else if (strcmp(req->method, "GET") != 0)
	{
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || strcmp(req->method, "PUT") == 0)
		{
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->bodylen);
		}
	}

	rc = curl_easy_perform(h);
	/* never leave our pointers in the handle */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	if (rc == CURLE_WRITE_ERROR && t.body.overflow)
		*overflow = true;
	if (rc == CURLE_OK)
	{
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		if (t.body.oom)
			rc = CURLE_OUT_OF_MEMORY;
		else
		{
			resp->bodylen = t.body.len;
			resp->body = pgr_buf_detach(&t.body);
			if (!resp->body)
				rc = CURLE_OUT_OF_MEMORY;
		}
	}
	pgr_buf_free(&t.body);
	return rc;
}

/*
 * Perform a request with retries; sign each attempt when sign is given.
 * code_fn extracts the service's error code from an error response (NULL:
 * status only). Returns 0 when a response arrived (any status: the caller
 * interprets errors) and -1, err filled, when none did or the request was
 * refused locally. resp must be freed with http_response_free either way.
 */
int
http_perform(http_client *c, const http_request *req, const http_signing *sign,
			 http_error_code_fn code_fn, http_response *resp, pgr_error *err)
{
	char	   *host = NULL,
			   *path = NULL,
			   *query = NULL;
	bool		is_https = false;
	bool		skew_retried = false;
	int			max_attempts = req->max_attempts > 0 ? req->max_attempts : c->max_attempts;
	int			attempt = 0;
	int			last_cost = 0;
	int			rc = -1;
	const char *what = req->what ? req->what : "the service";

	memset(resp, 0, sizeof(*resp));
	if (url_parts(req->url, &host, &path, &query, &is_https, err) != 0)
		return -1;
	if (!is_https && !req->allow_http)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "refusing plain http URL \"%s\" for %s", req->url, what);
		pgr_error_detail(err, "Requests to AWS endpoints always use TLS.");
		pgr_error_hint(err, "Use https://, or give an http:// endpoint explicitly with --endpoint-url for a local emulator.");
		goto done;
	}

	for (;;)
	{
		struct curl_slist *headers = NULL;
		CURLcode	crc;
		bool		overflow = false;
		bool		is_timeout = false;
		bool		retry = false;
		char		code[128] = "";
		double		t0;
		double		delay;

		attempt++;
		delay = http_backoff_ms(attempt, c->backoff_base_ms, HTTP_BACKOFF_CAP_MS, random01());
		http_response_free(resp);
		if (build_headers(c, req, sign, host, path, query, &headers, err) != 0)
			goto done;
		log_request(c, req, attempt, max_attempts, headers);
		t0 = pgr_now_ms();
		crc = perform_once(c, req, headers, is_https, resp, &overflow);
		free_slist(headers);
		resp->attempts = attempt;

		if (crc != CURLE_OK)
		{
			if (overflow)
			{
				pgr_error_set(err, PGR_ERR_INPUT, NULL,
							  "response from %s is larger than %zu bytes",
							  what, req->max_response ? req->max_response :
							  (size_t) HTTP_DEFAULT_MAX_RESPONSE);
				pgr_error_detail(err, "The request to \"%s\" was abandoned.", req->url);
				pgr_error_hint(err, "Check that the endpoint really is %s.", what);
				goto done;
			}
			retry = curl_retryable(crc, &is_timeout);
			if (c->verbose)
				pgr_log_debug("< %s %s: %s (%.0f ms)", req->method, req->url,
							  c->errbuf[0] ? c->errbuf : curl_easy_strerror(crc),
							  pgr_now_ms() - t0);
			if (!retry || attempt >= max_attempts || out_of_time(c, delay) ||
				c->retry_quota < (is_timeout ? RETRY_TIMEOUT_COST : RETRY_COST))
			{
				pgr_error_set(err, PGR_ERR_NETWORK, NULL, "could not reach %s at \"%s\"",
							  what, req->url);
				pgr_error_detail(err, "%s (after %d attempt%s).",
								 c->errbuf[0] ? c->errbuf : curl_easy_strerror(crc),
								 attempt, attempt == 1 ? "" : "s");
				if (crc == CURLE_PEER_FAILED_VERIFICATION || crc == CURLE_SSL_CACERT_BADFILE)
					pgr_error_hint(err, "The server's TLS certificate could not be verified; set AWS_CA_BUNDLE or --ca-bundle to the CA that signed it.");
				else
					pgr_error_hint(err, "Check the endpoint, the network and the timeouts (--connect-timeout, --timeout).");
				goto done;
			}
		}
		else
		{
			if (code_fn && (resp->status < 200 || resp->status >= 300))
				code_fn(resp, code, sizeof(code));
			if (c->verbose)
				pgr_log_debug("< %ld%s%s (%zu bytes, %.0f ms%s%s)", resp->status,
							  code[0] ? " " : "", code, resp->bodylen, pgr_now_ms() - t0,
							  resp->request_id[0] ? ", request id " : "", resp->request_id);
			if (resp->status >= 200 && resp->status < 300)
			{
				/* success: give back what the retry cost, or one token */
				c->retry_quota += last_cost ? last_cost : 1;
				if (c->retry_quota > RETRY_QUOTA_MAX)
					c->retry_quota = RETRY_QUOTA_MAX;
				rc = 0;
				goto done;
			}
			if (http_is_clock_skew_code(code) && !skew_retried && resp->server_date > 0)
			{
				long		diff = (long) (resp->server_date - (time(NULL) + c->clock_offset));

				if (diff > CLOCK_SKEW_SECONDS || diff < -CLOCK_SKEW_SECONDS)
				{
					c->clock_offset += diff;
					skew_retried = true;
					attempt--;
					pgr_log_warning("the local clock differs from %s's by %ld seconds; retrying with the server's time",
									what, diff);
					continue;
				}
			}
			retry = http_status_retryable(resp->status, code);
			if (!retry || attempt >= max_attempts || out_of_time(c, delay) ||
				c->retry_quota < RETRY_COST)
			{
				rc = 0;
				goto done;
			}
		}

		/* retry after a full-jitter backoff */
		last_cost = is_timeout ? RETRY_TIMEOUT_COST : RETRY_COST;
		c->retry_quota -= last_cost;
		if (c->verbose)
			pgr_log_debug("retrying %s in %.0f ms (attempt %d of %d failed)",
						  what, delay, attempt, max_attempts);
		sleep_ms(delay);
	}

done:
	free(host);
	free(path);
	free(query);
	return rc;
}
