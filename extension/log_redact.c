/*-------------------------------------------------------------------------
 *
 * log_redact.c
 *	  emit_log_hook: keep passwords and SCRAM-SHA-256 verifiers out of the
 *	  server log.
 *
 * With log_statement = 'all' (or log_min_duration_statement = 0) the
 * server logs every statement before it runs, including
 * "SELECT rotate.set_password('app', 'SCRAM-SHA-256$4096:...')" and, for
 * the extended protocol, its parameters in a DETAIL (or CONTEXT) line.
 * Nothing inside set_password can prevent that, but a log hook can.  In
 * every log entry:
 *
 *	- the string literal after the keyword PASSWORD becomes '<redacted>'
 *	  (ALTER ROLE ... [ENCRYPTED] PASSWORD 'x', CREATE ROLE, CREATE USER
 *	  MAPPING ... OPTIONS (password 'x')): log_statement logs a managed
 *	  role's ALTER ROLE ... PASSWORD 'plaintext' before the self-change
 *	  hook refuses it;
 *	- when the statement mentions set_password (for EXECUTE of a prepared
 *	  call, its "prepare:" detail does), every string literal and
 *	  parameter value becomes '<redacted>': a verifier can be put together
 *	  inside the call ('SCRAM-SHA-256$' || '4096:...'), so its text need
 *	  not hold a verifier at all;
 *	- every verifier left becomes "SCRAM-SHA-256$<redacted>", in any case,
 *	  with blanks, a sign or colons before the count (PostgreSQL reads the
 *	  count with strtol(), which skips blanks, and finds it with strtok(),
 *	  which skips colons) and blanks inside the base64 parts (which its
 *	  decoder skips);
 * and the STATEMENT line is left out when the statement holds any of these.
 * Literals are looked for where a statement or its parameters can be
 * quoted: the message and detail of LOG entries (log_statement's and the
 * durations'), the context and the internal query; an error's message,
 * detail and hint, which the client reads too, lose verifiers only.
 *
 * A literal's end is found the way the server's lexer finds it, except
 * that a backslash always escapes: when standard_conforming_strings is on
 * that hides more than the literal, never less.  What it cannot see: a
 * password inside a longer literal ('host=x password=y' given to dblink),
 * a verifier put together in a statement that calls set_password through
 * a function of its own, or a plaintext in a parameter of a statement that
 * does not mention set_password (ALTER ROLE takes no parameters).
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

/* Can c be in a verifier as PostgreSQL reads one (base64, ':', '$', '-', blanks)? */
static inline bool
verifier_char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' ||
		c == '=' || c == ':' || c == '$' || c == '-' ||
		isspace((unsigned char) c);
}

/* Can c be in an SQL identifier or keyword? */
static inline bool
ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' ||
		IS_HIGHBIT_SET(c);
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
 * redact_verifiers
 *		s with every verifier body replaced; NULL when s holds none.  The
 *		blanks that end a body are kept.  palloc'd in the current context
 *		(ErrorContext here).
 */
static char *
redact_verifiers(const char *s)
{
	StringInfoData buf;
	const char *p;

	if (s == NULL || (p = find_verifier(s)) == NULL)
		return NULL;

	initStringInfo(&buf);
	do
	{
		const char *end;

		appendBinaryStringInfo(&buf, s, p - s);
		appendStringInfoString(&buf, SCRAM_PREFIX REDACTED);
		p += strlen(SCRAM_PREFIX);
		end = p;
		while (*p && verifier_char(*p))
		{
			p++;
			if (!isspace((unsigned char) p[-1]))
				end = p;
		}
		s = end;
	} while ((p = find_verifier(s)) != NULL);
	appendStringInfoString(&buf, s);
	return buf.data;
}

/*
 * literal_end
 *		If a string literal starts at p (s is the whole text, for the
 *		character before p), return the character just past it: past the
 *		end of s when it is not closed.  Else NULL.  Handles '...' with
 *		doubled quotes and continuation lines, E'...', U&'...', N'...',
 *		B'...', X'...' and $tag$...$tag$.
 */
static const char *
literal_end(const char *s, const char *p)
{
	const char *q = p;

	/* a prefix letter or a dollar inside a word starts no literal */
	if (*q != '\'' && p > s && ident_char(p[-1]))
		return NULL;

	if (*q == '$')
	{
		const char *tag_end = q + 1;
		const char *close;
		char	   *tag;

		if (!(*tag_end == '$' || isalpha((unsigned char) *tag_end) ||
			  *tag_end == '_' || IS_HIGHBIT_SET(*tag_end)))
			return NULL;		/* $1, or a lone $ */
		while (*tag_end != '$')
		{
			if (!ident_char(*tag_end) || *tag_end == '\0')
				return NULL;
			tag_end++;
		}
		tag = pnstrdup(q, tag_end + 1 - q);
		close = strstr(tag_end + 1, tag);
		q = close ? close + strlen(tag) : tag_end + 1 + strlen(tag_end + 1);
		pfree(tag);
		return q;
	}

	if ((*q == 'U' || *q == 'u') && q[1] == '&' && q[2] == '\'')
		q += 2;
	else if (strchr("EeNnBbXx", *q) != NULL && *q != '\0' && q[1] == '\'')
		q++;
	if (*q != '\'')
		return NULL;

	for (;;)
	{
		const char *next;
		bool		newline = false;

		/* one quoted part; a backslash always escapes (see the header) */
		for (q++; *q; q++)
		{
			if (*q == '\\' && q[1] != '\0')
				q++;
			else if (*q == '\'' && q[1] == '\'')
				q++;
			else if (*q == '\'')
				break;
		}
		if (*q == '\0')
			return q;
		q++;
		/* 'a' <newline> 'b' is one literal */
		for (next = q; isspace((unsigned char) *next); next++)
			newline |= (*next == '\n' || *next == '\r');
		if (!newline || *next != '\'')
			return q;
		q = next;
	}
}

/* Where the comment starting at p ends (p itself when there is none). */
static const char *
comment_end(const char *p)
{
	if (p[0] == '-' && p[1] == '-')
		return p + strcspn(p, "\r\n");
	if (p[0] == '/' && p[1] == '*')
	{
		int			depth = 1;
		const char *q = p + 2;

		while (*q && depth > 0)
		{
			if (q[0] == '/' && q[1] == '*')
				depth++, q++;
			else if (q[0] == '*' && q[1] == '/')
				depth--, q++;
			q++;
		}
		return q;
	}
	return p;
}

/*
 * redact_literals
 *		s with the literal after each PASSWORD keyword replaced, or with
 *		every literal replaced when all is true; NULL when nothing was.
 *		Comments and blanks between PASSWORD and its literal are skipped,
 *		as the server's grammar skips them.
 */
static char *
redact_literals(const char *s, bool all)
{
	StringInfoData buf;
	const char *p = s;
	const char *copied = s;		/* s up to here is in buf */
	bool		after_password = false;
	bool		changed = false;

	if (s == NULL)
		return NULL;
	initStringInfo(&buf);
	while (*p)
	{
		const char *end;

		if ((end = comment_end(p)) != p)
			p = end;
		else if (isspace((unsigned char) *p))
			p++;
		else if ((end = literal_end(s, p)) != NULL)
		{
			if (all || after_password)
			{
				appendBinaryStringInfo(&buf, copied, p - copied);
				appendStringInfoString(&buf, "'" REDACTED "'");
				copied = end;
				changed = true;
			}
			after_password = false;
			p = end;
		}
		else if (*p == '"')
		{
			/* a quoted identifier: "password" is not the keyword */
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
				if (*p == '"')
					p++;
			if (*p)
				p++;
			after_password = false;
		}
		else if (ident_char(*p) && *p != '$')
		{
			const char *word = p;

			while (ident_char(*p))
				p++;
			after_password = (p - word == 8 && pg_strncasecmp(word, "password", 8) == 0);
		}
		else
		{
			after_password = false;
			p++;
		}
	}
	if (!changed)
	{
		pfree(buf.data);
		return NULL;
	}
	appendStringInfoString(&buf, copied);
	return buf.data;
}

/* Does s mention set_password (in any case)? */
static bool
mentions_set_password(const char *s)
{
	const char *p;

	if (s == NULL)
		return false;
	for (p = s; *p; p++)
		if (pg_strncasecmp(p, "set_password", 12) == 0)
			return true;
	return false;
}

/* What redact_field hides besides verifiers. */
typedef enum Literals
{
	LITERALS_KEPT,				/* our words and PostgreSQL's: none */
	LITERALS_PASSWORD,			/* the one after PASSWORD */
	LITERALS_ALL				/* every one */
} Literals;

/*
 * redact_field
 *		Replace *field with its redacted form (literals, then verifiers)
 *		when it holds something to hide.  A field that mentions
 *		set_password loses every literal.
 */
static void
redact_field(char **field, Literals literals)
{
	char	   *r = NULL;
	char	   *v;

	if (literals != LITERALS_KEPT)
		r = redact_literals(*field, literals == LITERALS_ALL ||
							mentions_set_password(*field));
	if (r != NULL)
		*field = r;
	v = redact_verifiers(*field);
	if (v != NULL)
		*field = v;
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
		/* EXECUTE of a prepared call names it in its "prepare:" detail */
		bool		call = mentions_set_password(debug_query_string) ||
			mentions_set_password(edata->message) ||
			mentions_set_password(edata->detail);
		Literals	quoted = call ? LITERALS_ALL : LITERALS_PASSWORD;
		Literals	in_log;

		/*
		 * The fields that can quote a statement or its parameters: the
		 * message and detail of log_statement's and the duration's LOG
		 * entries ("statement: ...", "parameters: $1 = ..."), a context
		 * ("SQL statement ...", "portal with parameters: ...") and an
		 * internal query.  An error's own message and detail are words
		 * the client reads too, and hold no statement: verifiers only.
		 */
		in_log = (edata->elevel == LOG || edata->elevel == LOG_SERVER_ONLY)
			? quoted : LITERALS_KEPT;

		redact_field(&edata->message, in_log);
		redact_field(&edata->detail, in_log);
		redact_field(&edata->context, quoted);
		redact_field(&edata->internalquery, quoted);
		redact_field(&edata->detail_log, LITERALS_KEPT);
		redact_field(&edata->hint, LITERALS_KEPT);

		if (debug_query_string != NULL &&
			(call || find_verifier(debug_query_string) != NULL ||
			 redact_literals(debug_query_string, false) != NULL))
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
