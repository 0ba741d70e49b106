/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *	  AWS Signature Version 4 signing, built as a chain of small steps:
 *	  payload hash -> canonical request -> string to sign -> signing key ->
 *	  signature -> Authorization header.
 *
 * Why our own signer rather than libcurl's CURLOPT_AWS_SIGV4: libcurl signs
 * inside the transfer and exposes neither the canonical request nor the
 * string to sign, so it cannot be checked against AWS's test vectors step by
 * step; libcurl 7.88 also leaves session tokens to the caller, and re-signing
 * a retry with a corrected clock needs the time as an input. This file does
 * no I/O and reads no clock.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "buf.h"
#include "sigv4.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* One header after canonicalization: lowercase name, joined trimmed values. */
typedef struct canon_header
{
	char	   *name;
	pgr_buf		value;
} canon_header;

/* One query parameter, both parts already URI-encoded. */
typedef struct query_param
{
	char	   *key;
	char	   *value;
} query_param;

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* Lowercase hex SHA-256 of data into hex65 (64 digits and a NUL). */
void
sigv4_sha256_hex(const void *data, size_t len, char *hex65)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *) "", len, md);
	hex_encode(md, sizeof(md), hex65);
}

/*
 * Format t as an X-Amz-Date ("20150830T123600Z", UTC). Returns 0, or -1 if
 * the buffer is too small or the time cannot be represented.
 */
int
sigv4_amz_date(time_t t, char *buf, size_t buflen)
{
	struct tm	tm;

	if (buflen < SIGV4_AMZ_DATE_LEN || !gmtime_r(&t, &tm))
		return -1;
	if (strftime(buf, buflen, "%Y%m%dT%H%M%SZ", &tm) != SIGV4_AMZ_DATE_LEN - 1)
		return -1;
	return 0;
}

/* Parse an X-Amz-Date back to a time_t; 0 on success, -1 if malformed. */
int
sigv4_parse_amz_date(const char *s, time_t *out)
{
	struct tm	tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s || strlen(s) != SIGV4_AMZ_DATE_LEN - 1)
		return -1;
	end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

static bool
is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/*
 * URI-encode len bytes of s the way SigV4 wants: every byte but the
 * unreserved characters becomes %XX (uppercase hex); '/' is kept when
 * keep_slash. Returns a malloc'd string, NULL when out of memory.
 */
char *
sigv4_uri_encode(const char *s, size_t len, bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	char	   *out = malloc(len * 3 + 1);
	size_t		o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			out[o++] = (char) c;
		else
		{
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 0x0f];
		}
	}
	out[o] = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the %XX escapes of a query component, then re-encode it, so "%E1%88%B4" and the raw UTF-8 bytes
 * give the same canonical form. Returns malloc'd, NULL when out of memory.
 */
static char *
query_component_canonical(const char *s, size_t len)
{
	char	   *raw = malloc(len + 1);
	size_t		o = 0;
	char	   *enc;

	if (!raw)
		return NULL;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len &&
			hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0)
		{
			raw[o++] = (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		else
			raw[o++] = s[i];
	}
	enc = sigv4_uri_encode(raw, o, false);
	free(raw);
	return enc;
}

/*
 * The canonical URI: with normalize_path, empty and "." segments are
 * dropped and ".." removes the segment before it (RFC 3986 section 5.2.4),
 * keeping a trailing slash; each segment is then URI-encoded.
 */
static bool
canonical_uri(const char *path, bool normalize, pgr_buf *out)
{
	const char **segs = NULL;
	size_t	   *seglen = NULL;
	size_t		nsegs = 0,
				maxsegs;
	size_t		plen;
	bool		ok = false;
	bool		trailing;

	if (!path || !*path)
		path = "/";
	plen = strlen(path);
	if (!normalize)
	{
		char	   *enc = sigv4_uri_encode(path, plen, true);

		ok = enc && pgr_buf_puts(out, enc);
		free(enc);
		return ok;
	}

	maxsegs = plen + 1;
	segs = calloc(maxsegs, sizeof(*segs));
	seglen = calloc(maxsegs, sizeof(*seglen));
	if (!segs || !seglen)
		goto done;
	trailing = path[plen - 1] == '/';
	for (const char *p = path; *p;)
	{
		const char *start;
		size_t		n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t) (p - start);
		if (n == 1 && start[0] == '.')
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.')
		{
			if (nsegs > 0)
				nsegs--;
			continue;
		}
		segs[nsegs] = start;
		seglen[nsegs++] = n;
	}

	if (!pgr_buf_putc(out, '/'))
		goto done;
	for (size_t i = 0; i < nsegs; i++)
	{
		char	   *enc = sigv4_uri_encode(segs[i], seglen[i], false);
		bool		put;

		if (!enc)
			goto done;
		put = pgr_buf_puts(out, enc) &&
			(i + 1 == nsegs ? (!trailing || pgr_buf_putc(out, '/')) :
			 pgr_buf_putc(out, '/'));
		free(enc);
		if (!put)
			goto done;
	}
	ok = true;
done:
	free(segs);
	free(seglen);
	return ok;
}

static int
query_param_cmp(const void *a, const void *b)
{
	const query_param *x = a;
	const query_param *y = b;
	int			c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/* The canonical query string: encoded pairs sorted by key, then value. */
static bool
canonical_query(const char *query, pgr_buf *out)
{
	query_param *params = NULL;
	size_t		n = 0,
				max;
	bool		ok = false;

	if (!query || !*query)
		return true;
	max = strlen(query) / 2 + 2;
	params = calloc(max, sizeof(*params));
	if (!params)
		return false;
	for (const char *p = query; *p;)
	{
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t) (end - p));

		if (end > p)
		{
			const char *kend = eq ? eq : end;

			params[n].key = query_component_canonical(p, (size_t) (kend - p));
			params[n].value = eq ?
				query_component_canonical(eq + 1, (size_t) (end - eq - 1)) :
				strdup("");
			if (!params[n].key || !params[n].value)
			{
				n++;
				goto done;
			}
			n++;
		}
		p = amp ? amp + 1 : end;
	}
	qsort(params, n, sizeof(*params), query_param_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (!pgr_buf_printf(out, "%s%s=%s", i ? "&" : "",
							params[i].key, params[i].value))
			goto done;
	}
	ok = true;
done:
	for (size_t i = 0; i < n; i++)
	{
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return ok;
}

/*
 * Append a header value trimmed, with every run of whitespace (line folds
 * included) collapsed to one space, as SigV4 requires.
 */
static bool
append_trimmed(pgr_buf *out, const char *v)
{
	bool		pending_space = false;
	bool		any = false;

	for (; *v; v++)
	{
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		{
			pending_space = any;
			continue;
		}
		if (pending_space && !pgr_buf_putc(out, ' '))
			return false;
		pending_space = false;
		if (!pgr_buf_putc(out, *v))
			return false;
		any = true;
	}
	return true;
}

static int
canon_header_cmp(const void *a, const void *b)
{
	return strcmp(((const canon_header *) a)->name,
				  ((const canon_header *) b)->name);
}

static char *
lowercase_dup(const char *s)
{
	char	   *d = strdup(s);

	if (d)
		for (char *p = d; *p; p++)
			*p = (char) tolower((unsigned char) *p);
	return d;
}

/*
 * Canonical headers and the signed-headers list. The session token is added
 * here when asked to sign it and the request does not already carry it.
 */
static bool
canonical_headers(const sigv4_request *req, const char *token,
				  pgr_buf *headers_out, pgr_buf *signed_out, bool *added_token)
{
	canon_header *hs;
	size_t		n = 0;
	size_t		max = req->nheaders + 1;
	bool		ok = false;
	bool		have_token = false;

	*added_token = false;
	hs = calloc(max, sizeof(*hs));
	if (!hs)
		return false;
	for (size_t i = 0; i < req->nheaders; i++)
	{
		char	   *name = lowercase_dup(req->headers[i].name);
		size_t		j;

		if (!name)
			goto done;
		if (strcmp(name, "x-amz-security-token") == 0)
			have_token = true;
		for (j = 0; j < n; j++)
			if (strcmp(hs[j].name, name) == 0)
				break;
		if (j == n)
		{
			hs[n].name = name;
			pgr_buf_init(&hs[n].value, 0);
			n++;
		}
		else
		{
			free(name);
			if (!pgr_buf_putc(&hs[j].value, ','))
				goto done;
		}
		if (!append_trimmed(&hs[j].value, req->headers[i].value ?
							req->headers[i].value : ""))
			goto done;
	}
	if (token && !have_token)
	{
		hs[n].name = strdup("x-amz-security-token");
		pgr_buf_init(&hs[n].value, 0);
		n++;
		if (!hs[n - 1].name || !append_trimmed(&hs[n - 1].value, token))
			goto done;
		*added_token = true;
	}
	qsort(hs, n, sizeof(*hs), canon_header_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (!pgr_buf_printf(headers_out, "%s:%s\n", hs[i].name,
							hs[i].value.data ? hs[i].value.data : "") ||
			!pgr_buf_printf(signed_out, "%s%s", i ? ";" : "", hs[i].name))
			goto done;
	}
	ok = true;
done:
	for (size_t i = 0; i < n; i++)
	{
		free(hs[i].name);
		pgr_buf_free(&hs[i].value);
	}
	free(hs);
	return ok;
}

/* HMAC-SHA256 of msg with key into out (32 bytes). */
static bool
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
			unsigned char *out)
{
	unsigned int outlen = 0;

	return HMAC(EVP_sha256(), key, (int) keylen, msg, msglen, out, &outlen) &&
		outlen == SHA256_DIGEST_LENGTH;
}

/*
 * The signing key: HMAC chain over date, region, service, "aws4_request".
 * Every intermediate key is wiped before return.
 */
static bool
signing_key(const char *secret, const char *date8, const char *region,
			const char *service, unsigned char *key)
{
	pgr_buf		k0;
	unsigned char kdate[SHA256_DIGEST_LENGTH];
	unsigned char kregion[SHA256_DIGEST_LENGTH];
	unsigned char kservice[SHA256_DIGEST_LENGTH];
	bool		ok;

	pgr_buf_init(&k0, 0);
	ok = pgr_buf_printf(&k0, "AWS4%s", secret) &&
		hmac_sha256(k0.data, k0.len, date8, 8, kdate) &&
		hmac_sha256(kdate, sizeof(kdate), region, strlen(region), kregion) &&
		hmac_sha256(kregion, sizeof(kregion), service, strlen(service), kservice) &&
		hmac_sha256(kservice, sizeof(kservice), "aws4_request", 12, key);
	pgr_buf_free(&k0);
	pgr_wipe(kdate, sizeof(kdate));
	pgr_wipe(kregion, sizeof(kregion));
	pgr_wipe(kservice, sizeof(kservice));
	return ok;
}

/*
 * Sign a request. On success fills *out (free with sigv4_result_free) and
 * returns 0; on failure returns -1 and fills err. The caller sends the
 * Authorization header, and X-Amz-Security-Token when out->add_token_header
 * or when the token is not signed (sign_session_token false).
 */
int
sigv4_sign(const sigv4_request *req, const sigv4_credentials *cred,
		   const sigv4_params *params, sigv4_result *out, pgr_error *err)
{
	pgr_buf		creq,
				headers,
				signedh,
				sts,
				scope,
				authz;
	char		payload_hex[65];
	char		creq_hex[65];
	char		date8[9];
	unsigned char key[SHA256_DIGEST_LENGTH];
	unsigned char sig[SHA256_DIGEST_LENGTH];
	char		sig_hex[65];
	bool		added_token = false;
	int			rc = -1;

	pgr_buf_init(&creq, 0);
	pgr_buf_init(&headers, 0);
	pgr_buf_init(&signedh, 0);
	pgr_buf_init(&sts, 0);
	pgr_buf_init(&scope, 0);
	pgr_buf_init(&authz, 0);

	if (!req || !req->method || !cred || !cred->access_key_id ||
		!cred->secret_access_key || !params || !params->region ||
		!params->service || !params->amz_date ||
		strlen(params->amz_date) != SIGV4_AMZ_DATE_LEN - 1)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "cannot sign request: credentials, region, service or date missing");
		goto done;
	}
	memcpy(date8, params->amz_date, 8);
	date8[8] = '\0';

	/* Task 1: the canonical request */
	sigv4_sha256_hex(req->body, req->body ? req->bodylen : 0, payload_hex);
	if (!pgr_buf_printf(&creq, "%s\n", req->method) ||
		!canonical_uri(req->path, params->normalize_path, &creq) ||
		!pgr_buf_putc(&creq, '\n') ||
		!canonical_query(req->query, &creq) ||
		!pgr_buf_putc(&creq, '\n') ||
		!canonical_headers(req, params->sign_session_token ? cred->session_token : NULL,
						   &headers, &signedh, &added_token) ||
		!pgr_buf_printf(&creq, "%s\n%s\n%s", headers.data ? headers.data : "",
						signedh.data ? signedh.data : "", payload_hex))
		goto oom;

	/* Task 2: the string to sign */
	sigv4_sha256_hex(creq.data, creq.len, creq_hex);
	if (!pgr_buf_printf(&scope, "%s/%s/%s/aws4_request", date8, params->region,
						params->service) ||
		!pgr_buf_printf(&sts, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, params->amz_date,
						scope.data, creq_hex))
		goto oom;

	/* Task 3: the signature */
	if (!signing_key(cred->secret_access_key, date8, params->region,
					 params->service, key) ||
		!hmac_sha256(key, sizeof(key), sts.data, sts.len, sig))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "could not compute the request signature: HMAC-SHA256 failed");
		goto done;
	}
	hex_encode(sig, sizeof(sig), sig_hex);

	/* Task 4: the Authorization header */
	if (!pgr_buf_printf(&authz, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
						SIGV4_ALGORITHM, cred->access_key_id, scope.data,
						signedh.data ? signedh.data : "", sig_hex))
		goto oom;

	out->canonical_request = pgr_buf_detach(&creq);
	out->string_to_sign = pgr_buf_detach(&sts);
	out->signed_headers = pgr_buf_detach(&signedh);
	out->authorization = pgr_buf_detach(&authz);
	out->add_token_header = added_token;
	if (!out->canonical_request || !out->string_to_sign ||
		!out->signed_headers || !out->authorization)
	{
		sigv4_result_free(out);
		goto oom;
	}
	rc = 0;
	goto done;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory while signing a request");
done:
	pgr_wipe(key, sizeof(key));
	pgr_wipe(sig, sizeof(sig));
	pgr_buf_free(&creq);
	pgr_buf_free(&headers);
	pgr_buf_free(&signedh);
	pgr_buf_free(&sts);
	pgr_buf_free(&scope);
	pgr_buf_free(&authz);
	return rc;
}

/*
 * Free what sigv4_sign returned. The canonical request holds the session
 * token when it was signed, so everything is wiped.
 */
void
sigv4_result_free(sigv4_result *res)
{
	if (!res)
		return;
	pgr_free_secret(res->canonical_request);
	pgr_free_secret(res->string_to_sign);
	pgr_free_secret(res->signed_headers);
	pgr_free_secret(res->authorization);
	memset(res, 0, sizeof(*res));
}
