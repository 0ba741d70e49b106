/*-------------------------------------------------------------------------
 *
 * fuzz_sigv4.c
 *	  libFuzzer target: SigV4 canonicalization and signing (sigv4_sign)
 *	  of arbitrary methods, paths, query strings, headers and bodies.
 *
 * Input: an HTTP request in the format of AWS's test suite (.req files):
 * "METHOD URI HTTP/1.1", header lines "Name:value" (lines starting with
 * a space or tab continue the previous value), a blank line, the body.
 * Header names are kept to HTTP token characters, as the client only
 * signs such names; everything else may be any byte but NUL and newline.
 *
 * Properties:
 *	- signing is deterministic: the same input gives the same canonical
 *	  request, string to sign and Authorization header;
 *	- the canonical URI and query string hold only unreserved characters,
 *	  '%' escapes and their separators;
 *	- the signed headers are lowercase, strictly sorted (repeated names
 *	  joined) and quoted in the Authorization header;
 *	- the string to sign ends with the SHA-256 of the canonical request;
 *	- a session token is signed exactly when asked to be.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"

#define MAX_HEADERS 64

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_sigv4: property violated: %s\n", what);
		abort();
	}
}

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Does line [s, e) consist of unreserved characters, %XX escapes and extra? */
static int
only_encoded(const char *s, const char *e, const char *extra)
{
	for (; s < e; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (is_unreserved(c) || strchr(extra, c))
			continue;
		if (c == '%' && e - s >= 3 &&
			strchr("0123456789ABCDEF", s[1]) && strchr("0123456789ABCDEF", s[2]))
		{
			s += 2;
			continue;
		}
		return 0;
	}
	return 1;
}

static void
check_result(const sigv4_request *req, const sigv4_result *r, int normalized,
			 int token_signed)
{
	const char *creq = r->canonical_request;
	const char *uri,
			   *query,
			   *end;
	const char *last_nl;
	char		hex[65];
	char	   *quoted;
	size_t		mlen = strlen(req->method);
	size_t		n;

	check(strncmp(creq, req->method, mlen) == 0 && creq[mlen] == '\n',
		  "canonical request starts with the method");
	uri = creq + mlen + 1;
	query = strchr(uri, '\n');
	check(query != NULL, "canonical URI line");
	check(only_encoded(uri, query, "/"), "canonical URI encoded");
	check(uri[0] == '/' || (!normalized && req->path[0] != '/'),
		  "canonical URI is absolute");
	query++;
	end = strchr(query, '\n');
	check(end != NULL, "canonical query line");
	check(only_encoded(query, end, "=&"), "canonical query encoded");

	/* signed headers: lowercase names, strictly ascending */
	for (const char *p = r->signed_headers; *p;)
	{
		const char *semi = strchr(p, ';');
		const char *next = semi ? semi + 1 : p + strlen(p);

		for (const char *q = p; q < (semi ? semi : next); q++)
			check(!(*q >= 'A' && *q <= 'Z'), "signed header names are lowercase");
		if (semi)
		{
			const char *semi2 = strchr(next, ';');
			size_t		l1 = (size_t) (semi - p);
			size_t		l2 = semi2 ? (size_t) (semi2 - next) : strlen(next);
			int			c = memcmp(p, next, l1 < l2 ? l1 : l2);

			check(c < 0 || (c == 0 && l1 < l2), "signed headers sorted and unique");
		}
		p = next;
	}
	n = strlen(r->signed_headers) + 32;
	quoted = malloc(n);
	if (quoted)
	{
		snprintf(quoted, n, "SignedHeaders=%s,", r->signed_headers);
		check(strstr(r->authorization, quoted) != NULL,
			  "Authorization names the signed headers");
		free(quoted);
	}
	check(token_signed == (strstr(creq, "\nx-amz-security-token:") != NULL),
		  "token signed exactly when asked");

	sigv4_sha256_hex(creq, strlen(creq), hex);
	last_nl = strrchr(r->string_to_sign, '\n');
	check(last_nl && strcmp(last_nl + 1, hex) == 0,
		  "string to sign ends with the canonical request's hash");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char	   *line,
			   *next,
			   *sp,
			   *lastsp;
	char	   *method,
			   *path,
			   *query;
	sigv4_header headers[MAX_HEADERS];
	char	   *folded[MAX_HEADERS];
	size_t		nheaders = 0;
	const char *body;
	sigv4_credentials cred = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	"FQoGZXIvYXdzEXAMPLE//TOKEN+="};
	sigv4_params params = {"us-east-1", "service", "20150830T123600Z", true, true};

	if (memchr(data, '\0', size))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(folded, 0, sizeof(folded));

	/* request line */
	next = strchr(text, '\n');
	if (next)
		*next++ = '\0';
	sp = strchr(text, ' ');
	lastsp = strrchr(text, ' ');
	if (!sp || lastsp == sp)
		goto done;
	*sp = '\0';
	*lastsp = '\0';
	method = text;
	path = sp + 1;
	query = strchr(path, '?');
	if (query)
		*query++ = '\0';

	/* headers */
	for (line = next; line && *line && *line != '\n';)
	{
		char	   *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((*line == ' ' || *line == '\t') && nheaders > 0)
		{
			size_t		i = nheaders - 1;
			size_t		n = strlen(headers[i].value) + strlen(line) + 2;
			char	   *joined = malloc(n);

			if (!joined)
				goto done;
			snprintf(joined, n, "%s %s", headers[i].value, line);
			free(folded[i]);
			folded[i] = joined;
			headers[i].value = joined;
		}
		else
		{
			colon = strchr(line, ':');
			if (!colon || colon == line || nheaders == MAX_HEADERS)
				goto done;
			*colon = '\0';
			for (char *p = line; *p; p++)
				if (!is_tchar((unsigned char) *p))
					goto done;
			headers[nheaders].name = line;
			headers[nheaders].value = colon + 1;
			nheaders++;
		}
		line = next;
	}
	body = line && *line == '\n' ? line + 1 : (line ? line : "");

	for (int variant = 0; variant < 4; variant++)
	{
		sigv4_request req = {method, path, query, headers, nheaders, body, strlen(body)};
		sigv4_result a,
					b;
		int			rca,
					rcb;

		params.normalize_path = (variant & 1) != 0;
		params.sign_session_token = (variant & 2) != 0;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		rca = sigv4_sign(&req, &cred, &params, &a, NULL);
		rcb = sigv4_sign(&req, &cred, &params, &b, NULL);
		check(rca == rcb, "same status twice");
		if (rca == 0)
		{
			int			has_token_header = 0;

			for (size_t i = 0; i < nheaders; i++)
				if (strcasecmp(headers[i].name, "x-amz-security-token") == 0)
					has_token_header = 1;
			check(strcmp(a.canonical_request, b.canonical_request) == 0,
				  "canonical request is deterministic");
			check(strcmp(a.string_to_sign, b.string_to_sign) == 0,
				  "string to sign is deterministic");
			check(strcmp(a.authorization, b.authorization) == 0,
				  "signature is deterministic");
			check_result(&req, &a, params.normalize_path,
						 params.sign_session_token || has_token_header);
			check(a.add_token_header ==
				  (params.sign_session_token && !has_token_header),
				  "token header added when signed and absent");
		}
		sigv4_result_free(&a);
		sigv4_result_free(&b);
	}

done:
	for (size_t i = 0; i < MAX_HEADERS; i++)
		free(folded[i]);
	free(text);
	return 0;
}
