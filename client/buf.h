/*-------------------------------------------------------------------------
 *
 * buf.h
 *	  A growable byte buffer that never leaves copies of its contents in
 *	  freed memory, and helpers to wipe and free secrets.
 *
 * Growing copies into a new block and wipes the old one before freeing it
 * (realloc() could leave the old bytes behind), so a buffer may safely hold
 * a secret value or a response body that contains one. A buffer can have a
 * size limit; appending past it fails and sets "overflow".
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_BUF_H
#define PGR_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pgr_buf
{
	char	   *data;			/* NUL-terminated once anything was added */
	size_t		len;			/* bytes used, not counting the NUL */
	size_t		cap;			/* bytes allocated */
	size_t		limit;			/* 0 = no limit, else the most len may be */
	bool		overflow;		/* an append went past the limit */
	bool		oom;			/* an allocation failed */
} pgr_buf;

extern void pgr_buf_init(pgr_buf *buf, size_t limit);
extern bool pgr_buf_append(pgr_buf *buf, const void *data, size_t len);
extern bool pgr_buf_puts(pgr_buf *buf, const char *s);
extern bool pgr_buf_putc(pgr_buf *buf, char c);
extern bool pgr_buf_printf(pgr_buf *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern char *pgr_buf_detach(pgr_buf *buf);
extern void pgr_buf_free(pgr_buf *buf);

extern void pgr_wipe(void *p, size_t len);
extern void pgr_free_secret(char *s);
extern char *pgr_strdup(const char *s);

#endif							/* PGR_BUF_H */
