/*-------------------------------------------------------------------------
 *
 * http.h
 *	  HTTP for pg_rotate: one reused libcurl handle, timeouts, retries in
 *	  the SDKs' "standard" mode, SigV4 signing of each attempt, and verbose
 *	  request logs with credentials redacted.
 *
 * An http_client owns one CURL easy handle, so TLS sessions and keep-alive
 * connections are shared by every call made through it. It is not thread
 * safe: give each thread its own client.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_HTTP_H
#define PGR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "sigv4.h"

#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_TIMEOUT_MS			60000
#define HTTP_DEFAULT_MAX_ATTEMPTS		3
#define HTTP_DEFAULT_MAX_RESPONSE		(1024 * 1024)
#define HTTP_BACKOFF_BASE_MS			1000.0
#define HTTP_BACKOFF_CAP_MS				20000.0

/* Test-only: overrides the 1 s backoff base (milliseconds). */
#define HTTP_TEST_BACKOFF_ENV "PG_ROTATE_TEST_RETRY_BASE_MS"

#define HTTP_MAX_CAPTURE		4	/* response headers a request may ask for */
#define HTTP_CAPTURE_LEN		512

typedef struct http_client http_client;

typedef struct http_options
{
	long		connect_timeout_ms; /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
	long		timeout_ms;		/* whole transfer; 0: HTTP_DEFAULT_TIMEOUT_MS */
	int			max_attempts;	/* 0: HTTP_DEFAULT_MAX_ATTEMPTS */
	const char *ca_bundle;		/* PEM file of trusted CAs, NULL: system */
	bool		verbose;		/* log each request at debug level */
} http_options;

typedef struct http_header
{
	const char *name;
	const char *value;
	bool		secret;			/* never log the value */
} http_header;

typedef struct http_request
{
	const char *method;			/* "GET", "PUT", "POST" */
	const char *url;
	const http_header *headers;
	size_t		nheaders;
	const char *body;			/* may hold a secret; never logged */
	size_t		bodylen;
	size_t		max_response;	/* 0: HTTP_DEFAULT_MAX_RESPONSE */
	long		connect_timeout_ms; /* 0: the client's */
	long		timeout_ms;		/* 0: the client's; -1: none */
	int			max_attempts;	/* 0: the client's; 1: no retry */
	bool		allow_http;		/* plain http:// allowed (explicit endpoint) */
	const char *what;			/* for messages: "Secrets Manager", "IMDS" */
	const char *capture_headers[HTTP_MAX_CAPTURE];	/* names; unused: NULL */
} http_request;

/* How to sign each attempt; credentials are borrowed. */
typedef struct http_signing
{
	const sigv4_credentials *credentials;
	const char *region;
	const char *service;
} http_signing;

typedef struct http_response
{
	long		status;			/* HTTP status, 0 if none */
	char	   *body;			/* NUL-terminated, wiped on free */
	size_t		bodylen;
	char		errortype[128]; /* X-Amzn-Errortype, "" if absent */
	char		request_id[128];	/* x-amzn-RequestId, "" if absent */
	time_t		server_date;	/* Date header, 0 if absent */
	int			attempts;		/* attempts made */
	char		captured[HTTP_MAX_CAPTURE][HTTP_CAPTURE_LEN];	/* capture_headers' values */
} http_response;

/* Extracts a service error code from a failed response (for retries). */
typedef void (*http_error_code_fn) (const http_response *resp, char *code,
									size_t codelen);

extern int	http_global_init(pgr_error *err);
extern http_client *http_client_new(const http_options *opts, pgr_error *err);
extern void http_client_free(http_client *client);
extern void http_client_set_deadline(http_client *client, double deadline_epoch_ms);

extern int	http_perform(http_client *client, const http_request *req,
						 const http_signing *sign, http_error_code_fn code_fn,
						 http_response *resp, pgr_error *err);
extern void http_response_free(http_response *resp);

/* Retry policy, exposed for unit tests (pure functions). */
extern bool http_is_throttling_code(const char *code);
extern bool http_is_transient_code(const char *code);
extern bool http_is_clock_skew_code(const char *code);
extern bool http_status_retryable(long status, const char *code);
extern double http_backoff_ms(int retry, double base_ms, double cap_ms, double r01);

#endif							/* PGR_HTTP_H */
