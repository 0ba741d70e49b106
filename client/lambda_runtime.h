/*-------------------------------------------------------------------------
 *
 * lambda_runtime.h
 *	  The AWS Lambda Runtime API, as a custom runtime speaks it: fetch the
 *	  next invocation, post its response or its error, or an init error.
 *
 * A plain-http client of its own (the API is on a local address, never
 * signed), with no timeout on "next" (the API holds it until an event
 * comes) and no retries.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_LAMBDA_RUNTIME_H
#define PGR_LAMBDA_RUNTIME_H

#include <stddef.h>

#include "error.h"

#define LAMBDA_MAX_EVENT_SIZE	(256 * 1024)	/* Lambda's own limit for events */

typedef struct lambda_runtime lambda_runtime;

/* One invocation; its event is freed with lambda_invocation_free(). */
typedef struct lambda_invocation
{
	char		request_id[512];
	double		deadline_ms;	/* epoch ms the answer is due by; 0: unknown */
	char		trace_id[512];	/* "" when absent */
	char	   *event;			/* the event's JSON text */
	size_t		event_len;
} lambda_invocation;

extern int	lambda_runtime_open(const char *api, lambda_runtime **out, pgr_error *err);
extern void lambda_runtime_close(lambda_runtime *rt);
extern int	lambda_runtime_next(lambda_runtime *rt, lambda_invocation *out, pgr_error *err);
extern void lambda_invocation_free(lambda_invocation *inv);
extern int	lambda_runtime_respond(lambda_runtime *rt, const char *request_id,
								   const char *body, pgr_error *err);
extern int	lambda_runtime_fail(lambda_runtime *rt, const char *request_id,
								const char *error_type, const pgr_error *why,
								pgr_error *err);

#endif							/* PGR_LAMBDA_RUNTIME_H */
