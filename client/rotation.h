/*-------------------------------------------------------------------------
 *
 * rotation.h
 *	  Secrets Manager's four rotation steps around rotate.set_password, and
 *	  the one-shot rotation that runs them with the shortest lag window.
 *
 * The strategy is the "modified single user" one: the admin secret (the
 * secret's "masterarn", or an explicit one) changes the user's own password
 * in place; no _clone user is ever created.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ROTATION_H
#define PGR_ROTATION_H

#include <stdbool.h>

#include "db.h"
#include "error.h"
#include "secret.h"
#include "secretsmanager.h"

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

typedef enum rot_password_source
{
	ROT_PASSWORD_AWS = 0,		/* GetRandomPassword */
	ROT_PASSWORD_LOCAL			/* OpenSSL's CSPRNG, here */
} rot_password_source;

typedef struct rot_options
{
	const char *admin_secret_id;	/* NULL: the secret's masterarn */
	bool		no_extension;	/* ALTER ROLE by the admin, without pg_rotate */
	rot_password_source password_source;
	pgr_password_rules rules;	/* the AWS templates' password knobs */
	db_options	db;
	bool		collapse_lag;	/* setSecret moves AWSCURRENT at once (Lambda) */
} rot_options;

/* What happened to one secret: the output of "rotate --json" and the logs. */
typedef struct rot_result
{
	char		secret_id[2048];	/* the ARN once known, else as given */
	char		version_id[72];
	rot_outcome outcome;
	double		lag_ms;			/* < 0: not measured */
	double		step_ms[ROT_NSTEPS];	/* < 0: step not run */
	double		total_ms;
	int			sm_calls;		/* Secrets Manager requests made */
	pgr_error	error;			/* why it failed or rolled back */
} rot_result;

extern void rot_options_init(rot_options *opts);
extern int	rot_options_from_env(rot_options *opts, pgr_error *err);
extern void rot_result_init(rot_result *res, const char *secret_id);
extern const char *rot_step_name(rot_step_kind step);
extern int	rot_step_parse(const char *name, rot_step_kind *out);
extern const char *rot_outcome_name(rot_outcome outcome);

extern int	rot_run_step(sm_client *sm, const rot_options *opts, rot_step_kind step,
						 const char *secret_id, const char *token,
						 const char *rotation_token, rot_result *res);
extern int	rot_rotate(sm_client *sm, const rot_options *opts, const char *secret_id,
					   rot_result *res);

#endif							/* PGR_ROTATION_H */
