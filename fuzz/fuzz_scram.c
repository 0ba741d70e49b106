/*-------------------------------------------------------------------------
 *
 * fuzz_scram.c
 *	  libFuzzer target: SCRAM-SHA-256 verifier validation
 *	  (scram_verifier_is_valid) and construction (scram_build_verifier).
 *
 * Input: any bytes, read as a candidate verifier (up to the first NUL),
 * and as a password and salt for building one.
 *
 * Properties: a string accepted as a verifier matches the grammar of
 * scram.h, checked here independently, and so holds no quote, backslash,
 * whitespace or control byte (it ends up in SQL parameters and logs); every
 * verifier scram_build_verifier() makes is accepted.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "scram.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_scram: property violated: %s\n", what);
		abort();
	}
}

/* Length of the base64 run at s, or -1 if it is not canonical base64. */
static long
b64_len(const char *s, size_t n)
{
	size_t		pad = 0;

	if (n == 0 || n % 4)
		return -1;
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '=')
			pad++;
		else if (pad || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]) || s[i] == '\0')
			return -1;
	}
	if (pad > 2)
		return -1;
	return (long) (n / 4 * 3 - pad);
}

/* The grammar of scram.h, written out a second time. */
static int
grammar_ok(const char *v)
{
	const char *p;
	const char *dollar;
	const char *colon;
	char	   *end;
	long		iter;

	if (strncmp(v, "SCRAM-SHA-256$", 14) != 0)
		return 0;
	p = v + 14;
	if (*p < '1' || *p > '9')
		return 0;
	iter = strtol(p, &end, 10);
	if (*end != ':' || iter < 1 || iter > 0x7fffffff)
		return 0;
	p = end + 1;
	dollar = strchr(p, '$');
	if (!dollar || b64_len(p, (size_t) (dollar - p)) < 1)
		return 0;
	p = dollar + 1;
	colon = strchr(p, ':');
	if (!colon || b64_len(p, (size_t) (colon - p)) != 32)
		return 0;
	return b64_len(colon + 1, strlen(colon + 1)) == 32;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	char	   *verifier = NULL;
	pgr_error	err;
	size_t		saltlen;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (scram_verifier_is_valid(s))
	{
		check(grammar_ok(s), "accepted verifier matches the grammar");
		for (const unsigned char *p = (const unsigned char *) s; *p; p++)
			check(*p > 0x20 && *p < 0x7f && *p != '\'' && *p != '"' && *p != '\\',
				  "accepted verifier has only safe characters");
	}
	else
		check(!grammar_ok(s), "grammatical verifier is accepted");

	/* build one: password = the input, salt = its first bytes, few rounds */
	saltlen = size < 1 ? 1 : size > SCRAM_MAX_SALT_LEN ? SCRAM_MAX_SALT_LEN : size;
	pgr_error_clear(&err);
	if (strlen(s) <= 1024 &&
		scram_build_verifier(s, (const unsigned char *) (size ? (const char *) data : "x"),
							 saltlen, 1 + (int) (size % 4), &verifier, &err) == 0)
	{
		check(scram_password_is_ascii(s), "only ASCII passwords are hashed here");
		check(scram_verifier_is_valid(verifier), "built verifier is valid");
		check(grammar_ok(verifier), "built verifier matches the grammar");
	}
	else
		check(verifier == NULL, "no verifier on failure");
	pgr_free_secret(verifier);
	pgr_free_secret(s);
	return 0;
}
