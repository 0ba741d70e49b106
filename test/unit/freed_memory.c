/*-------------------------------------------------------------------------
 *
 * freed_memory.c
 *	  Test-only allocator wrappers that hand every freed block's bytes to
 *	  a sink (see freed_memory.h).
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freed_memory.h"

extern void *__real_malloc(size_t size);
extern void *__real_calloc(size_t n, size_t size);
extern void *__real_realloc(void *p, size_t size);
extern void __real_free(void *p);
extern void *__wrap_malloc(size_t size);
extern void *__wrap_calloc(size_t n, size_t size);
extern void *__wrap_realloc(void *p, size_t size);
extern void __wrap_free(void *p);
extern char *__wrap_strdup(const char *s);
extern char *__wrap_strndup(const char *s, size_t n);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int	sink_fd = -1;		/* PG_ROTATE_TEST_FREED_DUMP */
static bool keeping;			/* freed_memory_keep() */
static unsigned char *kept;
static size_t kept_len;
static size_t kept_cap;

/* pg_rotate-testhooks: record into the file the leak test names. */
__attribute__((constructor))
static void
open_sink(void)
{
	const char *path = getenv("PG_ROTATE_TEST_FREED_DUMP");

	if (path && *path)
		sink_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static bool
recording(void)
{
	return sink_fd >= 0 || keeping;
}

/* Hand the bytes of a block that is about to be freed to the sink. */
static void
record(const void *p, size_t n)
{
	pthread_mutex_lock(&lock);
	if (sink_fd >= 0)
	{
		const unsigned char *b = p;

		while (n > 0)
		{
			ssize_t		w = write(sink_fd, b, n);

			if (w <= 0)
				break;
			b += w;
			n -= (size_t) w;
		}
	}
	else if (keeping)
	{
		if (kept_len + n > kept_cap)
		{
			size_t		cap = kept_cap ? kept_cap : 1 << 20;
			unsigned char *grown;

			while (cap < kept_len + n)
				cap *= 2;
			grown = __real_realloc(kept, cap);
			if (!grown)
				goto done;
			kept = grown;
			kept_cap = cap;
		}
		memcpy(kept + kept_len, p, n);
		kept_len += n;
	}
done:
	pthread_mutex_unlock(&lock);
}

/* Zero a block from offset "from" to its end: no stale bytes in our scans. */
static void *
zero_slack(void *p, size_t from)
{
	size_t		usable;

	if (p && (usable = malloc_usable_size(p)) > from)
		memset((char *) p + from, 0, usable - from);
	return p;
}

/*
 * A new block is zeroed whole: malloc hands out memory that somebody else
 * (a library, whose frees are not seen) may have left a secret in, and
 * that must not be taken for what this block held.
 */
void *
__wrap_malloc(size_t size)
{
	return zero_slack(__real_malloc(size), 0);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return zero_slack(__real_calloc(n, size), n * size);
}

/* While recording, a move is a malloc, a copy and a recorded free. */
void *
__wrap_realloc(void *p, size_t size)
{
	void	   *q;
	size_t		old;

	if (!p || !recording())
		return zero_slack(__real_realloc(p, size), size);
	q = __wrap_malloc(size);
	if (!q)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	__wrap_free(p);
	return q;
}

void
__wrap_free(void *p)
{
	if (!p)
		return;
	if (recording())
		record(p, malloc_usable_size(p));
	__real_free(p);
}

char *
__wrap_strdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = __wrap_malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *
__wrap_strndup(const char *s, size_t n)
{
	size_t		len = strnlen(s, n);
	char	   *p = __wrap_malloc(len + 1);

	if (p)
	{
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Start (clearing what was kept) or stop keeping freed blocks in memory. */
void
freed_memory_keep(bool on)
{
	pthread_mutex_lock(&lock);
	keeping = on;
	if (on)
		kept_len = 0;
	pthread_mutex_unlock(&lock);
}

/* Whether any block freed while keeping held these bytes. */
bool
freed_memory_holds(const void *needle, size_t len)
{
	bool		found;

	pthread_mutex_lock(&lock);
	found = len > 0 && kept_len >= len && memmem(kept, kept_len, needle, len) != NULL;
	pthread_mutex_unlock(&lock);
	return found;
}

bool
freed_memory_holds_str(const char *needle)
{
	return freed_memory_holds(needle, strlen(needle));
}
