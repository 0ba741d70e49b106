/*-------------------------------------------------------------------------
 *
 * scram.c
 *	  SCRAM-SHA-256 verifiers with OpenSSL, as PostgreSQL builds them.
 *
 * This mirrors PostgreSQL's scram_build_secret() (src/common/scram-common.c):
 *
 *	SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations, 32)
 *	ClientKey	   = HMAC(SaltedPassword, "Client Key")
 *	StoredKey	   = SHA-256(ClientKey)
 *	ServerKey	   = HMAC(SaltedPassword, "Server Key")
 *
 * Every intermediate key is wiped before returning.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "buf.h"
#include "scram.h"

#define SCRAM_KEY_LEN	32		/* SHA-256 output */
#define SCRAM_PREFIX	"SCRAM-SHA-256$"

/* true when every byte is 7-bit ASCII (SASLprep then changes nothing) */
bool
scram_password_is_ascii(const char *password)
{
	for (const unsigned char *p = (const unsigned char *) password; *p; p++)
	{
		if (*p & 0x80)
			return false;
	}
	return true;
}

/* Base64 of len bytes into out, which has room for 4 * ceil(len / 3) + 1. */
static void
b64_encode(char *out, const unsigned char *in, size_t len)
{
	EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}

/*
 * Build a verifier for password with the given salt and iteration count.
 * On success *out is a malloc'd string the caller owns and must free with
 * pgr_free_secret(). Refuses non-ASCII passwords (see scram.h).
 */
int
scram_build_verifier(const char *password, const unsigned char *salt,
					 size_t saltlen, int iterations, char **out,
					 pgr_error *err)
{
	unsigned char salted[SCRAM_KEY_LEN];
	unsigned char client_key[SCRAM_KEY_LEN];
	unsigned char stored_key[SCRAM_KEY_LEN];
	unsigned char server_key[SCRAM_KEY_LEN];
	unsigned int mdlen;
	char		salt64[4 * ((SCRAM_MAX_SALT_LEN + 2) / 3) + 1];
	char		stored64[4 * ((SCRAM_KEY_LEN + 2) / 3) + 1];
	char		server64[4 * ((SCRAM_KEY_LEN + 2) / 3) + 1];
	pgr_buf		buf;
	char	   *result = NULL;
	int			rc = -1;

	pgr_buf_init(&buf, 0);
	if (!password || !out || !salt)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "cannot build a SCRAM verifier from a NULL argument");
		return -1;
	}
	if (saltlen == 0 || saltlen > SCRAM_MAX_SALT_LEN || iterations < 1)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "invalid SCRAM parameters: salt length %zu, %d iterations",
					  saltlen, iterations);
		return -1;
	}
	if (!scram_password_is_ascii(password))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "cannot build a SCRAM verifier locally for a non-ASCII password");
		pgr_error_detail(err, "PostgreSQL normalizes such passwords with SASLprep first.");
		return -1;
	}

	if (PKCS5_PBKDF2_HMAC(password, (int) strlen(password), salt, (int) saltlen,
						  iterations, EVP_sha256(), SCRAM_KEY_LEN, salted) != 1 ||
		HMAC(EVP_sha256(), salted, SCRAM_KEY_LEN,
			 (const unsigned char *) "Client Key", 10, client_key, &mdlen) == NULL ||
		SHA256(client_key, SCRAM_KEY_LEN, stored_key) == NULL ||
		HMAC(EVP_sha256(), salted, SCRAM_KEY_LEN,
			 (const unsigned char *) "Server Key", 10, server_key, &mdlen) == NULL)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "could not compute a SCRAM-SHA-256 verifier");
		goto cleanup;
	}

	b64_encode(salt64, salt, saltlen);
	b64_encode(stored64, stored_key, SCRAM_KEY_LEN);
	b64_encode(server64, server_key, SCRAM_KEY_LEN);
	if (!pgr_buf_printf(&buf, SCRAM_PREFIX "%d:%s$%s:%s",
						iterations, salt64, stored64, server64) ||
		(result = pgr_buf_detach(&buf)) == NULL)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto cleanup;
	}
	*out = result;
	rc = 0;

cleanup:
	pgr_wipe(salted, sizeof(salted));
	pgr_wipe(client_key, sizeof(client_key));
	pgr_wipe(stored_key, sizeof(stored_key));
	pgr_wipe(server_key, sizeof(server_key));
	pgr_wipe(stored64, sizeof(stored64));
	pgr_wipe(server64, sizeof(server64));
	pgr_buf_free(&buf);
	return rc;
}

/*
 * Build a verifier with PostgreSQL's defaults: a fresh 16-byte salt from
 * the CSPRNG and 4096 iterations. Ownership as for scram_build_verifier().
 */
int
scram_make_verifier(const char *password, char **out, pgr_error *err)
{
	unsigned char salt[SCRAM_DEFAULT_SALT_LEN];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "could not generate a random salt");
		return -1;
	}
	return scram_build_verifier(password, salt, sizeof(salt),
								SCRAM_DEFAULT_ITERATIONS, out, err);
}

/*
 * Check that s[0..len) is canonical base64 and return the decoded length,
 * or -1 when it is not.
 */
static long
b64_decoded_len(const char *s, size_t len)
{
	size_t		pad = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c == '=')
		{
			if (i < len - 2)
				return -1;
			pad++;
		}
		else if (pad > 0)
			return -1;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	return (long) (len / 4 * 3 - pad);
}

/*
 * Does verifier have the exact shape PostgreSQL stores for SCRAM-SHA-256?
 * "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>", iter a positive
 * decimal, salt non-empty base64, both keys base64 of 32 bytes. Such a string
 * holds no quote, backslash, whitespace or control byte.
 */
bool
scram_verifier_is_valid(const char *verifier)
{
	const char *p;
	const char *colon;
	const char *dollar;
	long		iter = 0;

	if (!verifier || strncmp(verifier, SCRAM_PREFIX, strlen(SCRAM_PREFIX)) != 0)
		return false;
	p = verifier + strlen(SCRAM_PREFIX);

	/* iterations */
	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		iter = iter * 10 + (*p - '0');
		if (iter > 0x7fffffff)
			return false;
	}
	if (*p++ != ':')
		return false;

	/* salt */
	dollar = strchr(p, '$');
	if (!dollar || b64_decoded_len(p, (size_t) (dollar - p)) < 1)
		return false;
	p = dollar + 1;

	/* StoredKey:ServerKey */
	colon = strchr(p, ':');
	if (!colon || b64_decoded_len(p, (size_t) (colon - p)) != SCRAM_KEY_LEN)
		return false;
	p = colon + 1;
	return b64_decoded_len(p, strlen(p)) == SCRAM_KEY_LEN;
}
