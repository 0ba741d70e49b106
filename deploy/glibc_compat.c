/*-------------------------------------------------------------------------
 *
 * glibc_compat.c
 *	  What the Lambda bootstrap's static libraries ask of glibc but Amazon
 *	  Linux 2023's glibc 2.34 lacks. Linked into the bootstrap only
 *	  (client/client.mk), never into the pg_rotate program.
 *
 * Debian 12's libexpat takes its hash salt from arc4random_buf(), which
 * glibc has only since 2.36: its shared library cannot even be loaded on
 * AL2023. So the bootstrap links libexpat statically, and this definition,
 * an object of the link, answers its call from the kernel's CSPRNG
 * (getrandom(2), glibc 2.25) instead of glibc's.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

extern void arc4random_buf(void *buf, size_t n);

/* n random bytes into buf; like glibc's, it cannot fail, so it aborts. */
void
arc4random_buf(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0)
	{
		ssize_t		got = getrandom(p, n, 0);

		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			abort();
		}
		p += got;
		n -= (size_t) got;
	}
}
