/*-------------------------------------------------------------------------
 *
 * test_rotation.c
 *	  Rotation's decisions (rotation.c), without a network or a server:
 *	  Secrets Manager is an in-memory model behind an offline session
 *	  (aws_session_open_offline), the database a model defined here in
 *	  place of db.c's functions (the linker then leaves db.o out).
 *
 * What is decided: a fresh rotation, resuming an unfinished one (before
 * and after its commit), "already current" when another process rotated
 * meanwhile, and after a failure which of rolling back, leaving the new
 * password in place, or carrying on is right; the steps' refusals; check;
 * the audit log's anchor in the result and (--anchor-in-secret) in the new
 * version, and a refused or anchorless log that changes no outcome; and
 * on RDS (a small account answered here too), where the proofs go: a
 * replica that replays late, or never, and a proxy.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "db.h"
#include "json.h"
#include "rds_answers.h"
#include "rotation.h"
#include "secret.h"

#define APP_ARN		"arn:aws:secretsmanager:us-east-1:1:secret:app-AbCdEf"
#define ADMIN_ARN	"arn:aws:secretsmanager:us-east-1:1:secret:admin-XyZaBc"
#define OLD_PW		"old-password"
#define ADMIN_PW	"admin-password"
#define NEW_PW		"new-password"	/* what GetRandomPassword answers */

/* ----- the database model ------------------------------------------------ */

static struct
{
	pthread_mutex_t lock;
	char		password[256];	/* the app role's password */
	char		staged[256];	/* set but not committed */
	const char *refuse;			/* logins with this password fail anyway */
	int			sets;			/* password changes made */
	char		events[16][32];
	int			nevents;
	bool		no_anchor;		/* the extension is 1.0: no audit_anchor() */
	const char *refuse_event;	/* log_event refuses it, as for a password
								 * set outside pg_rotate */
	const char *replica_host;	/* logins there see replica_password */
	char		replica_password[256];
	int			replay_after;	/* refused logins before it replays; < 0 never */
	bool		moved_before_replay;	/* AWSCURRENT named a password the
										 * replica refused */
	char		login_hosts[8][128];	/* where the logins went */
	int			nlogins;
} db = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int	fake_conn;

void
db_options_init(db_options *opts)
{
	memset(opts, 0, sizeof(*opts));
}

int
db_connect(const pgr_secret *s, const db_options *opts, PGconn **out, pgr_error *err)
{
	(void) opts;
	if (strcmp(secret_password(s), ADMIN_PW) != 0)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, "28P01", "password authentication failed");
		return -1;
	}
	*out = (PGconn *) &fake_conn;
	return 0;
}

void
db_disconnect(PGconn *conn)
{
	(void) conn;
	pthread_mutex_lock(&db.lock);
	db.staged[0] = '\0';		/* an open transaction rolls back */
	pthread_mutex_unlock(&db.lock);
}

int
db_login_test(const pgr_secret *s, const db_options *opts, double *elapsed_ms,
			  pgr_error *err)
{
	const char *host = opts && opts->host ? opts->host : secret_host(s);
	bool		at_replica = db.replica_host && strcmp(host, db.replica_host) == 0;
	int			rc;

	pthread_mutex_lock(&db.lock);
	if (db.nlogins < 8)
		snprintf(db.login_hosts[db.nlogins++], sizeof(db.login_hosts[0]), "%s", host);
	rc = strcmp(secret_password(s), at_replica ? db.replica_password : db.password) == 0 &&
		!(db.refuse && strcmp(secret_password(s), db.refuse) == 0) ? 0 : -1;
	if (rc != 0 && at_replica && db.replay_after >= 0 && db.replay_after-- == 0)
		snprintf(db.replica_password, sizeof(db.replica_password), "%s", db.password);
	pthread_mutex_unlock(&db.lock);
	if (elapsed_ms)
		*elapsed_ms = 1.0;
	if (rc != 0)
		pgr_error_set(err, PGR_ERR_DATABASE, "28P01",
					  "password authentication failed for user \"%s\"", secret_username(s));
	return rc;
}

/* The model's "verifier" is the password itself. */
int
db_scram_verifier(PGconn *conn, const char *user, const char *password, char **out,
				  pgr_error *err)
{
	(void) conn;
	(void) user;
	(void) err;
	*out = strdup(password);
	return *out ? 0 : -1;
}

int
db_has_extension(PGconn *conn, bool *out, bool *has_anchor, pgr_error *err)
{
	(void) conn;
	(void) err;
	*out = true;
	*has_anchor = !db.no_anchor;
	return 0;
}

static void
record_event(const char *event)
{
	if (db.nevents < 16)
		snprintf(db.events[db.nevents++], sizeof(db.events[0]), "%s", event);
}

/* The model's log tip: its id is 100 + the events so far. */
static void
model_anchor(char *out)
{
	snprintf(out, AUDIT_ANCHOR_LEN, "%d:%064d", 100 + db.nevents, db.nevents);
}

int
db_audit_anchor(PGconn *conn, char *anchor, pgr_error *err)
{
	(void) conn;
	(void) err;
	pthread_mutex_lock(&db.lock);
	model_anchor(anchor);
	pthread_mutex_unlock(&db.lock);
	return 0;
}

int
db_set_password_prepare(PGconn *admin, const char *target_role, const char *verifier,
						const char *secret_id, const char *version_id, long long *audit_id,
						pgr_error *err)
{
	(void) admin;
	(void) target_role;
	(void) secret_id;
	(void) version_id;
	(void) audit_id;
	(void) err;
	pthread_mutex_lock(&db.lock);
	snprintf(db.staged, sizeof(db.staged), "%s", verifier);
	pthread_mutex_unlock(&db.lock);
	return 0;
}

int
db_commit(PGconn *admin, pgr_error *err)
{
	(void) admin;
	(void) err;
	pthread_mutex_lock(&db.lock);
	if (db.staged[0])
	{
		snprintf(db.password, sizeof(db.password), "%s", db.staged);
		db.staged[0] = '\0';
		db.sets++;
		record_event("password_set");
	}
	pthread_mutex_unlock(&db.lock);
	return 0;
}

/* As db.c's: prepared, then committed. */
int
db_set_password(PGconn *admin, const char *target_role, const char *verifier,
				const char *secret_id, const char *version_id, long long *audit_id,
				pgr_error *err)
{
	if (db_set_password_prepare(admin, target_role, verifier, secret_id, version_id,
								audit_id, err) < 0)
		return -1;
	return db_commit(admin, err);
}

int
db_lock_role(PGconn *admin, const char *target_role, pgr_error *err)
{
	(void) admin;
	(void) target_role;
	(void) err;
	return 0;
}

int
db_log_event(PGconn *admin, const char *target_role, const char *event,
			 const char *secret_id, const char *version_id, const char *detail_json,
			 long long *audit_id, pgr_error *err)
{
	(void) admin;
	(void) target_role;
	(void) secret_id;
	(void) version_id;
	(void) detail_json;
	(void) audit_id;
	(void) err;
	pthread_mutex_lock(&db.lock);
	record_event(event);
	pthread_mutex_unlock(&db.lock);
	return 0;
}

/* As db.c's: the event (refused when the model says so), then the tip. */
int
db_log_event_and_anchor(PGconn *admin, const char *target_role, const char *event,
						const char *secret_id, const char *version_id,
						const char *detail_json, char *anchor, pgr_error *err,
						pgr_error *anchor_err)
{
	int			rc = 0;

	(void) anchor_err;
	if (db.refuse_event && strcmp(event, db.refuse_event) == 0)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, "55000", "could not record event: refused");
		pgr_error_detail(err, "rotate.audit_log has no password_set row for role \"app\".");
		pthread_mutex_lock(&db.lock);
		record_event("denied");
		pthread_mutex_unlock(&db.lock);
		rc = -1;
	}
	else
		rc = db_log_event(admin, target_role, event, secret_id, version_id, detail_json,
						  NULL, err);
	db_audit_anchor(admin, anchor, anchor_err);
	return rc;
}

int
db_alter_role_password_direct(PGconn *admin, const char *role, const char *verifier,
							  pgr_error *err)
{
	return db_set_password(admin, role, verifier, NULL, NULL, NULL, err);
}

/* ----- the Secrets Manager model --------------------------------------- */

typedef struct version
{
	char		id[64];
	char		value[512];
	char		stages[4][16];
	int			nstages;
} version;

typedef struct secret
{
	const char *name;
	const char *arn;
	version		v[8];
	int			nv;
} secret;

static struct
{
	secret		s[2];			/* the app's secret, the admin's */
	int			calls;
	char		ops[32][32];	/* the operations asked, in order */
	const char *fail_move;		/* UpdateSecretVersionStage of this stage fails */
	bool		fail_applied;	/* ... after it was applied (the answer is lost) */
	bool		fail_describe_after_move;	/* and nobody can say where it is */
	bool		rotate_on_describe; /* another process rotates first */
} sm;

static secret *
find_secret(const char *id)
{
	for (int i = 0; i < 2; i++)
		if (id && (strcmp(id, sm.s[i].name) == 0 || strcmp(id, sm.s[i].arn) == 0))
			return &sm.s[i];
	return NULL;
}

static version *
find_version(secret *s, const char *id)
{
	for (int i = 0; id && i < s->nv; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	return NULL;
}

static version *
with_stage(secret *s, const char *stage)
{
	for (int i = 0; i < s->nv; i++)
		for (int j = 0; j < s->v[i].nstages; j++)
			if (strcmp(s->v[i].stages[j], stage) == 0)
				return &s->v[i];
	return NULL;
}

static void
drop_stage(secret *s, const char *stage)
{
	for (int i = 0; i < s->nv; i++)
		for (int j = 0; j < s->v[i].nstages; j++)
			if (strcmp(s->v[i].stages[j], stage) == 0)
			{
				memmove(s->v[i].stages[j], s->v[i].stages[j + 1],
						(size_t) (s->v[i].nstages - j - 1) * sizeof(s->v[i].stages[0]));
				s->v[i].nstages--;
				j--;
			}
}

static void
add_stage(version *v, const char *stage)
{
	snprintf(v->stages[v->nstages++], sizeof(v->stages[0]), "%s", stage);
}

/* Put stage on v only; AWSCURRENT's old holder becomes AWSPREVIOUS. */
static void
move_stage(secret *s, const char *stage, version *v)
{
	if (strcmp(stage, "AWSCURRENT") == 0)
	{
		version    *old = with_stage(s, "AWSCURRENT");

		if (old && old != v)
		{
			drop_stage(s, "AWSPREVIOUS");
			add_stage(old, "AWSPREVIOUS");
		}
	}
	drop_stage(s, stage);
	if (v)
		add_stage(v, stage);
}

static version *
add_version(secret *s, const char *id, const char *value)
{
	version    *v = &s->v[s->nv++];

	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	snprintf(v->value, sizeof(v->value), "%s", value);
	return v;
}

static void
app_value(char *out, size_t len, const char *password)
{
	snprintf(out, len, "{\"engine\":\"postgres\",\"host\":\"db\",\"port\":5432,"
			 "\"username\":\"app\",\"password\":\"%s\",\"masterarn\":\"%s\"}",
			 password, ADMIN_ARN);
}

static void
write_stages(json_writer *w, const version *v)
{
	json_write_begin_array(w);
	for (int j = 0; j < v->nstages; j++)
		json_write_string(w, v->stages[j]);
	json_write_end_array(w);
}

/* An answer about secret s: {"ARN": ..., "Name": ..., and the caller's members. */
static void
begin_answer(json_writer *w, const secret *s)
{
	json_write_begin_object(w);
	json_write_key(w, "ARN");
	json_write_string(w, s->arn);
	json_write_key(w, "Name");
	json_write_string(w, s->name);
}

static void
not_found(aws_exchange *x)
{
	x->status = 400;
	snprintf(x->errortype, sizeof(x->errortype), "ResourceNotFoundException");
	pgr_buf_puts(&x->answer, "{\"message\":\"not found\"}");
}

#define RDS_DB1		"db1.aaa.us-east-1.rds.amazonaws.com"
#define RDS_R1		"r1.aaa.us-east-1.rds.amazonaws.com"
#define RDS_PX		"px.proxy-xyz.us-east-1.rds.amazonaws.com"

/* RDS's side: an instance db1, its read replica r1, a proxy px in front of db1. */
static void
rds_answer(aws_exchange *x)
{
	char		body[1024];

	snprintf(body, sizeof(body), "%.*s", (int) x->bodylen, x->body);
	x->status = 200;
	if (strstr(body, "DBInstanceIdentifier=db1"))
		pgr_buf_puts(&x->answer, INSTANCES(INSTANCE("db1", RDS_DB1, "5432", "")));
	else if (strstr(body, "DBInstanceIdentifier=r1"))
		pgr_buf_puts(&x->answer, INSTANCES(INSTANCE("r1", RDS_R1, "5432",
			"<ReadReplicaSourceDBInstanceIdentifier>db1</ReadReplicaSourceDBInstanceIdentifier>")));
	else if (strstr(body, "Action=DescribeDBProxies&"))
		pgr_buf_puts(&x->answer, PROXIES(PROXY("px")));
	else if (strstr(body, "Action=DescribeDBProxyTargets&"))
		pgr_buf_puts(&x->answer, TARGETS(TARGET("RDS_INSTANCE", "db1", "", "")));
	else
		fail_msg("the RDS model has no answer to %s", body);
}

/* One operation against the model, as Secrets Manager would answer it. */
static void
answer(void *arg, aws_exchange *x)
{
	json_doc   *req = NULL;
	const json_value *r;
	secret	   *s;
	version    *v;
	json_writer w;

	(void) arg;
	snprintf(sm.ops[sm.calls++ % 32], sizeof(sm.ops[0]), "%s", x->operation);
	if (x->service == AWS_RDS)
	{
		rds_answer(x);
		return;
	}
	assert_int_equal(json_parse(x->body, x->bodylen, 0, &req, NULL), 0);
	r = json_root(req);
	s = find_secret(json_get_string(r, "SecretId"));
	json_writer_init(&w, &x->answer, false);
	x->status = 200;
	if (strcmp(x->operation, "GetRandomPassword") == 0)
	{
		json_write_begin_object(&w);
		json_write_key(&w, "RandomPassword");
		json_write_string(&w, NEW_PW);
		json_write_end_object(&w);
	}
	else if (!s)
		not_found(x);
	else if (strcmp(x->operation, "GetSecretValue") == 0)
	{
		v = json_get_string(r, "VersionId") ? find_version(s, json_get_string(r, "VersionId")) :
			with_stage(s, json_get_string(r, "VersionStage"));
		if (!v || !v->value[0])
			not_found(x);
		else
		{
			begin_answer(&w, s);
			json_write_key(&w, "VersionId");
			json_write_string(&w, v->id);
			json_write_key(&w, "SecretString");
			json_write_string(&w, v->value);
			json_write_key(&w, "VersionStages");
			write_stages(&w, v);
			json_write_end_object(&w);
		}
	}
	else if (strcmp(x->operation, "DescribeSecret") == 0)
	{
		if (sm.rotate_on_describe)
		{
			char		value[512];

			/* another process's whole rotation, done while we waited */
			sm.rotate_on_describe = false;
			app_value(value, sizeof(value), "their-password");
			move_stage(s, "AWSCURRENT", add_version(s, "their-token", value));
			snprintf(db.password, sizeof(db.password), "their-password");
		}
		if (sm.fail_describe_after_move && sm.fail_move == NULL)
		{
			x->status = 500;
			snprintf(x->errortype, sizeof(x->errortype), "InternalServiceError");
		}
		else
		{
			begin_answer(&w, s);
			json_write_key(&w, "RotationEnabled");
			json_write_bool(&w, true);
			json_write_key(&w, "VersionIdsToStages");
			json_write_begin_object(&w);
			for (int i = 0; i < s->nv; i++)
				if (s->v[i].nstages > 0)
				{
					json_write_key(&w, s->v[i].id);
					write_stages(&w, &s->v[i]);
				}
			json_write_end_object(&w);
			json_write_end_object(&w);
		}
	}
	else if (strcmp(x->operation, "PutSecretValue") == 0)
	{
		const char *token = json_get_string(r, "ClientRequestToken");

		v = find_version(s, token);
		if (!v)
			v = add_version(s, token, json_get_string(r, "SecretString"));
		else if (!v->value[0])
			snprintf(v->value, sizeof(v->value), "%s", json_get_string(r, "SecretString"));
		for (const json_value *st = json_first(json_get(r, "VersionStages")); st;
			 st = json_next(st))
			move_stage(s, json_string(st, NULL), v);
		pgr_buf_printf(&x->answer, "{\"ARN\":\"%s\",\"VersionId\":\"%s\"}", s->arn, v->id);
	}
	else if (strcmp(x->operation, "UpdateSecretVersionStage") == 0)
	{
		const char *stage = json_get_string(r, "VersionStage");
		const char *to = json_get_string(r, "MoveToVersionId");
		const char *from = json_get_string(r, "RemoveFromVersionId");
		bool		fails = sm.fail_move && strcmp(sm.fail_move, stage) == 0;

		if (from && !find_version(s, from))
			not_found(x);
		else
		{
			if (!fails || sm.fail_applied)
			{
				if (to && strcmp(stage, "AWSCURRENT") == 0 && db.replica_host &&
					strcmp(db.replica_password, db.password) != 0)
					db.moved_before_replay = true;
				if (to)
					move_stage(s, stage, find_version(s, to));
				else
					drop_stage(s, stage);
			}
			if (fails)
			{
				sm.fail_move = NULL;	/* once */
				x->status = sm.fail_applied ? 500 : 400;
				snprintf(x->errortype, sizeof(x->errortype), "%s",
						 sm.fail_applied ? "InternalServiceError" : "InvalidRequestException");
			}
			else
				pgr_buf_puts(&x->answer, "{}");
		}
	}
	json_free(req);
}

/* ----- set-up ------------------------------------------------------------- */

static aws_session *session;
static rot_options opts;

/* The state before each test: one AWSCURRENT version each, logins working. */
static int
reset(void **state)
{
	char		value[512];
	pgr_error	err;

	(void) state;
	memset(&sm, 0, sizeof(sm));
	sm.s[0].name = "app";
	sm.s[0].arn = APP_ARN;
	sm.s[1].name = "admin";
	sm.s[1].arn = ADMIN_ARN;
	app_value(value, sizeof(value), OLD_PW);
	add_stage(add_version(&sm.s[0], "old-token", value), "AWSCURRENT");
	add_stage(add_version(&sm.s[1], "admin-token",
						  "{\"engine\":\"postgres\",\"host\":\"db\",\"port\":5432,"
						  "\"username\":\"rotator\",\"password\":\"" ADMIN_PW "\"}"),
			  "AWSCURRENT");
	snprintf(db.password, sizeof(db.password), OLD_PW);
	db.staged[0] = '\0';
	db.refuse = NULL;
	db.sets = 0;
	db.nevents = 0;
	db.no_anchor = false;
	db.refuse_event = NULL;
	db.replica_host = NULL;
	db.replay_after = -1;
	db.moved_before_replay = false;
	db.nlogins = 0;
	rot_options_init(&opts);
	return aws_session_open_offline(answer, NULL, &session, &err);
}

static int
close_session(void **state)
{
	(void) state;
	aws_session_close(session);
	return 0;
}

static bool
has_event(const char *event)
{
	for (int i = 0; i < db.nevents; i++)
		if (strcmp(db.events[i], event) == 0)
			return true;
	return false;
}

static int
count_ops(const char *op)
{
	int			n = 0;

	for (int i = 0; i < sm.calls && i < 32; i++)
		n += strcmp(sm.ops[i], op) == 0;
	return n;
}

static const char *
current_id(void)
{
	version    *v = with_stage(&sm.s[0], "AWSCURRENT");

	return v ? v->id : NULL;
}

/* A pending version with a value, as a run that died after createSecret left it. */
static void
leave_pending(const char *token, const char *password)
{
	char		value[512];

	app_value(value, sizeof(value), password);
	add_stage(add_version(&sm.s[0], token, value), "AWSPENDING");
}

/* ----- rot_rotate -------------------------------------------------------- */

static void
test_fresh_rotation(void **state)
{
	rot_result	res;

	(void) state;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.secret_id, APP_ARN);
	assert_string_equal(res.version_id, current_id());
	assert_string_equal(db.password, NEW_PW);
	assert_int_equal(db.sets, 1);
	assert_string_equal(with_stage(&sm.s[0], "AWSPREVIOUS")->id, "old-token");
	assert_null(with_stage(&sm.s[0], "AWSPENDING"));
	/* the seven calls of a rotation, in the order the lag window needs */
	assert_int_equal(res.sm_calls, 7);
	assert_int_equal(sm.calls, 7);
	assert_string_equal(sm.ops[0], "GetSecretValue");	/* the app's AWSCURRENT */
	assert_string_equal(sm.ops[1], "GetSecretValue");	/* the admin's */
	assert_string_equal(sm.ops[2], "GetRandomPassword");
	assert_string_equal(sm.ops[3], "DescribeSecret");	/* under the rotation lock */
	assert_string_equal(sm.ops[4], "PutSecretValue");
	assert_string_equal(sm.ops[5], "UpdateSecretVersionStage");	/* AWSCURRENT */
	assert_string_equal(sm.ops[6], "UpdateSecretVersionStage");	/* AWSPENDING off */
	assert_true(res.lag_ms >= 0);
	assert_true(has_event("tested") && has_event("finished"));
	/* the tip right after "finished", the last write */
	assert_string_equal(db.events[db.nevents - 1], "finished");
	assert_string_equal(res.audit_anchor, "103:" "0000000000000000000000000000000000000000000000000000000000000003");
	/* and no anchor in the new version's value: it was not asked for */
	assert_null(strstr(with_stage(&sm.s[0], "AWSCURRENT")->value, "pg_rotate_audit_anchor"));
}

/*
 * --anchor-in-secret: the new version holds the log's tip as it was when
 * the version was made, through the admin connection the rotation has
 * open anyway: still seven Secrets Manager calls.
 */
static void
test_anchor_in_secret(void **state)
{
	rot_result	res;
	pgr_secret *current = NULL;
	pgr_error	err;

	(void) state;
	opts.anchor_in_secret = true;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_int_equal(res.sm_calls, 7);
	assert_int_equal(secret_parse(with_stage(&sm.s[0], "AWSCURRENT")->value, &current, &err), 0);
	assert_string_equal(secret_audit_anchor(current),
						"100:" "0000000000000000000000000000000000000000000000000000000000000000");
	secret_free(current);
}

/* A current version's anchor is never carried into the next one. */
static void
test_stale_anchor_left_out(void **state)
{
	rot_result	res;
	char		value[600];

	(void) state;
	snprintf(value, sizeof(value), "{\"engine\":\"postgres\",\"host\":\"db\",\"port\":5432,"
			 "\"username\":\"app\",\"password\":\"" OLD_PW "\",\"masterarn\":\"" ADMIN_ARN "\","
			 "\"pg_rotate_audit_anchor\":\"7:%064d\",\"kept\":1}", 7);
	snprintf(with_stage(&sm.s[0], "AWSCURRENT")->value, sizeof(sm.s[0].v[0].value), "%s", value);
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_null(strstr(with_stage(&sm.s[0], "AWSCURRENT")->value, "pg_rotate_audit_anchor"));
	assert_non_null(strstr(with_stage(&sm.s[0], "AWSCURRENT")->value, "\"kept\":1"));
}

/* An extension without audit_anchor() (1.0): no anchor, the rotation goes on. */
static void
test_no_anchor_on_old_extension(void **state)
{
	rot_result	res;

	(void) state;
	db.no_anchor = true;
	opts.anchor_in_secret = true;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.audit_anchor, "");
	assert_true(has_event("finished"));
	assert_null(strstr(with_stage(&sm.s[0], "AWSCURRENT")->value, "pg_rotate_audit_anchor"));
}

/*
 * The log refuses "finished" (no password_set row, as when the password
 * was set outside pg_rotate): a warning; the rotation is still rotated,
 * and the anchor is still read (the refusal is a row too).
 */
static void
test_refused_finished_keeps_outcome(void **state)
{
	rot_result	res;

	(void) state;
	db.refuse_event = "finished";
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.error.message, "");
	assert_true(has_event("denied"));
	assert_false(has_event("finished"));
	assert_string_equal(res.audit_anchor, "103:" "0000000000000000000000000000000000000000000000000000000000000003");
}

/* An AWSPENDING version with a value is the rotation to finish, not a new one. */
static void
test_resumes_pending_version(void **state)
{
	rot_result	res;

	(void) state;
	leave_pending("their-unfinished", "pending-password");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.version_id, "their-unfinished");
	assert_string_equal(current_id(), "their-unfinished");
	assert_string_equal(db.password, "pending-password");
	assert_int_equal(count_ops("PutSecretValue"), 0);
	assert_int_equal(db.sets, 1);
}

/* Died after its commit: the password is already set; only the labels move. */
static void
test_resumes_after_commit(void **state)
{
	rot_result	res;

	(void) state;
	leave_pending("died-after-commit", "pending-password");
	snprintf(db.password, sizeof(db.password), "pending-password");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(current_id(), "died-after-commit");
	assert_int_equal(db.sets, 0);
}

/* Another process rotated while this one waited for the lock: nothing to do. */
static void
test_already_current(void **state)
{
	rot_result	res;

	(void) state;
	sm.rotate_on_describe = true;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ALREADY_CURRENT);
	assert_string_equal(res.version_id, "their-token");
	assert_string_equal(db.password, "their-password");
	assert_int_equal(db.sets, 0);
	assert_int_equal(count_ops("PutSecretValue"), 0);
}

/* The new password does not log in: AWSCURRENT goes back, so does the password. */
static void
test_rollback_when_new_password_fails(void **state)
{
	rot_result	res;

	(void) state;
	db.refuse = NEW_PW;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROLLED_BACK);
	assert_non_null(strstr(res.error.message, "the new password does not log in"));
	assert_string_equal(current_id(), "old-token");
	assert_string_equal(db.password, OLD_PW);
	assert_null(with_stage(&sm.s[0], "AWSPENDING"));
	assert_true(has_event("rolled_back"));
}

/* AWSCURRENT could not be moved, and is known to be where it was: roll back. */
static void
test_rollback_when_move_fails(void **state)
{
	rot_result	res;

	(void) state;
	sm.fail_move = "AWSCURRENT";
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROLLED_BACK);
	assert_non_null(strstr(res.error.message, "finishSecret for secret \"" APP_ARN "\""));
	assert_string_equal(res.error.code, "InvalidRequestException");
	assert_string_equal(current_id(), "old-token");
	assert_string_equal(db.password, OLD_PW);
}

/* The move was applied but its answer lost: it is done, so carry on. */
static void
test_lost_answer_is_done(void **state)
{
	rot_result	res;

	(void) state;
	sm.fail_move = "AWSCURRENT";
	sm.fail_applied = true;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.error.message, "");
	assert_string_equal(db.password, NEW_PW);
	assert_string_equal(current_id(), res.version_id);
	assert_int_equal(res.sm_calls, 8);	/* the DescribeSecret that asked */
}

/*
 * Nobody can say where AWSCURRENT is: touch nothing. The new password stays
 * (its version keeps AWSPENDING, so the invariant holds) and a re-run
 * finishes the same rotation.
 */
static void
test_unknown_move_leaves_everything(void **state)
{
	rot_result	res;
	char		token[72];

	(void) state;
	sm.fail_move = "AWSCURRENT";
	sm.fail_describe_after_move = true;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_int_equal(res.outcome, ROT_OUTCOME_FAILED);
	assert_non_null(strstr(res.error.hint, "running the rotation again finishes it"));
	assert_string_equal(db.password, NEW_PW);
	assert_string_equal(current_id(), "old-token");
	assert_string_equal(with_stage(&sm.s[0], "AWSPENDING")->id, res.version_id);
	assert_false(has_event("rolled_back"));
	snprintf(token, sizeof(token), "%s", res.version_id);

	sm.fail_describe_after_move = false;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(res.version_id, token);
	assert_string_equal(current_id(), token);
	assert_int_equal(db.sets, 1);		/* set once, by the first run */
}

/* The current password must log in before anything changes. */
static void
test_current_must_log_in(void **state)
{
	rot_result	res;

	(void) state;
	snprintf(db.password, sizeof(db.password), "changed-behind-our-back");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_int_equal(res.outcome, ROT_OUTCOME_FAILED);
	assert_non_null(strstr(res.error.message, "the current password of secret \"" APP_ARN
						   "\" does not log in"));
	assert_string_equal(db.password, "changed-behind-our-back");
	assert_int_equal(db.sets, 0);
	assert_string_equal(current_id(), "old-token");
}

/* ----- on RDS: where the proofs go ------------------------------------------- */

/* The admin secret on db1's endpoint; the app's on host. */
static void
on_rds(const char *host)
{
	char		value[512];

	snprintf(sm.s[1].v[0].value, sizeof(sm.s[1].v[0].value),
			 "{\"host\":\"" RDS_DB1 "\",\"username\":\"rotator\",\"password\":\""
			 ADMIN_PW "\"}");
	snprintf(value, sizeof(value), "{\"host\":\"%s\",\"username\":\"app\","
			 "\"password\":\"" OLD_PW "\",\"masterarn\":\"" ADMIN_ARN "\"}", host);
	snprintf(sm.s[0].v[0].value, sizeof(sm.s[0].v[0].value), "%s", value);
}

/*
 * A read replica that replays the change only after refusing the new
 * password three times: the proof waits, and AWSCURRENT moves only once
 * the replica accepts the new password.
 */
static void
test_replica_replays_late(void **state)
{
	rot_result	res;

	(void) state;
	on_rds(RDS_R1);
	db.replica_host = RDS_R1;
	snprintf(db.replica_password, sizeof(db.replica_password), OLD_PW);
	db.replay_after = 3;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_false(db.moved_before_replay);
	assert_string_equal(db.replica_password, NEW_PW);
	assert_string_equal(res.proof.relation, "replica");
	assert_string_equal(res.proof.host, RDS_R1 ":5432");
	assert_true(res.proof.replica_wait_ms > 0);
	assert_int_equal(res.sm_calls, 7);
	assert_int_equal(res.rds_calls, 2);
	assert_int_equal(count_ops("DescribeDBInstances"), 2);
}

/* A replica that never replays: the bound runs out, everything goes back. */
static void
test_replica_never_replays(void **state)
{
	rot_result	res;

	(void) state;
	on_rds(RDS_R1);
	db.replica_host = RDS_R1;
	snprintf(db.replica_password, sizeof(db.replica_password), OLD_PW);
	opts.replica_wait_ms = 200;
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROLLED_BACK);
	assert_non_null(strstr(res.error.message, "the new password does not log in: still "
						   "refused at DB instance \"r1\", a read replica of DB instance "
						   "\"db1\" after"));
	assert_false(db.moved_before_replay);
	assert_string_equal(current_id(), "old-token");
	assert_string_equal(db.password, OLD_PW);
	assert_null(with_stage(&sm.s[0], "AWSPENDING"));
	assert_true(has_event("rolled_back"));
}

/* Behind a proxy every login goes to the writer, none to the proxy. */
static void
test_proxy_proves_at_the_writer(void **state)
{
	rot_result	res;

	(void) state;
	on_rds(RDS_PX);
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), 0);
	assert_string_equal(res.proof.relation, "proxy");
	assert_string_equal(res.proof.host, RDS_DB1 ":5432");
	assert_int_equal(res.rds_calls, 3);
	assert_true(db.nlogins >= 2);
	for (int i = 0; i < db.nlogins; i++)
		assert_string_equal(db.login_hosts[i], RDS_DB1);
}

/* The admin is refused for the user it is, before any change or RDS call. */
static void
test_admin_for_the_same_user(void **state)
{
	rot_result	res;

	(void) state;
	snprintf(sm.s[1].v[0].value, sizeof(sm.s[1].v[0].value),
			 "{\"host\":\"db\",\"username\":\"app\",\"password\":\"" ADMIN_PW "\"}");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_non_null(strstr(res.error.message, "the admin secret and secret \"" APP_ARN
						   "\" are for the same user \"app\""));
	assert_int_equal(count_ops("PutSecretValue"), 0);
	assert_int_equal(db.sets, 0);
}

/* An admin secret without a host must be RDS's (tagged): one DescribeSecret says. */
static void
test_admin_without_host_or_tag(void **state)
{
	rot_result	res;

	(void) state;
	snprintf(sm.s[1].v[0].value, sizeof(sm.s[1].v[0].value),
			 "{\"username\":\"master\",\"password\":\"" ADMIN_PW "\"}");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_non_null(strstr(res.error.message, "the admin secret \"" ADMIN_ARN "\" names no "
						   "host and is not managed by RDS"));
	assert_int_equal(res.sm_calls, 3);
	assert_int_equal(res.rds_calls, 0);
	assert_int_equal(count_ops("PutSecretValue"), 0);
}

/* A rotated secret without a host is refused before anything is asked or changed. */
static void
test_rotated_secret_without_host(void **state)
{
	rot_result	res;

	(void) state;
	snprintf(sm.s[0].v[0].value, sizeof(sm.s[0].v[0].value),
			 "{\"username\":\"app\",\"password\":\"" OLD_PW "\",\"masterarn\":\"" ADMIN_ARN "\"}");
	rot_result_init(&res, "app");
	assert_int_equal(rot_rotate(session, &opts, "app", &res), -1);
	assert_string_equal(res.error.message, "createSecret for secret \"app\": the current "
						"version of secret \"app\" has no \"host\" key");
	assert_int_equal(sm.calls, 1);
}

/* ----- rot_run_step ------------------------------------------------------ */

static int
step(rot_step_kind kind, const char *token, rot_result *res)
{
	rot_result_init(res, "app");
	return rot_run_step(session, &opts, kind, "app", token, NULL, res);
}

static void
test_steps_in_order(void **state)
{
	rot_result	res;

	(void) state;
	add_version(&sm.s[0], "tok", "");	/* RotateSecret's pending version, no value */
	add_stage(&sm.s[0].v[sm.s[0].nv - 1], "AWSPENDING");
	assert_int_equal(step(ROT_CREATE_SECRET, "tok", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ROTATED);
	assert_string_equal(db.password, OLD_PW);
	/* testSecret before setSecret: the pending password does not log in */
	assert_int_equal(step(ROT_TEST_SECRET, "tok", &res), -1);
	assert_non_null(strstr(res.error.message, "testSecret for secret \"" APP_ARN "\": "
						   "the pending password does not log in"));
	/* finishSecret before setSecret would lock the application out */
	assert_int_equal(step(ROT_FINISH_SECRET, "tok", &res), -1);
	assert_non_null(strstr(res.error.message, "refusing to move AWSCURRENT"));
	assert_string_equal(current_id(), "old-token");
	assert_int_equal(step(ROT_SET_SECRET, "tok", &res), 0);
	assert_string_equal(db.password, NEW_PW);
	assert_int_equal(step(ROT_SET_SECRET, "tok", &res), 0);	/* again: nothing to do */
	assert_int_equal(db.sets, 1);
	assert_int_equal(step(ROT_TEST_SECRET, "tok", &res), 0);
	assert_int_equal(step(ROT_FINISH_SECRET, "tok", &res), 0);
	assert_string_equal(current_id(), "tok");
	assert_null(with_stage(&sm.s[0], "AWSPENDING"));
	/* every step of a finished token now returns at once */
	for (int k = 0; k < ROT_NSTEPS; k++)
	{
		assert_int_equal(step((rot_step_kind) k, "tok", &res), 0);
		assert_int_equal(res.outcome, ROT_OUTCOME_ALREADY_CURRENT);
	}
}

/* A finishSecret that died after its move left AWSPENDING: take it off. */
static void
test_finish_takes_pending_off_a_current_token(void **state)
{
	rot_result	res;

	(void) state;
	add_stage(with_stage(&sm.s[0], "AWSCURRENT"), "AWSPENDING");
	assert_int_equal(step(ROT_FINISH_SECRET, "old-token", &res), 0);
	assert_int_equal(res.outcome, ROT_OUTCOME_ALREADY_CURRENT);
	assert_null(with_stage(&sm.s[0], "AWSPENDING"));
}

static void
test_step_refuses_other_tokens(void **state)
{
	rot_result	res;

	(void) state;
	assert_int_equal(step(ROT_CREATE_SECRET, "no-such-version", &res), -1);
	assert_string_equal(res.error.message, "createSecret for secret \"" APP_ARN "\": "
						"version \"no-such-version\" is not a version of secret \"" APP_ARN "\"");
	add_version(&sm.s[0], "unlabelled", "x");
	add_stage(&sm.s[0].v[sm.s[0].nv - 1], "CUSTOM");
	assert_int_equal(step(ROT_CREATE_SECRET, "unlabelled", &res), -1);
	assert_non_null(strstr(res.error.message, "is not labelled AWSPENDING"));
	assert_non_null(strstr(res.error.hint, "RotateSecret"));
}

/* ----- rot_check_secret ------------------------------------------------------ */

static void
test_check(void **state)
{
	rot_check	c;
	pgr_error	err;

	(void) state;
	assert_int_equal(rot_check_secret(session, &opts, "app", &c, &err), 0);
	assert_string_equal(c.secret_id, APP_ARN);
	assert_true(c.current_logs_in);
	assert_int_equal(c.nattention, 0);
	assert_int_equal(c.nversions, 1);
	assert_string_equal(c.versions[0].stages[0], "AWSCURRENT");
	rot_check_free(&c);

	leave_pending("pending", "p2");
	snprintf(db.password, sizeof(db.password), "something-else");
	assert_int_equal(rot_check_secret(session, &opts, "app", &c, &err), 0);
	assert_false(c.current_logs_in);
	assert_int_equal(c.nattention, 2);
	assert_non_null(strstr(c.attention[0], "AWSCURRENT does not log in"));
	assert_string_equal(c.attention[1], "rotation pending: version pending is labelled AWSPENDING");
	rot_check_free(&c);

	assert_int_equal(rot_check_secret(session, &opts, "nope", &c, &err), -1);
	assert_string_equal(err.code, "ResourceNotFoundException");
}

#define ROTATION_TEST(f) cmocka_unit_test_setup_teardown(f, reset, close_session)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		ROTATION_TEST(test_fresh_rotation),
		ROTATION_TEST(test_anchor_in_secret),
		ROTATION_TEST(test_stale_anchor_left_out),
		ROTATION_TEST(test_no_anchor_on_old_extension),
		ROTATION_TEST(test_refused_finished_keeps_outcome),
		ROTATION_TEST(test_resumes_pending_version),
		ROTATION_TEST(test_resumes_after_commit),
		ROTATION_TEST(test_already_current),
		ROTATION_TEST(test_rollback_when_new_password_fails),
		ROTATION_TEST(test_rollback_when_move_fails),
		ROTATION_TEST(test_lost_answer_is_done),
		ROTATION_TEST(test_unknown_move_leaves_everything),
		ROTATION_TEST(test_current_must_log_in),
		ROTATION_TEST(test_replica_replays_late),
		ROTATION_TEST(test_replica_never_replays),
		ROTATION_TEST(test_proxy_proves_at_the_writer),
		ROTATION_TEST(test_admin_for_the_same_user),
		ROTATION_TEST(test_admin_without_host_or_tag),
		ROTATION_TEST(test_rotated_secret_without_host),
		ROTATION_TEST(test_steps_in_order),
		ROTATION_TEST(test_finish_takes_pending_off_a_current_token),
		ROTATION_TEST(test_step_refuses_other_tokens),
		ROTATION_TEST(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
