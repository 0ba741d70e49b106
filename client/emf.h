/*-------------------------------------------------------------------------
 *
 * emf.h
 *	  CloudWatch metrics of the Lambda runtime, as CloudWatch Embedded
 *	  Metric Format (EMF) documents: one JSON object per line on stdout,
 *	  which CloudWatch Logs turns into metrics, with no PutMetricData call
 *	  and no permission beyond writing the function's own logs.
 *
 * One document per step invocation (doc/pg_rotate.1, METRICS), in the
 * namespace PG_ROTATE_METRICS_NAMESPACE (default "pg_rotate"), with the
 * dimension sets [SecretName] and [] (all the function's secrets), and the
 * metrics Rotated and Failed (Count, 0 or 1), LagMs and DurationMs
 * (Milliseconds). Pure: the caller passes the clock and prints the line.
 * Nothing in a document is secret: names, counts and times only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_EMF_H
#define PGR_EMF_H

#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "rot_result.h"

#define EMF_DEFAULT_NAMESPACE	"pg_rotate"
#define EMF_NAMESPACE_ENV		"PG_ROTATE_METRICS_NAMESPACE"
#define EMF_MAX_NAMESPACE_LEN	255

extern int	emf_namespace_check(const char *ns, pgr_error *err);
extern bool emf_rotation_completed(const char *step, const rot_result *res);
extern bool emf_write_invocation(pgr_buf *out, const char *ns, double timestamp_ms,
								 const char *request_id, const char *step,
								 const rot_result *res);

#endif							/* PGR_EMF_H */
