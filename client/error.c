/*-------------------------------------------------------------------------
 *
 * error.c
 *	  Filling in pgr_error records.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "error.h"

void
pgr_error_clear(pgr_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

/*
 * Set the class, code (may be NULL) and primary message; clears any detail
 * and hint left from before. A NULL err is allowed and ignored.
 */
void
pgr_error_set(pgr_error *err, pgr_errclass errclass, const char *code,
			  const char *fmt,...)
{
	va_list		ap;

	if (!err)
		return;
	pgr_error_clear(err);
	err->errclass = errclass;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void
pgr_error_detail(pgr_error *err, const char *fmt,...)
{
	va_list		ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void
pgr_error_hint(pgr_error *err, const char *fmt,...)
{
	va_list		ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

/*
 * Put context in front of the primary message: "setSecret for \"x\": " + msg.
 * Used by callers higher up to say which step or secret failed.
 */
void
pgr_error_prefix(pgr_error *err, const char *fmt,...)
{
	char		prefix[PGR_ERRMSG_LEN];
	char		joined[PGR_ERRMSG_LEN];
	va_list		ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s%s", prefix, err->message);
	memcpy(err->message, joined, sizeof(err->message));
}

/* Whether err carries the code (an AWS error code or a SQLSTATE). */
bool
pgr_error_code_is(const pgr_error *err, const char *code)
{
	return err && code && strcmp(err->code, code) == 0;
}

/* The exit status for a command that ended with err (doc/pg_rotate.1). */
int
pgr_error_exit_code(const pgr_error *err)
{
	return err->errclass == PGR_ERR_USAGE ? PGR_EXIT_USAGE : PGR_EXIT_FAILURE;
}
