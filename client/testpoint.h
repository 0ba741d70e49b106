/*-------------------------------------------------------------------------
 *
 * testpoint.h
 *	  Named points in the rotation where tests inject a crash or a failure.
 *
 * Only the test build (client/pg_rotate-testhooks, compiled with
 * -DPGR_TEST_HOOKS) reads the environment here; in the shipped program
 * PGR_TEST_POINT() is a constant false and the compiler removes it.
 *
 *	PG_ROTATE_TEST_KILL_AT=name	  SIGKILL the process when it reaches "name"
 *	PG_ROTATE_TEST_FAIL_AT=name	  make the operation at "name" fail
 *	PG_ROTATE_TEST_PAUSE_AT=name  wait at "name": create
 *								  $PG_ROTATE_TEST_PAUSE_DIR/name.paused, go on
 *								  once name.resume appears there
 *	PG_ROTATE_TEST_TRACE=file	  append the name of every point reached
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_TESTPOINT_H
#define PGR_TESTPOINT_H

#include <stdbool.h>

#ifdef PGR_TEST_HOOKS
extern bool pgr_test_point(const char *name);
#define PGR_TEST_POINT(name) pgr_test_point(name)
#else
static inline bool
pgr_test_point_off(const char *name)
{
	(void) name;
	return false;
}
#define PGR_TEST_POINT(name) pgr_test_point_off(name)
#endif

#endif							/* PGR_TESTPOINT_H */
