/*-------------------------------------------------------------------------
 *
 * password_env.c
 *	  The rotation templates' password settings from the environment (see
 *	  password_env.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "password_env.h"

/* A template's boolean knob: "true" (any case) is on; unset keeps dflt. */
static bool
env_bool(const char *name, bool dflt)
{
	const char *v = getenv(name);

	if (!v || !v[0])
		return dflt;
	return strcasecmp(v, "true") == 0;
}

/*
 * Apply the variables that are set to rules (command-line options given
 * later override them). Returns 0, or -1 with a usage error for a
 * PASSWORD_LENGTH that is not a length.
 */
int
pgr_password_rules_from_env(pgr_password_rules *r, pgr_error *err)
{
	const char *len = getenv("PASSWORD_LENGTH");

	if (getenv("EXCLUDE_CHARACTERS"))
		r->exclude_characters = getenv("EXCLUDE_CHARACTERS");
	if (len && len[0])
	{
		char	   *end;
		long		n;

		errno = 0;
		n = strtol(len, &end, 10);
		if (errno || *end || n < 1 || n > SECRET_MAX_PASSWORD_LEN)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid PASSWORD_LENGTH \"%s\"", len);
			pgr_error_hint(err, "Use a whole number from 1 to %d.", SECRET_MAX_PASSWORD_LEN);
			return -1;
		}
		r->length = (int) n;
	}
	r->exclude_numbers = env_bool("EXCLUDE_NUMBERS", r->exclude_numbers);
	r->exclude_punctuation = env_bool("EXCLUDE_PUNCTUATION", r->exclude_punctuation);
	r->exclude_uppercase = env_bool("EXCLUDE_UPPERCASE", r->exclude_uppercase);
	r->exclude_lowercase = env_bool("EXCLUDE_LOWERCASE", r->exclude_lowercase);
	r->require_each_included_type = env_bool("REQUIRE_EACH_INCLUDED_TYPE",
											 r->require_each_included_type);
	return 0;
}
