/*-------------------------------------------------------------------------
 *
 * error.h
 *	  The error record every client module fills in, and the exit codes.
 *
 * A function that can fail returns a status (0 on success, -1 on failure)
 * and, when given a non-NULL pgr_error, says what failed there. Messages
 * follow PostgreSQL's style: a lowercase primary message without a period,
 * detail and hint as full sentences. No secret is ever put in one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ERROR_H
#define PGR_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* Exit codes of the pg_rotate program (documented in the man page). */
#define PGR_EXIT_OK			0	/* everything succeeded */
#define PGR_EXIT_FAILURE	1	/* an operation failed (AWS, database, rotation) */
#define PGR_EXIT_USAGE		2	/* bad command line or configuration */
#define PGR_EXIT_ATTENTION	3	/* "check" found something that needs attention */
#define PGR_EXIT_ROLLED_BACK 4	/* a rotation failed its test and was rolled back */
#define PGR_EXIT_AUDIT_MISMATCH 5	/* "check --audit": the audit log does not match */

/* Broad classes of failure, so callers can branch without parsing text. */
typedef enum pgr_errclass
{
	PGR_ERR_NONE = 0,
	PGR_ERR_USAGE,				/* bad option or configuration */
	PGR_ERR_INPUT,				/* malformed input: JSON, secret, file */
	PGR_ERR_AWS,				/* the service answered with an error */
	PGR_ERR_NETWORK,			/* could not reach a service */
	PGR_ERR_DATABASE,			/* libpq or server error */
	PGR_ERR_INTERNAL			/* out of memory, bug */
} pgr_errclass;

#define PGR_ERRMSG_LEN	512

typedef struct pgr_error
{
	pgr_errclass errclass;
	char		code[64];		/* AWS error code or SQLSTATE, "" if none */
	char		message[PGR_ERRMSG_LEN];
	char		detail[PGR_ERRMSG_LEN];
	char		hint[PGR_ERRMSG_LEN];
} pgr_error;

extern void pgr_error_clear(pgr_error *err);
extern void pgr_error_set(pgr_error *err, pgr_errclass errclass, const char *code,
						  const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
extern void pgr_error_detail(pgr_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void pgr_error_hint(pgr_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void pgr_error_prefix(pgr_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern bool pgr_error_code_is(const pgr_error *err, const char *code);
extern int	pgr_error_exit_code(const pgr_error *err);

#endif							/* PGR_ERROR_H */
