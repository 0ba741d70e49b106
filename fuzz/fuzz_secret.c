/*-------------------------------------------------------------------------
 *
 * fuzz_secret.c
 *	  libFuzzer target: the database secret JSON (secret_parse_len) and its
 *	  rewrite with a new password (secret_with_password).
 *
 * Input: the secret's JSON text, optionally followed by a 0xFF byte (never
 * part of valid UTF-8 JSON) and the new password's bytes. Without one a
 * fixed password full of characters that need escaping is used.
 *
 * Properties checked on every secret that parses:
 *	- the accessors give what secret.h promises (required keys present,
 *	  port in range, length limits);
 *	- secret_with_password() succeeds for any valid password unless the
 *	  result is too large, and its output parses again with the same
 *	  engine, host, port, database, username, masterarn and ssl setting,
 *	  the new password, and nothing else changed (a second rewrite with the
 *	  same password gives the same text).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "secret.h"

/* A password with a quote, a backslash, control bytes and non-ASCII. */
#define DEFAULT_PASSWORD "p\"w\\d\n\t\x01/\xc3\xa9\xe2\x80\xa8\xf0\x9f\x94\x91"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_secret: property violated: %s\n", what);
		abort();
	}
}

static int
same_or_both_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	size_t		jsonlen = sep ? (size_t) (sep - data) : size;
	char	   *password = NULL;
	pgr_secret *s = NULL;
	pgr_secret *s2 = NULL;
	char	   *out = NULL;
	char	   *out2 = NULL;
	pgr_error	err;
	int			rc;

	if (sep)
	{
		size_t		pwlen = size - jsonlen - 1;

		if (memchr(sep + 1, '\0', pwlen))
			return 0;			/* a C string cannot hold it */
		password = malloc(pwlen + 1);
		if (!password)
			return 0;
		memcpy(password, sep + 1, pwlen);
		password[pwlen] = '\0';
	}
	else
		password = strdup(DEFAULT_PASSWORD);

	pgr_error_clear(&err);
	if (secret_parse_len((const char *) data, jsonlen, &s, &err) != 0)
	{
		check(s == NULL, "no secret on failure");
		check(err.message[0] != '\0', "a failure has a message");
		goto done;
	}

	check(secret_username(s) && secret_password(s) && secret_dbname(s),
		  "required keys present");
	check(!secret_engine(s) || strcmp(secret_engine(s), "postgres") == 0 ||
		  strcmp(secret_engine(s), "aurora-postgresql") == 0, "engine checked");
	check(secret_port(s) >= 1 && secret_port(s) <= 65535, "port in range");
	check(strlen(secret_username(s)) <= SECRET_MAX_USERNAME_LEN, "username length");
	check(strlen(secret_password(s)) >= 1 &&
		  strlen(secret_password(s)) <= SECRET_MAX_PASSWORD_LEN, "password length");

	pgr_error_clear(&err);
	rc = secret_with_password(s, password, &out, &err);
	if (rc != 0)
	{
		/* refusals: bad password, or the result would be too large */
		check(out == NULL, "no output on failure");
		check(err.message[0] != '\0', "a failure has a message");
		goto done;
	}
	check(out != NULL && strlen(out) <= SECRET_MAX_JSON_LEN, "output size");

	pgr_error_clear(&err);
	if (secret_parse(out, &s2, &err) != 0)
	{
		fprintf(stderr, "fuzz_secret: rewritten secret does not parse: %s (%s)\n",
				err.message, err.detail);
		abort();
	}
	check(strcmp(secret_password(s2), password) == 0, "new password stored");
	check(same_or_both_null(secret_engine(s), secret_engine(s2)), "engine kept");
	check(same_or_both_null(secret_host(s), secret_host(s2)), "host kept");
	check(secret_port(s) == secret_port(s2), "port kept");
	check(strcmp(secret_dbname(s), secret_dbname(s2)) == 0, "dbname kept");
	check(strcmp(secret_username(s), secret_username(s2)) == 0, "username kept");
	check(same_or_both_null(secret_masterarn(s), secret_masterarn(s2)), "masterarn kept");
	check(same_or_both_null(secret_sslrootcert(s), secret_sslrootcert(s2)),
		  "sslrootcert kept");
	check(secret_get_ssl(s) == secret_get_ssl(s2), "ssl kept");
	check(secret_same_target(s, s2), "same target");

	/* a rewrite of the rewrite with the same password is a fixed point */
	pgr_error_clear(&err);
	check(secret_with_password(s2, password, &out2, &err) == 0, "second rewrite");
	check(strcmp(out, out2) == 0, "rewrite is stable");

done:
	pgr_free_secret(out2);
	pgr_free_secret(out);
	secret_free(s2);
	secret_free(s);
	pgr_free_secret(password);
	return 0;
}
