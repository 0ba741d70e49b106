/*-------------------------------------------------------------------------
 *
 * password_env.h
 *	  The password settings AWS's rotation templates read from the
 *	  environment (PASSWORD_LENGTH, EXCLUDE_CHARACTERS, EXCLUDE_NUMBERS,
 *	  EXCLUDE_PUNCTUATION, EXCLUDE_UPPERCASE, EXCLUDE_LOWERCASE,
 *	  REQUIRE_EACH_INCLUDED_TYPE), so that a function keeps its
 *	  configuration when its code is swapped for pg_rotate.
 *
 * Read by the callers of Rotation (the CLI, the Lambda loop), which hand
 * Rotation the rules; Rotation itself reads no environment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_PASSWORD_ENV_H
#define PGR_PASSWORD_ENV_H

#include "error.h"
#include "secret.h"

extern int	pgr_password_rules_from_env(pgr_password_rules *rules, pgr_error *err);

#endif							/* PGR_PASSWORD_ENV_H */
