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

#include <json-c/json.h>

#include "log.h"

static const char *log_progname = "pg_rotate";
static pgr_log_level log_min_level = PGR_LOG_INFO;
static bool log_json = false;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void
pgr_log_init(const char *progname, pgr_log_level min_level)
{
	if (progname)
		log_progname = progname;
	log_min_level = min_level;
}

void
pgr_log_set_json(bool json)
{
	log_json = json;
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

	if (log_json)
	{
		/* json-c escapes control characters: one record, one line */
		json_object *obj = json_object_new_object();

		json_object_object_add(obj, "level", json_object_new_string(level_names[level]));
		json_object_object_add(obj, label ? label : "message", json_object_new_string(text));
		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(obj);
		return;
	}
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
	if (log_json)
	{
		json_object *obj = json_object_new_object();

		json_object_object_add(obj, "level", json_object_new_string("error"));
		json_object_object_add(obj, "message", json_object_new_string(err->message));
		if (err->code[0])
			json_object_object_add(obj, "code", json_object_new_string(err->code));
		if (err->detail[0])
			json_object_object_add(obj, "detail", json_object_new_string(err->detail));
		if (err->hint[0])
			json_object_object_add(obj, "hint", json_object_new_string(err->hint));
		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(obj);
		return;
	}
	log_line(PGR_LOG_ERROR, NULL, err->message[0] ? err->message : "unknown error");
	if (err->detail[0])
		log_line(PGR_LOG_ERROR, "detail", err->detail);
	if (err->hint[0])
		log_line(PGR_LOG_ERROR, "hint", err->hint);
}
