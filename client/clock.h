/*-------------------------------------------------------------------------
 *
 * clock.h
 *	  Milliseconds, for measuring (monotonic) and for deadlines given as
 *	  wall-clock times (Lambda's Lambda-Runtime-Deadline-Ms).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_CLOCK_H
#define PGR_CLOCK_H

#include <time.h>

static inline double
pgr_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

/* For durations: never jumps. */
static inline double
pgr_now_ms(void)
{
	return pgr_clock_ms(CLOCK_MONOTONIC);
}

/* Milliseconds since the epoch. */
static inline double
pgr_epoch_ms(void)
{
	return pgr_clock_ms(CLOCK_REALTIME);
}

#endif							/* PGR_CLOCK_H */
