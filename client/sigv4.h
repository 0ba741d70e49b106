/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *	  AWS Signature Version 4, as a pure function of its inputs.
 *
 * No I/O and no clock: the caller passes the request, the credentials and
 * the time (as an X-Amz-Date string). Every intermediate product
 * (canonical request, string to sign) is returned so that tests can compare
 * it with AWS's published vectors. The derived signing key is wiped.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_SIGV4_H
#define PGR_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

#define SIGV4_AMZ_DATE_LEN	17	/* "20150830T123600Z" + NUL */

typedef struct sigv4_header
{
	const char *name;
	const char *value;
} sigv4_header;

/*
 * The request to sign. headers must hold Host and X-Amz-Date (the caller
 * sends exactly these headers); names are compared case-insensitively and
 * repeated names are joined with commas, in order.
 */
typedef struct sigv4_request
{
	const char *method;			/* "POST" */
	const char *path;			/* as on the request line, without query */
	const char *query;			/* without '?'; NULL or "" when none */
	const sigv4_header *headers;
	size_t		nheaders;
	const void *body;
	size_t		bodylen;
} sigv4_request;

/* Borrowed pointers; session_token may be NULL. */
typedef struct sigv4_credentials
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
} sigv4_credentials;

typedef struct sigv4_params
{
	const char *region;			/* "us-east-1" */
	const char *service;		/* "secretsmanager" */
	const char *amz_date;		/* "YYYYMMDDTHHMMSSZ", same as X-Amz-Date */
	bool		normalize_path; /* remove dot segments etc. (all but S3) */
	bool		sign_session_token; /* put X-Amz-Security-Token in the
									 * signed headers (what the SDKs do) */
} sigv4_params;

/* Everything sigv4_sign produces; free with sigv4_result_free. */
typedef struct sigv4_result
{
	char	   *canonical_request;
	char	   *string_to_sign;
	char	   *signed_headers;	/* "host;x-amz-date;..." */
	char	   *authorization;	/* the Authorization header's value */
	bool		add_token_header;	/* caller must send X-Amz-Security-Token */
} sigv4_result;

extern int	sigv4_sign(const sigv4_request *req, const sigv4_credentials *cred,
					   const sigv4_params *params, sigv4_result *out,
					   pgr_error *err);
extern void sigv4_result_free(sigv4_result *res);

extern int	sigv4_amz_date(time_t t, char *buf, size_t buflen);
extern int	sigv4_parse_amz_date(const char *s, time_t *out);
extern void sigv4_sha256_hex(const void *data, size_t len, char *hex65);
extern char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash);

#endif							/* PGR_SIGV4_H */
