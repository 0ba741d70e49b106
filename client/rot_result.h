/*-------------------------------------------------------------------------
 *
 * rot_result.h
 *	  What a rotation (or one step of it) did to one secret, and its one
 *	  JSON shape: "rotate --json" and "step --json" print it, the Lambda
 *	  runtime logs it; doc/pg_rotate.1 describes it. A field is added here
 *	  and in rot_result_write_json(), and appears everywhere.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ROT_RESULT_H
#define PGR_ROT_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_chain.h"
#include "buf.h"
#include "error.h"
#include "json.h"

typedef enum rot_step_kind
{
	ROT_CREATE_SECRET = 0,
	ROT_SET_SECRET,
	ROT_TEST_SECRET,
	ROT_FINISH_SECRET,
	ROT_NSTEPS
} rot_step_kind;

typedef enum rot_outcome
{
	ROT_OUTCOME_FAILED = 0,
	ROT_OUTCOME_ROTATED,
	ROT_OUTCOME_ALREADY_CURRENT,
	ROT_OUTCOME_ROLLED_BACK
} rot_outcome;

/*
 * Where the logins of a rotation were proved (topology.h): the host, how it
 * relates to the admin's writer ("" before that is known), what it is in
 * words, and how long a proof at a replica waited for the new password to
 * replay.
 */
typedef struct rot_proof
{
	char		host[272];		/* "host:port" */
	char		relation[16];	/* same, writer, replica, proxy; "": unknown */
	char		described[320];
	double		replica_wait_ms;	/* < 0: no proof waited at a replica */
} rot_proof;

typedef struct rot_result
{
	char		secret_id[2048];	/* the ARN once known, else as given */
	char		version_id[72];
	rot_outcome outcome;
	double		lag_ms;			/* < 0: not measured */
	double		step_ms[ROT_NSTEPS];	/* < 0: step not run */
	double		total_ms;
	int			sm_calls;		/* Secrets Manager requests made */
	char		audit_anchor[AUDIT_ANCHOR_LEN];	/* the audit log's tip right
												 * after the last write, "" if
												 * none was taken */
	int			rds_calls;		/* Amazon RDS requests made */
	rot_proof	proof;			/* where logins were proved */
	pgr_error	error;			/* why it failed or rolled back */
} rot_result;

extern void rot_result_init(rot_result *res, const char *secret_id);
extern const char *rot_step_name(rot_step_kind step);
extern int	rot_step_parse(const char *name, rot_step_kind *out);
extern const char *rot_outcome_name(rot_outcome outcome);
extern bool rot_outcome_is_failure(rot_outcome outcome);
extern void rot_result_secret_name(const rot_result *res, char *out, size_t outlen);
extern void rot_result_write_json(json_writer *w, const rot_result *res);
extern bool rot_result_to_json(const rot_result *res, pgr_buf *out);

#endif							/* PGR_ROT_RESULT_H */
