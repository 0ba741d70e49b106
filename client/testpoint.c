/*-------------------------------------------------------------------------
 *
 * testpoint.c
 *	  Crash and failure injection for the test build (see testpoint.h).
 *
 *-------------------------------------------------------------------------
 */
#include "testpoint.h"

#ifdef PGR_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/*
 * Returns true when the test asked the operation at "name" to fail; never
 * returns when it asked for a crash there.
 */
bool
pgr_test_point(const char *name)
{
	const char *kill_at = getenv("PG_ROTATE_TEST_KILL_AT");
	const char *fail_at = getenv("PG_ROTATE_TEST_FAIL_AT");

	if (kill_at && strcmp(kill_at, name) == 0)
		raise(SIGKILL);
	return fail_at && strcmp(fail_at, name) == 0;
}
#else
/* ISO C wants a translation unit to declare something. */
extern int	pgr_testpoint_unused;
#endif
