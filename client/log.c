/*-------------------------------------------------------------------------
 *
 * log.c
 *	  Text logging on stderr, with control characters escaped.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_progname = "pg_rotate";
static pgr_log_level log_min_level = PGR_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void
pgr_log_init(const char *progname, pgr_log_level min_level)
{
	if (progname)
		log_progname = progname;
	log_min_level = min_level;
}

bool
pgr_log_enabled(pgr_log_level level)
{
	return level >= log_min_level;
}

/*
 * Copy src to dst, replacing every control byte (newline included) by "\xNN"
 * so that one message is always one line and cannot forge another (CWE-117).
 */
void
pgr_log_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t		o = 0;

	if (dstlen == 0)
		return;
	for (const unsigned char *p = (const unsigned char *) src; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
		{
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, dstlen - o, "\\x%02x", *p);
			o += 4;
		}
		else
		{
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char) *p;
		}
	}
	dst[o] = '\0';
}

static void
log_line(pgr_log_level level, const char *label, const char *text)
{
	char		clean[2048];

	pgr_log_sanitize(clean, sizeof(clean), text);
	if (label)
		fprintf(stderr, "%s: %s: %s\n", log_progname, label, clean);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, level_names[level], clean);
}

void
pgr_log(pgr_log_level level, const char *fmt,...)
{
	char		buf[2048];
	va_list		ap;

	if (!pgr_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(level, NULL, buf);
}

/* Print an error record: the message, then its detail and hint lines. */
void
pgr_log_report(const pgr_error *err)
{
	if (!err)
		return;
	log_line(PGR_LOG_ERROR, NULL, err->message[0] ? err->message : "unknown error");
	if (err->detail[0])
		log_line(PGR_LOG_ERROR, "detail", err->detail);
	if (err->hint[0])
		log_line(PGR_LOG_ERROR, "hint", err->hint);
}
