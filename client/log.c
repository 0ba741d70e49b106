/*-------------------------------------------------------------------------
 *
 * log.c
 *	  Text logging on stderr with control characters escaped, or JSON
 *	  lines on stdout.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
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

/*
 * Print one JSON object on its own line on stdout: the JSON writer escapes
 * every control character, so a record is always one line (CWE-117).
 */
void
pgr_log_json_line(const pgr_buf *object)
{
	if (object->data && !object->oom && !object->overflow)
	{
		fwrite(object->data, 1, object->len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
}

/* Start a JSON log record in b: {"level": level, and what the caller adds. */
void
pgr_log_record_begin(pgr_buf *b, json_writer *w, const char *level)
{
	pgr_buf_init(b, 0);
	json_writer_init(w, b, false);
	json_write_begin_object(w);
	json_write_key(w, "level");
	json_write_string(w, level);
}

/* Close the record, print it as its own line, free it. */
void
pgr_log_record_end(pgr_buf *b, json_writer *w)
{
	json_write_end_object(w);
	pgr_log_json_line(b);
	pgr_buf_free(b);
}

static void
log_line(pgr_log_level level, const char *label, const char *text)
{
	char		clean[2048];

	if (log_json)
	{
		pgr_buf		b;
		json_writer w;

		pgr_log_record_begin(&b, &w, level_names[level]);
		json_write_key(&w, label ? label : "message");
		json_write_string(&w, text);
		pgr_log_record_end(&b, &w);
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

/*
 * An error record's members (code, message, detail and hint, the empty
 * ones left out; the code always) into an object the caller opened.
 */
void
pgr_log_write_error(json_writer *w, const pgr_error *err)
{
	json_write_key(w, "code");
	json_write_string(w, err->code);
	json_write_key(w, "message");
	json_write_string(w, err->message[0] ? err->message : "unknown error");
	if (err->detail[0])
	{
		json_write_key(w, "detail");
		json_write_string(w, err->detail);
	}
	if (err->hint[0])
	{
		json_write_key(w, "hint");
		json_write_string(w, err->hint);
	}
}

/* Print an error record: the message, then its detail and hint lines. */
void
pgr_log_report(const pgr_error *err)
{
	if (!err)
		return;
	if (log_json)
	{
		pgr_buf		b;
		json_writer w;

		pgr_log_record_begin(&b, &w, "error");
		pgr_log_write_error(&w, err);
		pgr_log_record_end(&b, &w);
		return;
	}
	log_line(PGR_LOG_ERROR, NULL, err->message[0] ? err->message : "unknown error");
	if (err->detail[0])
		log_line(PGR_LOG_ERROR, "detail", err->detail);
	if (err->hint[0])
		log_line(PGR_LOG_ERROR, "hint", err->hint);
}

/*
 * A status line on the terminal (the caller checks that stderr is one),
 * rewritten in place: back to the line's start, the text, the rest of the
 * line erased (ANSI EL), no newline. Keep the text shorter than a line.
 */
void
pgr_log_progress(const char *fmt,...)
{
	char		text[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r%s\033[K", text);
	fflush(stderr);
}

/* Erase the status line, for other output to take its place. */
void
pgr_log_progress_clear(void)
{
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* The end of the status line: what follows goes on the next one. */
void
pgr_log_progress_end(void)
{
	fputc('\n', stderr);
}
