/*-------------------------------------------------------------------------
 *
 * rotation.c
 *	  The four rotation steps, and the one-shot rotation.
 *
 * Every step may be re-run at any time, as Secrets Manager does after a
 * failure, and converges. The invariant the tests check: at every instant
 * the database password equals the password of a version labelled
 * AWSCURRENT or AWSPENDING.
 *
 * The one-shot rotation (rot_rotate) keeps the steps' guarantees but
 * shortens the lag window, the time from the commit of the new password (the
 * old one is refused from then on) to the moment AWSCURRENT has moved:
 * everything is prepared before the commit (pending version, verifiers,
 * admin connection, proof that the current password logs in over the same
 * path); right after it AWSCURRENT moves while another thread logs in with
 * the new password. A failed login or a failed move puts everything back:
 * AWSCURRENT on the old version, the old password in the database.
 *
 * Concurrency: every process that changes a role's password first takes an
 * advisory lock on the role in its admin session (db_lock_role), and reads
 * the state it acts on only once it holds it; so two "rotate" runs for one
 * secret never interleave (the later one finds the secret rotated and says
 * "already_current"), and one run's rollback can never undo another's
 * rotation. A process that dies drops its lock with its connection.
 *
 * Uncertainty: a request whose answer was lost may still have been applied
 * (and moto, like AWS, refuses the retried UpdateSecretVersionStage once the
 * label has moved). So after a failed move of AWSCURRENT the rotation asks
 * Secrets Manager where the label is, and when nobody can say, it leaves
 * the new password in place: its version still carries AWSPENDING, so the
 * invariant holds and a re-run finishes the rotation.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "buf.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "rotation.h"
#include "secretsmanager.h"
#include "testpoint.h"
#include "topology.h"

#define STAGE_CURRENT	"AWSCURRENT"
#define STAGE_PENDING	"AWSPENDING"

/* Everything one rotation of one secret works with; freed by ctx_free(). */
typedef struct rot_ctx
{
	aws_session *session;
	const rot_options *opts;
	rot_result *res;
	const char *token;			/* the version being rotated to */
	const char *rotation_token; /* from the rotation event, may be NULL */
	sm_description desc;
	const char *arn;			/* borrowed from desc */
	const char *current_version;	/* borrowed from desc */
	pgr_secret *current;
	pgr_secret *pending;
	pgr_secret *admin;
	PGconn	   *admin_conn;
	bool		has_anchor;		/* its extension has rotate.audit_anchor() */
	bool		fresh_token;	/* made here: no pending value exists yet */
	sm_secret_value start;		/* rot_rotate: AWSCURRENT when it started
								 * (ARN, version; its value is in current) */
	char	   *new_password;	/* made ahead of createSecret; secret */
	topo_result topo;			/* writer and proof host, with the admin */
} rot_ctx;

/* Where a move of a label left it (move_checked). */
typedef enum move_outcome
{
	MOVE_DONE,					/* on the token */
	MOVE_NOT_DONE,				/* still on the old version */
	MOVE_UNKNOWN				/* nobody can say: touch nothing */
} move_outcome;


/*
 * The defaults: GetRandomPassword with the AWS templates' rules, TLS, five
 * seconds for a replica to replay.
 */
void
rot_options_init(rot_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->replica_wait_ms = ROT_DEFAULT_REPLICA_WAIT_MS;
	secret_password_rules_init(&opts->rules);
	db_options_init(&opts->db);
}

static void
ctx_free(rot_ctx *ctx)
{
	db_disconnect(ctx->admin_conn);
	pgr_free_secret(ctx->new_password);
	sm_secret_value_free(&ctx->start);
	secret_free(ctx->admin);
	secret_free(ctx->pending);
	secret_free(ctx->current);
	sm_description_free(&ctx->desc);
	memset(ctx, 0, sizeof(*ctx));
}

/* ----- Secrets Manager, counted ----------------------------------------- */

/*
 * DescribeSecret: ctx->desc, ctx->arn and ctx->current_version describe the
 * secret as it is now. May be called again (under the rotation lock) to
 * refresh them.
 */
static int
describe(rot_ctx *ctx, const char *secret_id, pgr_error *err)
{
	sm_description fresh = {0};

	ctx->res->sm_calls++;
	if (sm_describe_secret(ctx->session, secret_id, &fresh, err) < 0)
		return -1;
	(void) PGR_TEST_POINT("after_describe");
	sm_description_free(&ctx->desc);
	ctx->desc = fresh;
	ctx->arn = ctx->desc.arn;
	ctx->current_version = sm_version_with_stage(&ctx->desc, STAGE_CURRENT);
	snprintf(ctx->res->secret_id, sizeof(ctx->res->secret_id), "%s", ctx->arn);
	if (!ctx->current_version)
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL, "secret \"%s\" has no AWSCURRENT version",
					  ctx->arn);
		pgr_error_hint(err, "Store a value in the secret first.");
		return -1;
	}
	return 0;
}

/*
 * Fetch one version of a secret and parse it as a PostgreSQL secret.
 * Exactly one of version_id and stage may be NULL. "what" names the secret
 * in messages ("current", "pending", "admin"). keep (may be NULL) receives
 * the rest of the response (ARN, version id), its SecretString wiped.
 */
static int
fetch_secret(rot_ctx *ctx, const char *secret_id, const char *version_id,
			 const char *stage, const char *what, pgr_secret **out,
			 sm_secret_value *keep, pgr_error *err)
{
	sm_secret_value value = {0};
	int			rc;

	ctx->res->sm_calls++;
	if (sm_get_secret_value(ctx->session, secret_id, version_id, stage, &value, err) < 0)
		return -1;
	if (!value.secret_string || (keep && !value.arn))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the %s version of secret \"%s\" holds no SecretString", what, secret_id);
		sm_secret_value_free(&value);
		return -1;
	}
	rc = secret_parse(value.secret_string, out, err);
	if (rc < 0)
		pgr_error_prefix(err, "the %s version of secret \"%s\": ", what, secret_id);
	if (rc == 0 && keep)
	{
		pgr_free_secret(value.secret_string);
		value.secret_string = NULL;
		*keep = value;
		return 0;
	}
	sm_secret_value_free(&value);
	return rc;
}

static int
move_stage(rot_ctx *ctx, const char *stage, const char *to, const char *from,
		   pgr_error *err)
{
	ctx->res->sm_calls++;
	return sm_update_secret_version_stage(ctx->session, ctx->arn, stage, to, from, err);
}

/*
 * Where is "stage" now? After a failed UpdateSecretVersionStage, ask with
 * DescribeSecret (no change is ever made on a guess). Returns the version
 * id in *where (malloc'd, NULL when no version has the stage) or -1 when
 * Secrets Manager cannot be asked either.
 */
static int
where_is(rot_ctx *ctx, const char *stage, char **where)
{
	sm_description now = {0};
	pgr_error	ignored = {0};
	const char *v;

	*where = NULL;
	ctx->res->sm_calls++;
	if (sm_describe_secret(ctx->session, ctx->arn, &now, &ignored) < 0)
		return -1;
	v = sm_version_with_stage(&now, stage);
	if (v && !(*where = strdup(v)))
	{
		sm_description_free(&now);
		return -1;
	}
	sm_description_free(&now);
	return 0;
}

/*
 * move_stage(), and when it fails, where the label is now: the answer to an
 * applied request may be lost, and its retry then fails because the label
 * is no longer on "from". Done means the label is on "to" (or, with to
 * NULL, off "from"); err is cleared then.
 */
static move_outcome
move_checked(rot_ctx *ctx, const char *stage, const char *to, const char *from,
			 pgr_error *err)
{
	char	   *where = NULL;
	move_outcome outcome = MOVE_UNKNOWN;

	if (move_stage(ctx, stage, to, from, err) == 0)
		return MOVE_DONE;
	if (where_is(ctx, stage, &where) == 0)
	{
		bool		on_from = where && strcmp(where, from) == 0;

		if (to ? (where && strcmp(where, to) == 0) : !on_from)
		{
			pgr_error_clear(err);
			outcome = MOVE_DONE;
		}
		else if (on_from)
			outcome = MOVE_NOT_DONE;
	}
	free(where);
	return outcome;
}

/* Move AWSCURRENT from the old version to the token. */
static move_outcome
move_current(rot_ctx *ctx, pgr_error *err)
{
	move_outcome outcome;

	if (PGR_TEST_POINT("before_move_current"))
	{
		pgr_error_set(err, PGR_ERR_AWS, NULL, "injected failure before moving AWSCURRENT");
		return MOVE_NOT_DONE;
	}
	outcome = move_checked(ctx, STAGE_CURRENT, ctx->token, ctx->current_version, err);
	if (outcome == MOVE_DONE)
		(void) PGR_TEST_POINT("after_move_current");
	return outcome;
}

/* Take AWSPENDING off the token, as finishSecret does. */
static int
remove_pending(rot_ctx *ctx, pgr_error *err)
{
	(void) PGR_TEST_POINT("before_remove_pending");
	if (move_checked(ctx, STAGE_PENDING, NULL, ctx->token, err) != MOVE_DONE)
		return -1;
	(void) PGR_TEST_POINT("after_remove_pending");
	return 0;
}

/* ----- the pieces of the steps ------------------------------------------ */

/*
 * The checks Secrets Manager asks of a rotation function: rotation not
 * turned off, the token a version of the secret labelled AWSPENDING.
 * Sets *done when the token is already AWSCURRENT (nothing left to do).
 */
static int
check_token(rot_ctx *ctx, bool require_rotation_enabled, bool *done, pgr_error *err)
{
	*done = false;
	if (require_rotation_enabled && ctx->desc.rotation_enabled_present &&
		!ctx->desc.rotation_enabled)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret \"%s\" is not enabled for rotation",
					  ctx->arn);
		return -1;
	}
	for (int i = 0; i < ctx->desc.nversions; i++)
	{
		if (strcmp(ctx->desc.versions[i].version_id, ctx->token) != 0)
			continue;
		if (sm_version_has_stage(&ctx->desc, ctx->token, STAGE_CURRENT))
		{
			*done = true;
			return 0;
		}
		if (sm_version_has_stage(&ctx->desc, ctx->token, STAGE_PENDING))
			return 0;
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "version \"%s\" of secret \"%s\" is not labelled AWSPENDING",
					  ctx->token, ctx->arn);
		pgr_error_hint(err, "Start the rotation with RotateSecret, which labels the new version.");
		return -1;
	}
	pgr_error_set(err, PGR_ERR_INPUT, NULL,
				  "version \"%s\" is not a version of secret \"%s\"", ctx->token, ctx->arn);
	return -1;
}

/*
 * A rotated secret names its host: only an admin secret RDS manages may
 * leave it out (topology.h).
 */
static int
require_host(const pgr_secret *s, const char *what, const char *secret_id, pgr_error *err)
{
	if (secret_host(s))
		return 0;
	pgr_error_set(err, PGR_ERR_INPUT, NULL, "the %s version of secret \"%s\" has no \"host\" key",
				  what, secret_id);
	pgr_error_hint(err, "A rotated secret names its database's host; only an admin secret "
				   "that RDS manages may leave it out.");
	return -1;
}

static int
load_current(rot_ctx *ctx, pgr_error *err)
{
	if (ctx->current)
		return 0;
	if (fetch_secret(ctx, ctx->arn, NULL, STAGE_CURRENT, "current", &ctx->current, NULL, err) < 0 ||
		require_host(ctx->current, "current", ctx->arn, err) < 0)
		return -1;
	(void) PGR_TEST_POINT("after_get_current");
	return 0;
}

/* The pending version's value; *missing when it has none yet (no error). */
static int
load_pending(rot_ctx *ctx, bool *missing, pgr_error *err)
{
	*missing = false;
	if (ctx->pending)
		return 0;
	if (ctx->fresh_token)
	{
		*missing = true;
		return 0;
	}
	if (fetch_secret(ctx, ctx->arn, ctx->token, STAGE_PENDING, "pending", &ctx->pending, NULL,
					 err) == 0)
	{
		if (require_host(ctx->pending, "pending", ctx->arn, err) < 0)
			return -1;
		(void) PGR_TEST_POINT("after_get_pending");
		if (!secret_same_target(ctx->current, ctx->pending))
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "the pending and current versions of secret \"%s\" name "
						  "different users or hosts", ctx->arn);
			pgr_error_detail(err, "Current: user \"%s\" at \"%s\"; pending: user \"%s\" at \"%s\".",
							 secret_username(ctx->current), secret_host(ctx->current),
							 secret_username(ctx->pending), secret_host(ctx->pending));
			return -1;
		}
		return 0;
	}
	if (pgr_error_code_is(err, "ResourceNotFoundException"))
	{
		pgr_error_clear(err);
		*missing = true;
		return 0;
	}
	return -1;
}

/* The current and pending values, for the steps after createSecret. */
static int
load_pending_value(rot_ctx *ctx, pgr_error *err)
{
	bool		missing;

	if (load_current(ctx, err) < 0 || load_pending(ctx, &missing, err) < 0)
		return -1;
	if (missing)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the pending version \"%s\" of secret \"%s\" has no value yet",
					  ctx->token, ctx->arn);
		pgr_error_hint(err, "Run the createSecret step first.");
		return -1;
	}
	return 0;
}

/* A new password, from GetRandomPassword or the local CSPRNG. */
static int
generate_password(rot_ctx *ctx, char **out, pgr_error *err)
{
	if (ctx->opts->password_source == ROT_PASSWORD_LOCAL)
		return secret_generate_password(&ctx->opts->rules, out, err);
	ctx->res->sm_calls++;
	return sm_get_random_password(ctx->session, &ctx->opts->rules, out, err);
}

static int	anchor_for_secret(rot_ctx *ctx, char *anchor, pgr_error *err);

/*
 * createSecret: keep the pending value if the version has one, else store
 * the current secret with a new password as the AWSPENDING version (with
 * --anchor-in-secret, and the audit log's anchor now).
 */
static int
create_pending(rot_ctx *ctx, pgr_error *err)
{
	bool		missing;
	char	   *password = NULL;
	char	   *json = NULL;
	char		anchor[AUDIT_ANCHOR_LEN] = "";
	const char *stages[] = {STAGE_PENDING};
	sm_put_input in = {0};
	int			rc = -1;

	if (load_current(ctx, err) < 0 || load_pending(ctx, &missing, err) < 0)
		return -1;
	if (!missing)
		return 0;
	if (ctx->new_password)
	{
		password = ctx->new_password;	/* made ahead by rot_rotate */
		ctx->new_password = NULL;
	}
	else if (generate_password(ctx, &password, err) < 0)
		goto cleanup;
	if ((ctx->opts->anchor_in_secret && anchor_for_secret(ctx, anchor, err) < 0) ||
		secret_with_password_and_anchor(ctx->current, password, anchor[0] ? anchor : NULL,
										&json, err) < 0)
		goto cleanup;
	in.secret_id = ctx->arn;
	in.client_request_token = ctx->token;
	in.secret_string = json;
	in.version_stages = stages;
	in.nstages = 1;
	in.rotation_token = ctx->rotation_token;
	ctx->res->sm_calls++;
	if (PGR_TEST_POINT("before_put_pending") ||
		sm_put_secret_value(ctx->session, &in, err) < 0)
	{
		if (!err->message[0])
			pgr_error_set(err, PGR_ERR_AWS, NULL, "injected failure before PutSecretValue");
		goto cleanup;
	}
	(void) PGR_TEST_POINT("after_put_pending");
	rc = secret_parse(json, &ctx->pending, err);
	ctx->fresh_token = false;

cleanup:
	pgr_free_secret(json);
	pgr_free_secret(password);
	return rc;
}

/*
 * Where the admin connects and where logins are proved (topology.h): the
 * admin secret's host, or for a secret RDS manages (no host, tagged with
 * its instance or cluster) the writer RDS names; then how the rotated
 * secret's host relates to it. Counts the calls made in ctx->res.
 */
static int
resolve_hosts(rot_ctx *ctx, const char *admin_id, pgr_error *err)
{
	sm_description admin_desc = {0};
	topo_input	in = {0};
	rot_proof  *proof = &ctx->res->proof;
	int			rc = -1;

	in.admin_secret = admin_id;
	in.admin_host = secret_host(ctx->admin);
	in.admin_port = secret_port(ctx->admin);
	in.host = secret_host(ctx->current);
	in.port = secret_port(ctx->current);
	if (!in.admin_host)
	{
		ctx->res->sm_calls++;
		if (sm_describe_secret(ctx->session, admin_id, &admin_desc, err) < 0)
		{
			pgr_error_prefix(err, "admin secret: ");
			return -1;
		}
		in.instance_arn = sm_description_tag(&admin_desc, TOPO_TAG_INSTANCE);
		in.cluster_arn = sm_description_tag(&admin_desc, TOPO_TAG_CLUSTER);
		if (!in.instance_arn && !in.cluster_arn)
		{
			pgr_error_set(err, PGR_ERR_INPUT, NULL,
						  "the admin secret \"%s\" names no host and is not managed by RDS",
						  admin_id);
			pgr_error_detail(err, "It has no \"host\" key, and no %s or %s tag.",
							 TOPO_TAG_INSTANCE, TOPO_TAG_CLUSTER);
			pgr_error_hint(err, "Add \"host\" and \"port\" to the admin secret, or use the "
						   "master user secret RDS manages for the database "
						   "(ManageMasterUserPassword).");
			goto done;
		}
	}
	rc = topo_resolve(ctx->session, &in, &ctx->topo, err);
	ctx->res->rds_calls += ctx->topo.rds_calls;
	if (rc == 0)
	{
		snprintf(proof->host, sizeof(proof->host), "%s:%d", ctx->topo.proof.host,
				 ctx->topo.proof.port);
		snprintf(proof->relation, sizeof(proof->relation), "%s",
				 topo_relation_name(ctx->topo.relation));
		snprintf(proof->described, sizeof(proof->described), "%s", ctx->topo.described);
	}
done:
	sm_description_free(&admin_desc);
	return rc;
}

/*
 * Fetch the admin secret and check it fits: the rotated secret's host is
 * its database's (resolve_hosts), and it is another user.
 */
static int
load_admin(rot_ctx *ctx, pgr_error *err)
{
	const char *admin_id = ctx->opts->admin_secret_id;

	if (ctx->admin)
		return 0;
	if (!admin_id)
		admin_id = secret_masterarn(ctx->current);
	if (!admin_id)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "secret \"%s\" names no admin secret", ctx->arn);
		pgr_error_hint(err, "Add a \"masterarn\" key to the secret, or pass --admin-secret-id.");
		return -1;
	}
	if (fetch_secret(ctx, admin_id, NULL, STAGE_CURRENT, "current", &ctx->admin, NULL, err) < 0)
	{
		pgr_error_prefix(err, "admin secret: ");
		return -1;
	}
	(void) PGR_TEST_POINT("after_get_admin");
	if (resolve_hosts(ctx, admin_id, err) < 0)
		goto refused;
	/* the hosts are one database's, so one user name is one role */
	if (strcmp(secret_username(ctx->admin), secret_username(ctx->current)) == 0)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "the admin secret and secret \"%s\" are for the same user \"%s\"",
					  ctx->arn, secret_username(ctx->current));
		pgr_error_detail(err, "Host %s is %s; a user never changes its own password here.",
						 secret_host(ctx->current), ctx->topo.described);
		goto refused;
	}
	return 0;

refused:
	/* not kept: a later connect_admin() must not take it for a checked one */
	secret_free(ctx->admin);
	ctx->admin = NULL;
	return -1;
}

/*
 * Open the admin connection: the admin secret's user and password, on the
 * writer of the rotated secret's database, in its dbname (the extension
 * lives there) or --admin-dbname's, and take the rotation lock on the role
 * (see the file header) in it. Does no AWS call, so it may run on another
 * thread after load_admin().
 */
static int
open_admin(rot_ctx *ctx, pgr_error *err)
{
	db_options dbo = ctx->opts->db;
	bool		has_extension = false;

	if (ctx->admin_conn)
		return 0;
	dbo.host = ctx->topo.writer.host;
	dbo.port = ctx->topo.writer.port;
	dbo.dbname = ctx->opts->admin_dbname ? ctx->opts->admin_dbname :
		secret_dbname(ctx->current);
	if (db_connect(ctx->admin, &dbo, &ctx->admin_conn, err) < 0)
	{
		pgr_error_prefix(err, "admin connection: ");
		return -1;
	}
	if (db_lock_role(ctx->admin_conn, secret_username(ctx->current), err) < 0)
		goto refused;
	(void) PGR_TEST_POINT("after_lock");
	if (ctx->opts->no_extension)
		return 0;
	if (db_has_extension(ctx->admin_conn, &has_extension, &ctx->has_anchor, err) < 0)
		goto refused;
	if (!has_extension)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, "55000",
					  "extension \"pg_rotate\" is not installed in database \"%s\"",
					  dbo.dbname);
		pgr_error_hint(err, "Run CREATE EXTENSION pg_rotate in that database as a superuser "
					   "(see README.md), or pass --no-extension to let the admin role run "
					   "ALTER ROLE itself.");
		goto refused;
	}
	return 0;

refused:
	/* not kept: a later connect_admin() must not take it for a ready one */
	db_disconnect(ctx->admin_conn);
	ctx->admin_conn = NULL;
	return -1;
}

static int
connect_admin(rot_ctx *ctx, pgr_error *err)
{
	return load_admin(ctx, err) < 0 ? -1 : open_admin(ctx, err);
}

/*
 * Set the role's password to the one in "s", as a verifier made here. With
 * leave_open the change is made but not committed (db_commit() then is the
 * one instant the old password stops working); --no-extension commits at
 * once, as ALTER ROLE has no such split here.
 */
static int
set_password_from(rot_ctx *ctx, const pgr_secret *s, const char *version_id,
				  bool leave_open, pgr_error *err)
{
	char	   *verifier = NULL;
	int			rc;

	if (db_scram_verifier(NULL, secret_username(s), secret_password(s), &verifier, err) < 0)
		return -1;
	if (PGR_TEST_POINT("before_set_password"))
	{
		pgr_error_set(err, PGR_ERR_DATABASE, NULL, "injected failure before set_password");
		rc = -1;
	}
	else if (ctx->opts->no_extension)
		rc = db_alter_role_password_direct(ctx->admin_conn, secret_username(s), verifier, err);
	else if (leave_open)
		rc = db_set_password_prepare(ctx->admin_conn, secret_username(s), verifier, ctx->arn,
									 version_id, NULL, err);
	else
		rc = db_set_password(ctx->admin_conn, secret_username(s), verifier, ctx->arn,
							 version_id, NULL, err);
	pgr_free_secret(verifier);
	if (rc == 0 && !leave_open)
		(void) PGR_TEST_POINT("after_set_password");
	return rc;
}

/*
 * Say once per process that an extension without rotate.audit_anchor()
 * (1.0) records no anchors: a fleet of such databases would otherwise say
 * it for every secret.
 */
static void
warn_no_anchor_once(rot_ctx *ctx)
{
	static atomic_bool said = false;

	if (!atomic_exchange(&said, true))
		pgr_log_warning("the pg_rotate extension in database \"%s\" has no "
						"rotate.audit_anchor() (version 1.0): rotations there record no "
						"audit log anchor; run ALTER EXTENSION pg_rotate UPDATE",
						ctx->opts->db.dbname ? ctx->opts->db.dbname :
						secret_dbname(ctx->current));
}

/*
 * A later step that the audit log did not take. The rotation goes on: its
 * outcome is the passwords' and labels', not the log's. The one refusal to
 * expect (SQLSTATE 55000) is tested, finished or rolled_back for a version
 * whose password was not set through rotate.set_password: by hand, or by a
 * run with --no-extension; say that in words.
 */
static void
warn_not_recorded(rot_ctx *ctx, const char *event, const pgr_error *err)
{
	if (strcmp(err->code, "55000") == 0 && strstr(err->detail, "no password_set row"))
		pgr_log_warning("rotate.audit_log refused \"%s\" for version \"%s\" of secret \"%s\": "
						"it has no password_set row for role \"%s\" with that secret and "
						"version, as the password was not set through rotate.set_password "
						"(but by hand, or with --no-extension); the rotation is not affected, "
						"and the refusal is recorded as a \"denied\" row",
						event, ctx->token, ctx->arn, secret_username(ctx->current));
	else
		pgr_log_warning("could not record \"%s\" in rotate.audit_log for secret \"%s\": %s%s%s",
						event, ctx->arn, err->message, err->detail[0] ? ": " : "",
						err->detail);
}

/*
 * Record a later step in the audit log, connecting as the admin if this
 * process has not yet; a failure here is only a warning. With last (the
 * rotation's last write: finished, rolled_back), also read the log's
 * anchor right after it, in the same round trip, into the result.
 */
static void
record_event(rot_ctx *ctx, const char *event, const char *detail_json, bool last)
{
	pgr_error	err = {0};
	pgr_error	anchor_err = {0};
	int			rc;

	if (ctx->opts->no_extension)
		return;
	if (connect_admin(ctx, &err) < 0)
	{
		warn_not_recorded(ctx, event, &err);
		return;
	}
	(void) PGR_TEST_POINT("before_log_event");
	if (last && ctx->has_anchor)
	{
		rc = db_log_event_and_anchor(ctx->admin_conn, secret_username(ctx->current), event,
									 ctx->arn, ctx->token, detail_json,
									 ctx->res->audit_anchor, &err, &anchor_err);
		if (anchor_err.message[0])
			pgr_log_warning("could not read the audit log's anchor for secret \"%s\": %s",
							ctx->arn, anchor_err.message);
	}
	else
	{
		if (last)
			warn_no_anchor_once(ctx);
		rc = db_log_event(ctx->admin_conn, secret_username(ctx->current), event, ctx->arn,
						  ctx->token, detail_json, NULL, &err);
	}
	if (rc < 0)
		warn_not_recorded(ctx, event, &err);
	else
		(void) PGR_TEST_POINT("after_log_event");
}

static void
log_event(rot_ctx *ctx, const char *event, const char *detail_json)
{
	record_event(ctx, event, detail_json, false);
}

/*
 * --anchor-in-secret: the audit log's anchor now, for the new version's
 * value (secret.h, SECRET_ANCHOR_KEY), through the admin connection (which
 * the one-shot rotation has open already: no Secrets Manager call more).
 * "" when the log is empty or the extension has no anchor (said once).
 */
static int
anchor_for_secret(rot_ctx *ctx, char *anchor, pgr_error *err)
{
	anchor[0] = '\0';
	if (connect_admin(ctx, err) < 0)
		return -1;
	if (!ctx->has_anchor)
	{
		warn_no_anchor_once(ctx);
		return 0;
	}
	if (db_audit_anchor(ctx->admin_conn, anchor, err) < 0)
	{
		pgr_error_hint(err, "--anchor-in-secret stores the audit log's anchor with each new "
					   "version; rotate without it to go on without one.");
		return -1;
	}
	return 0;
}

/* ----- where logins are proved -------------------------------------------- */

/*
 * The connection options of a proof: where the application logs in (the
 * rotated secret's host), or the writer behind a proxy (topology.h).
 */
static db_options
proof_options(const rot_ctx *ctx)
{
	db_options	o = ctx->opts->db;

	o.host = ctx->topo.proof.host;
	o.port = ctx->topo.proof.port;
	return o;
}

/* Does a proof wait for a replica to replay the change? */
static bool
proof_waits_for_replay(const rot_ctx *ctx)
{
	return ctx->topo.relation == TOPO_REPLICA;
}

/*
 * Log in as s where the application logs in. At a replica the new
 * password arrives only when the replica has replayed the change: a
 * refused password is tried again, every 50 ms, until opts->replica_wait_ms
 * has passed; the longest wait a proof took is reported in res->proof.
 */
static int
prove_login(rot_ctx *ctx, const pgr_secret *s, pgr_error *err)
{
	db_options	o = proof_options(ctx);
	double		t0 = pgr_now_ms();
	const struct timespec pause = {0, 50 * 1000 * 1000};

	for (;;)
	{
		double		waited;

		if (db_login_test(s, &o, NULL, err) == 0)
		{
			waited = pgr_now_ms() - t0;
			if (proof_waits_for_replay(ctx) && waited > ctx->res->proof.replica_wait_ms)
				ctx->res->proof.replica_wait_ms = waited;
			return 0;
		}
		waited = pgr_now_ms() - t0;
		if (!proof_waits_for_replay(ctx) || !pgr_error_code_is(err, "28P01"))
			return -1;
		if (waited >= ctx->opts->replica_wait_ms)
		{
			pgr_error_prefix(err, "still refused at %s after %.0f ms: ", ctx->topo.described,
							 waited);
			pgr_error_hint(err, "The replica has not replayed the change (it lags, or its "
						   "replay is paused): check pg_stat_replication on the writer, or "
						   "allow longer with --replica-wait.");
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

static int
pending_logs_in(rot_ctx *ctx, pgr_error *err)
{
	if (PGR_TEST_POINT("test_login"))
	{
		pgr_error_set(err, PGR_ERR_DATABASE, "28P01", "injected login failure");
		return -1;
	}
	return prove_login(ctx, ctx->pending, err);
}

/*
 * Has the pending password been set already (by an earlier run that
 * stopped after its commit)? Asked of the writer, which knows at once:
 * a replica may not have replayed it yet.
 */
static bool
pending_already_set(rot_ctx *ctx)
{
	db_options	o = ctx->opts->db;
	pgr_error	ignored = {0};

	o.host = ctx->topo.writer.host;
	o.port = ctx->topo.writer.port;
	return db_login_test(ctx->pending, &o, NULL, &ignored) == 0;
}

/* ----- the four steps ---------------------------------------------------- */

static void log_finished(rot_ctx *ctx, const char *mode);
static void log_tested(rot_ctx *ctx);

static int	switch_over(rot_ctx *ctx, bool already_set, double t_set_start,
						const char *mode, pgr_error *err);

static int
step_set(rot_ctx *ctx, pgr_error *err)
{
	bool		done;

	if (load_pending_value(ctx, err) < 0 || load_admin(ctx, err) < 0)
		return -1;
	if (pending_already_set(ctx))
		return 0;
	if (connect_admin(ctx, err) < 0)
		return -1;

	/*
	 * Under the rotation lock, check again that the token is still pending:
	 * a concurrent "rotate" may have finished it or rolled it back while
	 * this process waited, and setting the password of a version that lost
	 * its AWSPENDING label would break the invariant.
	 */
	if (describe(ctx, ctx->arn, err) < 0 || check_token(ctx, true, &done, err) < 0)
		return -1;
	if (done)
	{
		ctx->res->outcome = ROT_OUTCOME_ALREADY_CURRENT;
		return 0;
	}

	/*
	 * Lag collapsing under Secrets Manager's scheduler: commit, move
	 * AWSCURRENT at once and prove the login alongside, as the one-shot
	 * "rotate" does, instead of leaving the old password refused until the
	 * separate finishSecret invocation. The later testSecret and
	 * finishSecret invocations then find the token AWSCURRENT and succeed
	 * at once. A failed proof puts AWSCURRENT and the old password back and
	 * keeps AWSPENDING, so Secrets Manager's retry of setSecret starts clean.
	 */
	if (ctx->opts->collapse_lag)
		return switch_over(ctx, false, pgr_now_ms(), "lambda", err);
	return set_password_from(ctx, ctx->pending, ctx->token, false, err);
}

static int
step_test(rot_ctx *ctx, pgr_error *err)
{
	if (load_pending_value(ctx, err) < 0 || load_admin(ctx, err) < 0)
		return -1;
	if (pending_logs_in(ctx, err) < 0)
	{
		pgr_error_prefix(err, "the pending password does not log in: ");
		return -1;
	}
	log_tested(ctx);
	return 0;
}

static int
step_finish(rot_ctx *ctx, pgr_error *err)
{
	/*
	 * Never move AWSCURRENT to a password the database does not have: a
	 * finishSecret run before setSecret (by hand, or redelivered after a
	 * setSecret that restored the old password) would lock the application
	 * out.
	 */
	if (load_pending_value(ctx, err) < 0 || load_admin(ctx, err) < 0)
		return -1;
	if (pending_logs_in(ctx, err) < 0)
	{
		pgr_error_prefix(err, "refusing to move AWSCURRENT: the pending password does not log in: ");
		pgr_error_hint(err, "Run the setSecret and testSecret steps first.");
		return -1;
	}
	if (strcmp(ctx->current_version, ctx->token) != 0 &&
		move_current(ctx, err) != MOVE_DONE)
		return -1;
	if (remove_pending(ctx, err) < 0)
		return -1;
	log_finished(ctx, "step");
	return 0;
}

/*
 * Record the rotation's last event (finished, rolled_back) with a detail
 * object: key = value (a string) or value_ms (a number, null when negative:
 * not measured), and mode when given; and the log's anchor after it.
 */
static void
log_event_with(rot_ctx *ctx, const char *event, const char *key, const char *value,
			   double value_ms, const char *mode)
{
	pgr_buf		detail;
	json_writer w;

	pgr_buf_init(&detail, 0);
	json_writer_init(&w, &detail, false);
	json_write_begin_object(&w);
	json_write_key(&w, key);
	if (value)
		json_write_string(&w, value);
	else if (value_ms >= 0)
		json_write_double(&w, value_ms);
	else
		json_write_null(&w);
	if (mode)
	{
		json_write_key(&w, "mode");
		json_write_string(&w, mode);
	}
	json_write_end_object(&w);
	record_event(ctx, event, json_writer_ok(&w) ? detail.data : "{}", true);
	pgr_buf_free(&detail);
}

/*
 * "tested", with where the login was proved: the host, how it relates to
 * the admin's writer, and the wait for a replica's replay (null: none).
 */
static void
log_tested(rot_ctx *ctx)
{
	const rot_proof *proof = &ctx->res->proof;
	pgr_buf		detail;
	json_writer w;

	pgr_buf_init(&detail, 0);
	json_writer_init(&w, &detail, false);
	json_write_begin_object(&w);
	json_write_key(&w, "proved_at");
	json_write_string(&w, proof->host);
	json_write_key(&w, "relation");
	json_write_string(&w, proof->relation);
	json_write_key(&w, "replica_wait_ms");
	if (proof->replica_wait_ms >= 0)
		json_write_double(&w, proof->replica_wait_ms);
	else
		json_write_null(&w);
	json_write_end_object(&w);
	log_event(ctx, "tested", json_writer_ok(&w) ? detail.data : "{}");
	pgr_buf_free(&detail);
}

/* "finished" with the lag, when this process measured it (else null). */
static void
log_finished(rot_ctx *ctx, const char *mode)
{
	log_event_with(ctx, "finished", "lag_ms", NULL, ctx->res->lag_ms, mode);
}

/*
 * Run one step, as a Secrets Manager rotation function does. res->outcome
 * is "rotated" when the step succeeded (for finishSecret: the rotation is
 * complete) and "already_current" when the token was already AWSCURRENT.
 */
int
rot_run_step(aws_session *session, const rot_options *opts, rot_step_kind step,
			 const char *secret_id, const char *token, const char *rotation_token,
			 rot_result *res)
{
	rot_ctx		ctx = {0};
	pgr_error  *err = &res->error;
	bool		done = false;
	double		t0 = pgr_now_ms();
	int			rc = -1;

	ctx.session = session;
	ctx.opts = opts;
	ctx.res = res;
	ctx.token = token;
	ctx.rotation_token = rotation_token;
	snprintf(res->version_id, sizeof(res->version_id), "%s", token);
	if (describe(&ctx, secret_id, err) < 0 || check_token(&ctx, true, &done, err) < 0)
		goto cleanup;
	if (done)
	{
		/*
		 * A finishSecret that died after moving AWSCURRENT left AWSPENDING
		 * on the token: take it off, as that run would have.
		 */
		if (step == ROT_FINISH_SECRET &&
			sm_version_has_stage(&ctx.desc, token, STAGE_PENDING) &&
			remove_pending(&ctx, err) < 0)
			goto cleanup;
		res->outcome = ROT_OUTCOME_ALREADY_CURRENT;
		rc = 0;
		goto cleanup;
	}
	switch (step)
	{
		case ROT_CREATE_SECRET:
			rc = create_pending(&ctx, err);
			break;
		case ROT_SET_SECRET:
			rc = step_set(&ctx, err);
			break;
		case ROT_TEST_SECRET:
			rc = step_test(&ctx, err);
			break;
		case ROT_FINISH_SECRET:
			rc = step_finish(&ctx, err);
			break;
		case ROT_NSTEPS:
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "unknown rotation step");
			break;
	}
	if (rc == 0 && res->outcome != ROT_OUTCOME_ALREADY_CURRENT)
		res->outcome = ROT_OUTCOME_ROTATED;

cleanup:
	if (rc < 0)
		pgr_error_prefix(err, "%s for secret \"%s\": ", rot_step_name(step), res->secret_id);
	res->step_ms[step] = pgr_now_ms() - t0;
	res->total_ms = res->step_ms[step];
	ctx_free(&ctx);
	return rc;
}

/* ----- the one-shot rotation -------------------------------------------- */

/* A version 4 UUID, as the SDKs make ClientRequestTokens. */
static int
new_token(char *out, size_t outlen, pgr_error *err)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "could not generate a version id");
		return -1;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, outlen,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
	return 0;
}

/*
 * Database work run on its own thread while this one talks to Secrets
 * Manager (libpq connections are thread safe, one per thread). The function must touch nothing the caller uses until
 * bg_wait().
 */
typedef int (*bg_fn) (rot_ctx *ctx, pgr_error *err);

typedef struct bg_job
{
	bg_fn		fn;
	rot_ctx    *ctx;
	pthread_t	thread;
	bool		started;
	int			rc;
	pgr_error	err;
} bg_job;

static void *
bg_thread(void *arg)
{
	bg_job	   *job = arg;

	job->rc = job->fn(job->ctx, &job->err);
	return NULL;
}

/* Start fn; without a thread it runs here and now. */
static void
bg_start(bg_job *job, bg_fn fn, rot_ctx *ctx)
{
	memset(job, 0, sizeof(*job));
	job->fn = fn;
	job->ctx = ctx;
	job->started = pthread_create(&job->thread, NULL, bg_thread, job) == 0;
	if (!job->started)
		bg_thread(job);
}

/* Wait for the job (if one was started); returns its status. */
static int
bg_wait(bg_job *job)
{
	if (job->started)
		pthread_join(job->thread, NULL);
	job->started = false;
	return job->rc;
}

static int
current_logs_in(rot_ctx *ctx, pgr_error *err)
{
	db_options	o = proof_options(ctx);

	return db_login_test(ctx->current, &o, NULL, err);
}

/*
 * After a failed test or a failed move of AWSCURRENT: AWSCURRENT back on
 * the old version (if it had moved), the old password back in the
 * database, and (unless keep_pending: a Lambda setSecret, which Secrets
 * Manager retries) the pending label removed so the next rotation starts
 * afresh.
 * The order keeps the invariant: the database password is always that of
 * an AWSCURRENT or AWSPENDING version. When AWSCURRENT cannot be put back
 * for sure, nothing else is touched (the new password keeps AWSPENDING).
 */
static void
roll_back(rot_ctx *ctx, bool current_moved, bool keep_pending, const pgr_error *why)
{
	pgr_error	err = {0};

	if (connect_admin(ctx, &err) < 0)
	{
		pgr_log_error("could not connect to restore the current password of secret \"%s\": %s",
					  ctx->arn, err.message);
		return;
	}
	(void) PGR_TEST_POINT("rollback_before_move_back");
	if (current_moved &&
		move_checked(ctx, STAGE_CURRENT, ctx->current_version, ctx->token, &err) != MOVE_DONE)
	{
		pgr_log_error("could not move AWSCURRENT of secret \"%s\" back: %s", ctx->arn,
					  err.message);
		return;
	}
	(void) PGR_TEST_POINT("rollback_before_restore");
	if (set_password_from(ctx, ctx->current, ctx->current_version, false, &err) < 0)
	{
		pgr_log_error("could not restore the current password of secret \"%s\": %s",
					  ctx->arn, err.message);
		return;
	}
	(void) PGR_TEST_POINT("rollback_after_restore");
	if (!keep_pending && remove_pending(ctx, &err) < 0)
		pgr_log_warning("could not remove AWSPENDING from version \"%s\": %s", ctx->token,
						err.message);
	log_event_with(ctx, "rolled_back", "reason", why->message, -1, NULL);
	ctx->res->outcome = ROT_OUTCOME_ROLLED_BACK;
}

/*
 * When the application logs in at a replica, the commit reaches it only
 * when the replica replays it: until then the old password still works
 * there, and AWSCURRENT must not name a password the application's host
 * refuses. So rot_rotate proves the new password at the replica first
 * (waiting for the replay, bounded), and moves AWSCURRENT after; the lag
 * then counts from the replay (*t_commit is moved to it). A replica that
 * does not replay in time fails the test: the old password is restored
 * and AWSCURRENT never moved, so the application is never locked out.
 */
static int
await_replay(rot_ctx *ctx, double *t_commit, bool lambda, pgr_error *err)
{
	if (!proof_waits_for_replay(ctx))
		return 0;
	if (pending_logs_in(ctx, err) == 0)
	{
		*t_commit = pgr_now_ms();
		return 0;
	}
	if (lambda)
		pgr_error_prefix(err, "the new password does not log in: ");
	else
		pgr_error_prefix(err, "testSecret for secret \"%s\": the new password does not log in: ",
						 ctx->arn);
	roll_back(ctx, false, lambda, err);
	return -1;
}

/* switch_over's proof, on its own thread while AWSCURRENT moves */
static int
prove_new_password(rot_ctx *ctx, pgr_error *err)
{
	(void) PGR_TEST_POINT("before_proof");
	return pending_logs_in(ctx, err);
}

/*
 * switch_over
 *		setSecret, testSecret and finishSecret with the shortest lag: commit
 *		the new password (unless already_set: a resumed rotation found it
 *		set), then at once move AWSCURRENT to it while another thread proves
 *		it logs in. Used by the one-shot "rotate" and by a Lambda setSecret
 *		that collapses the lag (mode names it in the audit row).
 *
 * The lag (old password refused, AWSCURRENT still on it) is one
 * UpdateSecretVersionStage round trip. A failed move (known not done) or a
 * failed proof is rolled back: AWSCURRENT back, the old password back; a
 * move whose outcome is unknown leaves everything where it is (the new
 * password keeps AWSPENDING, so a re-run finishes it). t_set_start is when
 * setSecret's work began, for the step timings. In a Lambda setSecret the
 * pending label stays through a roll-back (Secrets Manager retries the
 * step), and the runtime prefixes errors with the step. Returns 0 when the
 * new password is current and logs in.
 */
static int
switch_over(rot_ctx *ctx, bool already_set, double t_set_start, const char *mode,
			pgr_error *err)
{
	rot_result *res = ctx->res;
	bool		lambda = strcmp(mode, "lambda") == 0;
	bg_job		pending_login = {0};
	move_outcome moved;
	double		t_commit;
	double		t0;

	if (!already_set)
	{
		if (set_password_from(ctx, ctx->pending, ctx->token, true, err) < 0)
			goto failed_to_set;
		(void) PGR_TEST_POINT("before_commit");
		if (!ctx->opts->no_extension && db_commit(ctx->admin_conn, err) < 0)
			goto failed_to_set;
		(void) PGR_TEST_POINT("after_set_password");
	}
	t_commit = pgr_now_ms();
	if (await_replay(ctx, &t_commit, lambda, err) < 0)
		return -1;
	res->step_ms[ROT_SET_SECRET] = t_commit - t_set_start;

	bg_start(&pending_login, prove_new_password, ctx);
	moved = move_current(ctx, err);
	if (moved != MOVE_DONE)
	{
		bg_wait(&pending_login);
		if (lambda)
			pgr_error_prefix(err, "moving AWSCURRENT: ");
		else
			pgr_error_prefix(err, "finishSecret for secret \"%s\": ", ctx->arn);
		if (moved == MOVE_NOT_DONE)
			roll_back(ctx, false, lambda, err);
		else
			pgr_error_hint(err, "The new password stays in the database; its version "
						   "keeps AWSPENDING, so running the rotation again finishes it.");
		return -1;
	}
	res->lag_ms = pgr_now_ms() - t_commit;
	t0 = pgr_now_ms();
	if (bg_wait(&pending_login) < 0)
	{
		res->step_ms[ROT_TEST_SECRET] = pgr_now_ms() - t_commit;
		*err = pending_login.err;
		if (lambda)
			pgr_error_prefix(err, "the new password does not log in: ");
		else
			pgr_error_prefix(err, "testSecret for secret \"%s\": the new password does not log in: ",
							 ctx->arn);
		roll_back(ctx, true, lambda, err);
		return -1;
	}
	res->step_ms[ROT_TEST_SECRET] = pgr_now_ms() - t_commit;
	/* as finishSecret would: later invocations then find nothing to do */
	if (remove_pending(ctx, err) < 0)
		pgr_log_warning("could not remove AWSPENDING from version \"%s\" of secret \"%s\": %s",
						ctx->token, ctx->arn, err->message);
	pgr_error_clear(err);
	res->step_ms[ROT_FINISH_SECRET] = res->lag_ms + (pgr_now_ms() - t0);
	log_tested(ctx);
	log_finished(ctx, mode);
	res->outcome = ROT_OUTCOME_ROTATED;
	return 0;

failed_to_set:
	/* a Lambda step's caller names the step itself */
	if (!lambda)
		pgr_error_prefix(err, "setSecret for secret \"%s\": ", ctx->arn);
	return -1;
}

/*
 * The first read of rot_rotate: the AWSCURRENT value, with its ARN and
 * version, in one GetSecretValue. The DescribeSecret that decides what to
 * do comes later, under the rotation lock.
 */
static int
load_start(rot_ctx *ctx, const char *secret_id, pgr_error *err)
{
	if (fetch_secret(ctx, secret_id, NULL, STAGE_CURRENT, "current", &ctx->current,
					 &ctx->start, err) < 0 ||
		require_host(ctx->current, "current", secret_id, err) < 0)
		return -1;
	ctx->arn = ctx->start.arn;
	ctx->current_version = ctx->start.version_id;
	snprintf(ctx->res->secret_id, sizeof(ctx->res->secret_id), "%s", ctx->arn);
	(void) PGR_TEST_POINT("after_get_current");
	return 0;
}

/*
 * Rotate one secret end to end. Resumes an unfinished rotation (a version
 * labelled AWSPENDING but not AWSCURRENT) instead of starting another, and
 * does nothing when another process rotated the secret while this one
 * waited for the rotation lock. Returns 0 when the secret ended rotated;
 * res says what happened.
 */
int
rot_rotate(aws_session *session, const rot_options *opts, const char *secret_id,
		   rot_result *res)
{
	rot_ctx		ctx = {0};
	pgr_error  *err = &res->error;
	char		token[72];
	const char *pending_version;
	bg_job		current_login = {0};
	bg_job		admin_conn = {0};
	bool		already_set = false;
	double		t_start = pgr_now_ms();
	double		t0;
	int			rc = -1;

	ctx.session = session;
	ctx.opts = opts;
	ctx.res = res;

	/*
	 * createSecret. Read the current and admin secrets; then, while other
	 * threads prove the current password logs in and open the admin
	 * connection (which waits for the rotation lock), make the new password.
	 */
	t0 = pgr_now_ms();
	if (load_start(&ctx, secret_id, err) < 0 || load_admin(&ctx, err) < 0)
		goto failed_in_step;
	bg_start(&current_login, current_logs_in, &ctx);
	bg_start(&admin_conn, open_admin, &ctx);
	if (generate_password(&ctx, &ctx.new_password, err) < 0)
		goto failed_in_step;
	if (bg_wait(&admin_conn) < 0)
	{
		*err = admin_conn.err;
		goto failed_in_step;
	}

	/* Under the lock: the state as it is now decides what to do. */
	if (describe(&ctx, ctx.arn, err) < 0)
		goto failed_in_step;
	if (strcmp(ctx.current_version, ctx.start.version_id) != 0)
	{
		/*
		 * Another process rotated the secret since it was read here (it
		 * held the lock meanwhile). Rotating again now would only rotate
		 * twice; finish its work if it died before removing AWSPENDING.
		 */
		ctx.token = ctx.current_version;
		snprintf(res->version_id, sizeof(res->version_id), "%s", ctx.token);
		if (sm_version_has_stage(&ctx.desc, ctx.token, STAGE_PENDING) &&
			remove_pending(&ctx, err) < 0)
			goto failed_in_step;
		res->outcome = ROT_OUTCOME_ALREADY_CURRENT;
		rc = 0;
		goto cleanup;
	}
	pending_version = sm_version_with_stage(&ctx.desc, STAGE_PENDING);
	if (pending_version && strcmp(pending_version, ctx.current_version) != 0)
		snprintf(token, sizeof(token), "%s", pending_version);
	else if (new_token(token, sizeof(token), err) < 0)
		goto failed_in_step;
	else
		ctx.fresh_token = true;
	ctx.token = token;
	snprintf(res->version_id, sizeof(res->version_id), "%s", token);
	if (create_pending(&ctx, err) < 0)
		goto failed_in_step;
	/* resumed after the password was set (a run that died after its commit) */
	if (!ctx.fresh_token && pending_already_set(&ctx))
		already_set = true;
	res->step_ms[ROT_CREATE_SECRET] = pgr_now_ms() - t0;

	/* setSecret, prepared so that the commit is the last thing before the move */
	t0 = pgr_now_ms();
	if (bg_wait(&current_login) < 0 && !already_set)
	{
		*err = current_login.err;
		pgr_error_prefix(err, "the current password of secret \"%s\" does not log in: ",
						 ctx.arn);
		pgr_error_hint(err, "pg_rotate proves the current password works before it "
					   "changes anything; fix the secret or the server first.");
		goto failed_in_step;
	}
	rc = switch_over(&ctx, already_set, t0, "rotate", err);
	goto cleanup;

failed_in_step:
	pgr_error_prefix(err, "%s for secret \"%s\": ",
					 res->step_ms[ROT_CREATE_SECRET] < 0 ? "createSecret" : "setSecret",
					 ctx.arn ? ctx.arn : secret_id);

cleanup:
	bg_wait(&current_login);
	bg_wait(&admin_conn);
	res->total_ms = pgr_now_ms() - t_start;
	ctx_free(&ctx);
	return rc;
}

/* ----- the health check --------------------------------------------------- */

/* Add one sentence to check->attention; false when out of memory. */
static bool
attention(rot_check *check, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));

static bool
attention(rot_check *check, const char *fmt,...)
{
	char		text[PGR_ERRMSG_LEN * 2 + 64];
	char	  **grown;
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	grown = realloc(check->attention, (check->nattention + 1) * sizeof(char *));
	if (!grown)
		return false;
	check->attention = grown;
	if (!(grown[check->nattention] = strdup(text)))
		return false;
	check->nattention++;
	return true;
}

/*
 * Is the secret healthy? AWSCURRENT must parse and log in (over the path
 * opts->db describes); a version labelled AWSPENDING but not AWSCURRENT
 * means a rotation is unfinished. Changes nothing. Returns -1 only when
 * Secrets Manager could not be asked; what needs attention is in
 * out->attention. On success *out is freed with rot_check_free().
 */
int
rot_check_secret(aws_session *session, const rot_options *opts, const char *secret_id,
				 rot_check *out, pgr_error *err)
{
	sm_description desc = {0};
	sm_secret_value value = {0};
	pgr_secret *current = NULL;
	pgr_error	why = {0};
	rot_check	c = {0};
	const char *current_version;
	const char *pending;
	bool		ok = true;

	c.login_ms = -1;
	if (sm_describe_secret(session, secret_id, &desc, err) != 0)
		return -1;
	c.secret_id = strdup(desc.arn ? desc.arn : secret_id);
	c.rotation_enabled = desc.rotation_enabled;
	c.versions = calloc((size_t) desc.nversions + 1, sizeof(rot_version));
	if (!c.secret_id || !c.versions)
		goto oom;
	for (int i = 0; i < desc.nversions; i++)
	{
		/* taken over from desc, which keeps none of them */
		c.versions[i].version_id = desc.versions[i].version_id;
		c.versions[i].stages = desc.versions[i].stages;
		c.versions[i].nstages = desc.versions[i].nstages;
		c.nversions++;
	}
	current_version = sm_version_with_stage(&desc, "AWSCURRENT");
	pending = sm_version_with_stage(&desc, "AWSPENDING");
	if (!current_version)
		ok = attention(&c, "no AWSCURRENT version");
	else if (sm_get_secret_value(session, c.secret_id, NULL, "AWSCURRENT", &value, err) != 0)
		goto fail;
	else if (!value.secret_string || secret_parse(value.secret_string, &current, &why) != 0)
		ok = attention(&c, "AWSCURRENT is not a usable secret: %s",
					   value.secret_string ? why.message : "no SecretString");
	else if (db_login_test(current, &opts->db, &c.login_ms, &why) == 0)
		c.current_logs_in = true;
	else
		ok = attention(&c, "AWSCURRENT does not log in: %s%s%s", why.message,
					   why.detail[0] ? ": " : "", why.detail);
	if (ok && pending && (!current_version || strcmp(pending, current_version) != 0))
		ok = attention(&c, "rotation pending: version %s is labelled AWSPENDING", pending);
	if (!ok)
		goto oom;
	secret_free(current);
	sm_secret_value_free(&value);
	free(desc.versions);		/* its members now belong to c */
	desc.versions = NULL;
	desc.nversions = 0;
	sm_description_free(&desc);
	*out = c;
	return 0;

oom:
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
fail:
	secret_free(current);
	sm_secret_value_free(&value);
	if (c.nversions > 0)
	{
		/* c owns the versions' members: only the array goes with desc */
		free(desc.versions);
		desc.versions = NULL;
		desc.nversions = 0;
	}
	sm_description_free(&desc);
	rot_check_free(&c);
	return -1;
}

void
rot_check_free(rot_check *check)
{
	if (!check)
		return;
	free(check->secret_id);
	for (int i = 0; i < check->nversions; i++)
	{
		free(check->versions[i].version_id);
		for (int j = 0; j < check->versions[i].nstages; j++)
			free(check->versions[i].stages[j]);
		free(check->versions[i].stages);
	}
	free(check->versions);
	for (int i = 0; i < check->nattention; i++)
		free(check->attention[i]);
	free(check->attention);
	memset(check, 0, sizeof(*check));
}
