/*-------------------------------------------------------------------------
 *
 * scram.h
 *	  SCRAM-SHA-256 password verifiers computed on the client (pure: no I/O).
 *
 * A verifier is what PostgreSQL stores in pg_authid.rolpassword for a
 * SCRAM-SHA-256 role (RFC 5802, RFC 7677):
 *
 *	SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
 *
 * Sending it instead of the password means the plaintext never reaches the
 * server. It is still derived from the password (an offline guessing target),
 * so callers treat it as secret: wipe it (pgr_free_secret) before freeing.
 *
 * PostgreSQL normalizes passwords with SASLprep before hashing. SASLprep
 * leaves pure ASCII unchanged, so this module refuses anything else and the
 * caller uses libpq's PQencryptPasswordConn for such passwords (db.c does).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_SCRAM_H
#define PGR_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SCRAM_DEFAULT_ITERATIONS	4096	/* PostgreSQL's default */
#define SCRAM_DEFAULT_SALT_LEN		16		/* PostgreSQL's default */
#define SCRAM_MAX_SALT_LEN			64

extern bool scram_password_is_ascii(const char *password);
extern int	scram_build_verifier(const char *password,
								 const unsigned char *salt, size_t saltlen,
								 int iterations, char **out, pgr_error *err);
extern int	scram_make_verifier(const char *password, char **out, pgr_error *err);
extern bool scram_verifier_is_valid(const char *verifier);

#endif							/* PGR_SCRAM_H */
