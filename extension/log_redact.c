/*-------------------------------------------------------------------------
 *
 * log_redact.c
 *	  emit_log_hook: keep SCRAM-SHA-256 verifiers out of the server log.
 *
 * With log_statement = 'all' (or log_min_duration_statement = 0) the
 * server logs every statement before it runs, including
 * "SELECT rotate.set_password('app', 'SCRAM-SHA-256$4096:...')" and, for
 * the extended protocol, its parameters in a DETAIL line.  Nothing inside
 * set_password can prevent that, but a log hook can: every verifier in
 * the message, detail, context and internal query of a log entry is
 * replaced by "SCRAM-SHA-256$<redacted>", and the STATEMENT line is left
 * out when the statement holds one.
 *
 * Installed whenever the module is loaded; complete only when preloaded
 * (otherwise the first statement of a session is logged before the
 * module is loaded).  pg_rotate.redact_log = off turns it off.
 *
 * extension/log_redact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"

#include "compat.h"
#include "pg_rotate.h"

#define SCRAM_PREFIX	"SCRAM-SHA-256$"
#define REDACTED		"<redacted>"

static emit_log_hook_type prev_emit_log_hook = NULL;

/* Can c appear in the body of a verifier (digits, base64, ':' and '$')? */
static inline bool
verifier_char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' ||
		c == '=' || c == ':' || c == '$';
}

/*
 * find_verifier
 *		The first verifier in s: "SCRAM-SHA-256$" in any case, followed by a
 *		character a verifier body can hold.  Malformed verifiers are caught
 *		too; prose such as "SCRAM-SHA-256$<iterations>" is not.
 */
static const char *
find_verifier(const char *s)
{
	const char *p;
	size_t		n = strlen(SCRAM_PREFIX);

	for (p = s; *p; p++)
	{
		if ((*p == 'S' || *p == 's') &&
			pg_strncasecmp(p, SCRAM_PREFIX, n) == 0 &&
			p[n] != '\0' && verifier_char(p[n]))
			return p;
	}
	return NULL;
}

/*
 * redact
 *		s with every verifier body replaced; NULL when s holds none.  The
 *		result is palloc'd in the current context (ErrorContext here).
 */
static char *
redact(const char *s)
{
	StringInfoData buf;
	const char *p;

	if (s == NULL || (p = find_verifier(s)) == NULL)
		return NULL;

	initStringInfo(&buf);
	do
	{
		appendBinaryStringInfo(&buf, s, p - s);
		appendStringInfoString(&buf, SCRAM_PREFIX REDACTED);
		p += strlen(SCRAM_PREFIX);
		while (*p && verifier_char(*p))
			p++;
		s = p;
	} while ((p = find_verifier(s)) != NULL);
	appendStringInfoString(&buf, s);
	return buf.data;
}

/* Replace *field with its redacted form when it holds a verifier. */
static void
redact_field(char **field)
{
	char	   *r = redact(*field);

	if (r != NULL)
		*field = r;
}

/*
 * pg_rotate_emit_log_hook
 *		Redact the entry before it is written anywhere.
 */
static void
pg_rotate_emit_log_hook(ErrorData *edata)
{
	if (pg_rotate_redact_log)
	{
		redact_field(&edata->message);
		redact_field(&edata->detail);
		redact_field(&edata->detail_log);
		redact_field(&edata->hint);
		redact_field(&edata->context);
		redact_field(&edata->internalquery);
		if (debug_query_string != NULL &&
			find_verifier(debug_query_string) != NULL)
			edata->hide_stmt = true;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* Install the hook (from _PG_init). */
void
log_redact_install(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = pg_rotate_emit_log_hook;
}
