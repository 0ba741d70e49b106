/*-------------------------------------------------------------------------
 *
 * testpoint.c
 *	  Crash and failure injection for the test build (see testpoint.h).
 *
 *-------------------------------------------------------------------------
 */
#include "testpoint.h"

#ifdef PGR_TEST_HOOKS
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAUSE_LIMIT_MS	120000

/*
 * Stop at a point until the test lets go: create DIR/NAME.paused, then
 * wait for DIR/NAME.resume (at most PAUSE_LIMIT_MS). Lets a test change the
 * world (restart the server, edit pg_hba.conf) at an exact point.
 */
static void
pause_here(const char *name)
{
	const char *dir = getenv("PG_ROTATE_TEST_PAUSE_DIR");
	char		path[4096];
	struct timespec tick = {0, 10 * 1000 * 1000};
	int			fd;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.paused", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/%s.resume", dir, name);
	for (int waited = 0; waited < PAUSE_LIMIT_MS && access(path, F_OK) != 0; waited += 10)
		nanosleep(&tick, NULL);
}

/*
 * Returns true when the test asked the operation at "name" to fail; never
 * returns when it asked for a crash there.
 */
bool
pgr_test_point(const char *name)
{
	const char *kill_at = getenv("PG_ROTATE_TEST_KILL_AT");
	const char *fail_at = getenv("PG_ROTATE_TEST_FAIL_AT");
	const char *pause_at = getenv("PG_ROTATE_TEST_PAUSE_AT");
	const char *trace = getenv("PG_ROTATE_TEST_TRACE");

	if (trace)
	{
		/* one line per point reached, so tests learn which points a run has */
		int			fd = open(trace, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0)
		{
			char		line[128];
			int			n = snprintf(line, sizeof(line), "%s\n", name);

			if (n > 0 && write(fd, line, (size_t) n) < 0)
				(void) 0;
			close(fd);
		}
	}
	if (pause_at && strcmp(pause_at, name) == 0)
		pause_here(name);
	if (kill_at && strcmp(kill_at, name) == 0)
		raise(SIGKILL);
	return fail_at && strcmp(fail_at, name) == 0;
}
#else
/* ISO C wants a translation unit to declare something. */
extern int	pgr_testpoint_unused;
#endif
