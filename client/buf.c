/*-------------------------------------------------------------------------
 *
 * buf.c
 *	  Growable buffers that wipe what they free.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"

/* Start an empty buffer; limit 0 means no limit. */
void
pgr_buf_init(pgr_buf *buf, size_t limit)
{
	memset(buf, 0, sizeof(*buf));
	buf->limit = limit;
}

/*
 * Make room for "need" more bytes plus a NUL. The old block is copied, then
 * wiped and freed, so no stale copy of the contents survives.
 */
static bool
buf_reserve(pgr_buf *buf, size_t need)
{
	size_t		newcap;
	char	   *newdata;

	if (buf->oom || buf->overflow)
		return false;
	if (buf->limit && need > buf->limit - buf->len)
	{
		buf->overflow = true;
		return false;
	}
	if (buf->len + need + 1 <= buf->cap)
		return true;
	newcap = buf->cap ? buf->cap : 256;
	while (newcap < buf->len + need + 1)
	{
		if (newcap > ((size_t) -1) / 2)
		{
			buf->oom = true;
			return false;
		}
		newcap *= 2;
	}
	newdata = malloc(newcap);
	if (!newdata)
	{
		buf->oom = true;
		return false;
	}
	if (buf->data)
	{
		memcpy(newdata, buf->data, buf->len + 1);
		pgr_wipe(buf->data, buf->cap);
		free(buf->data);
	}
	else
		newdata[0] = '\0';
	buf->data = newdata;
	buf->cap = newcap;
	return true;
}

/* Append len bytes; false (and the buffer unchanged) when out of room. */
bool
pgr_buf_append(pgr_buf *buf, const void *data, size_t len)
{
	if (!buf_reserve(buf, len))
		return false;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return true;
}

bool
pgr_buf_puts(pgr_buf *buf, const char *s)
{
	return pgr_buf_append(buf, s, strlen(s));
}

bool
pgr_buf_putc(pgr_buf *buf, char c)
{
	return pgr_buf_append(buf, &c, 1);
}

/* Append formatted text. */
bool
pgr_buf_printf(pgr_buf *buf, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(buf, (size_t) n))
		return false;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
	va_end(ap);
	buf->len += (size_t) n;
	return true;
}

/*
 * Hand the contents over to the caller (free with free(), or with
 * pgr_free_secret() when they are secret) and leave the buffer empty.
 * Returns an empty string for an empty buffer, NULL when out of memory.
 */
char *
pgr_buf_detach(pgr_buf *buf)
{
	char	   *data;

	if (!buf->data && !buf_reserve(buf, 0))
		return NULL;
	data = buf->data;
	buf->data = NULL;
	buf->len = buf->cap = 0;
	return data;
}

/* Wipe and free the contents; the buffer may be reused after init. */
void
pgr_buf_free(pgr_buf *buf)
{
	if (buf->data)
	{
		pgr_wipe(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

/*
 * Overwrite memory in a way the compiler may not optimize out: the one
 * place the client wipes a secret (everything else calls this).
 */
void
pgr_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

/* Wipe a NUL-terminated secret and free it; NULL is allowed. */
void
pgr_free_secret(char *s)
{
	if (!s)
		return;
	pgr_wipe(s, strlen(s));
	free(s);
}

/* strdup that accepts NULL (giving NULL). */
char *
pgr_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
