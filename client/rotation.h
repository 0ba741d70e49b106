/*-------------------------------------------------------------------------
 *
 * rotation.h
 *	  Secrets Manager's four rotation steps around rotate.set_password, the
 *	  one-shot rotation that runs them with the shortest lag window, and
 *	  the health check of a secret.
 *
 * The strategy is the "modified single user" one: the admin secret (the
 * secret's "masterarn", or an explicit one) changes the user's own password
 * in place; no _clone user is ever created. The admin connects to its
 * database's writer; the logins are proved where the application logs in
 * (topology.h says where that is on RDS and Aurora).
 *
 * Rotation talks to AWS through the session its caller opened and to the
 * database through db.h; it reads no environment and prints nothing but
 * warnings: the caller prints the result (rot_result.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_ROTATION_H
#define PGR_ROTATION_H

#include <stdbool.h>

#include "aws_session.h"
#include "db.h"
#include "error.h"
#include "rot_result.h"
#include "secret.h"

typedef enum rot_password_source
{
	ROT_PASSWORD_AWS = 0,		/* GetRandomPassword */
	ROT_PASSWORD_LOCAL			/* OpenSSL's CSPRNG, here */
} rot_password_source;

#define ROT_DEFAULT_REPLICA_WAIT_MS	5000

typedef struct rot_options
{
	const char *admin_secret_id;	/* NULL: the secret's masterarn */
	const char *admin_dbname;	/* NULL: the rotated secret's dbname */
	int			replica_wait_ms;	/* how long a proof at a replica waits */
	bool		no_extension;	/* ALTER ROLE by the admin, without pg_rotate */
	rot_password_source password_source;
	pgr_password_rules rules;	/* the AWS templates' password knobs */
	db_options	db;
	bool		collapse_lag;	/* setSecret moves AWSCURRENT at once (Lambda) */
	bool		anchor_in_secret;	/* each new version holds the audit log's
									 * anchor (secret.h, SECRET_ANCHOR_KEY) */
} rot_options;

/* A version and its staging labels, as "check" reports them. */
typedef struct rot_version
{
	char	   *version_id;
	char	  **stages;
	int			nstages;
} rot_version;

/* What "check" found; free with rot_check_free(). */
typedef struct rot_check
{
	char	   *secret_id;		/* the ARN */
	bool		rotation_enabled;
	rot_version *versions;
	int			nversions;
	bool		current_logs_in;
	double		login_ms;		/* < 0: no login was tried */
	char	  **attention;		/* what needs a look, one sentence each */
	int			nattention;
} rot_check;

extern void rot_options_init(rot_options *opts);

extern int	rot_run_step(aws_session *session, const rot_options *opts, rot_step_kind step,
						 const char *secret_id, const char *token,
						 const char *rotation_token, rot_result *res);
extern int	rot_rotate(aws_session *session, const rot_options *opts, const char *secret_id,
					   rot_result *res);
extern int	rot_check_secret(aws_session *session, const rot_options *opts,
							 const char *secret_id, rot_check *out, pgr_error *err);
extern void rot_check_free(rot_check *check);

#endif							/* PGR_ROTATION_H */
