/*-------------------------------------------------------------------------
 *
 * fuzz_log.c
 *	  libFuzzer target: the log sanitizer (pgr_log_sanitize) and the JSON
 *	  log records of the Lambda runtime (pgr_log, pgr_log_report in JSON
 *	  mode), which must keep one message on one line (CWE-117).
 *
 * Input: one byte choosing the sanitizer's buffer size, then the message.
 *
 * Properties:
 *	- the sanitized text fits its buffer, is NUL-terminated and holds no
 *	  control byte; with room enough it decodes back to the message
 *	  (messages without a backslash), else it is a clean prefix of that;
 *	- a JSON record is exactly one line, holds no raw control byte, parses
 *	  as JSON (json.c's strict reader), and gives back the message (cut at
 *	  the logger's 2047 bytes) when that is UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

#define LOG_LINE_MAX 2047		/* log.c formats into 2048 bytes */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *capture;
static char *capture_buf;
static size_t capture_len;

static void
check(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "fuzz_log: property violated: %s\n", what);
		abort();
	}
}

/* Decode the "\xNN" escapes of the sanitizer into out; returns the length. */
static size_t
unescape(const char *s, char *out)
{
	size_t		o = 0;

	while (*s)
	{
		if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3])
		{
			char		hex[3] = {s[2], s[3], '\0'};

			out[o++] = (char) strtol(hex, NULL, 16);
			s += 4;
		}
		else
			out[o++] = *s++;
	}
	out[o] = '\0';
	return o;
}

static void
check_sanitizer(const char *msg, size_t dstlen)
{
	char	   *dst = malloc(dstlen);
	char	   *back;
	size_t		n;
	size_t		msglen = strlen(msg);

	if (!dst)
		return;
	memset(dst, 'Z', dstlen);
	pgr_log_sanitize(dst, dstlen, msg);
	check(memchr(dst, '\0', dstlen) != NULL, "sanitized text is terminated");
	for (const unsigned char *p = (const unsigned char *) dst; *p; p++)
		check(*p >= 0x20 && *p != 0x7f, "no control byte");
	back = malloc(strlen(dst) + 1);
	if (back && !strchr(msg, '\\'))
	{
		n = unescape(dst, back);
		check(n <= msglen && memcmp(back, msg, n) == 0, "decodes to a prefix");
		if (dstlen > 4 * msglen)
			check(n == msglen, "decodes to the whole message given room");
	}
	free(back);
	free(dst);
}

/* The one record written to the capture stream since the last reset. */
static json_doc *
take_record(void)
{
	json_doc   *doc = NULL;
	char	   *nl;

	fflush(capture);
	check(capture_len > 0 && capture_buf[capture_len - 1] == '\n', "record ends a line");
	nl = memchr(capture_buf, '\n', capture_len);
	check(nl == capture_buf + capture_len - 1, "one record, one line");
	for (size_t i = 0; i + 1 < capture_len; i++)
		check((unsigned char) capture_buf[i] >= 0x20, "no raw control byte in JSON");
	check(json_parse(capture_buf, capture_len, 0, &doc, NULL) == 0 &&
		  json_type_of(json_root(doc)) == JSON_OBJECT, "record is JSON");
	fseeko(capture, 0, SEEK_SET);
	return doc;
}

static void
check_json_log(const char *msg)
{
	json_doc   *rec;
	const char *v;
	size_t		len = 0;
	size_t		want = strlen(msg) > LOG_LINE_MAX ? LOG_LINE_MAX : strlen(msg);
	pgr_error	err;

	pgr_log_info("%s", msg);
	rec = take_record();
	v = json_string(json_get(json_root(rec), "message"), &len);
	check(v != NULL, "the record has the message");
	if (json_is_utf8(msg, want))
		check(len == want && memcmp(v, msg, want) == 0, "message survives the round trip");
	json_free(rec);

	pgr_error_set(&err, PGR_ERR_INPUT, "Code\n", "%s", msg);
	pgr_error_detail(&err, "%s", msg);
	pgr_error_hint(&err, "%s", msg);
	pgr_log_report(&err);
	rec = take_record();
	json_free(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *msg;

	if (!capture)
	{
		/* JSON records go to stdout: send them to memory instead */
		capture = open_memstream(&capture_buf, &capture_len);
		if (!capture)
			abort();
		stdout = capture;
		pgr_log_init("fuzz", PGR_LOG_DEBUG);
		pgr_log_set_json(true);
	}
	if (size < 1)
		return 0;
	msg = strndup((const char *) data + 1, size - 1);
	if (!msg)
		return 0;
	check_sanitizer(msg, (size_t) data[0] + 1);
	check_sanitizer(msg, 4 * strlen(msg) + 1);
	check_json_log(msg);
	free(msg);
	return 0;
}
