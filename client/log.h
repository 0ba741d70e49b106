/*-------------------------------------------------------------------------
 *
 * log.h
 *	  The client's logger: pg_log_error()-shaped messages on stderr.
 *
 * Text mode prints "pg_rotate: error: message" with "detail:" and "hint:"
 * lines, like PostgreSQL's own programs. JSON mode (the Lambda runtime)
 * prints one object per line on stdout, for CloudWatch Logs. Every message is stripped of
 * control characters (CWE-117) before it is written, or escaped by the
 * JSON writer. Never pass a secret.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_LOG_H
#define PGR_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "json.h"

typedef enum pgr_log_level
{
	PGR_LOG_DEBUG = 0,
	PGR_LOG_INFO,
	PGR_LOG_WARNING,
	PGR_LOG_ERROR
} pgr_log_level;

extern void pgr_log_init(const char *progname, pgr_log_level min_level);
extern void pgr_log_set_json(bool json);
extern bool pgr_log_enabled(pgr_log_level level);
extern void pgr_log(pgr_log_level level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void pgr_log_report(const pgr_error *err);
extern void pgr_log_sanitize(char *dst, size_t dstlen, const char *src);
extern void pgr_log_json_line(const pgr_buf *object);
extern void pgr_log_record_begin(pgr_buf *b, json_writer *w, const char *level);
extern void pgr_log_record_end(pgr_buf *b, json_writer *w);
extern void pgr_log_progress(const char *fmt,...)
			__attribute__((format(printf, 1, 2)));
extern void pgr_log_progress_clear(void);
extern void pgr_log_progress_end(void);
extern void pgr_log_write_error(json_writer *w, const pgr_error *err);

#define pgr_log_debug(...)		pgr_log(PGR_LOG_DEBUG, __VA_ARGS__)
#define pgr_log_info(...)		pgr_log(PGR_LOG_INFO, __VA_ARGS__)
#define pgr_log_warning(...)	pgr_log(PGR_LOG_WARNING, __VA_ARGS__)
#define pgr_log_error(...)		pgr_log(PGR_LOG_ERROR, __VA_ARGS__)

#endif							/* PGR_LOG_H */
