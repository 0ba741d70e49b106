/*-------------------------------------------------------------------------
 *
 * cmd_rotate.c
 *	  The rotation commands: "rotate" (many secrets, on a bounded pool of
 *	  worker threads sharing one AWS session), "step" (one step, as Secrets
 *	  Manager invokes it) and "check" (is this secret healthy?). Rotation
 *	  does the work; these parse the command line and print what it says.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "password_env.h"
#include "rot_audit.h"
#include "rotation.h"
#include "rotation_env.h"

#define MAX_SECRETS		100000
#define MAX_PARALLEL	256
#define MAX_ID_LEN		2048
#define MAX_SECRETS_FILE (64 * 1024 * 1024)
#define PROGRESS_NAME_LEN 32	/* bytes of a secret's name on the progress line */

enum
{
	R_SECRET_ID = 1,
	R_SECRETS_FILE,
	R_PARALLEL,
	R_ADMIN_SECRET_ID,
	R_NO_EXTENSION,
	R_PASSWORD_SOURCE,
	R_PASSWORD_LENGTH,
	R_EXCLUDE_CHARACTERS,
	R_EXCLUDE_NUMBERS,
	R_EXCLUDE_PUNCTUATION,
	R_EXCLUDE_UPPERCASE,
	R_EXCLUDE_LOWERCASE,
	R_REQUIRE_EACH,
	R_STEP,
	R_TOKEN,
	R_ROTATION_TOKEN,
	R_ANCHOR_IN_SECRET,
	R_AUDIT,
	R_ANCHOR,
	R_RECOMPUTE,
	R_RESOLVE,
	R_REPLICA_WAIT,
	R_ADMIN_DBNAME
};

/* Where the database is: for every command that connects. */
#define DATABASE_OPTIONS \
	{"resolve", PGR_OPT_VALUE, R_RESOLVE, "HOST:PORT:ADDRESS: dial ADDRESS, verify HOST (repeatable; PG_ROTATE_RESOLVE)"}

#define PASSWORD_OPTIONS \
	DATABASE_OPTIONS, \
	{"replica-wait", PGR_OPT_VALUE, R_REPLICA_WAIT, "seconds a proof at a replica waits for replay (PG_ROTATE_REPLICA_WAIT, default 5)"}, \
	{"admin-secret-id", PGR_OPT_VALUE, R_ADMIN_SECRET_ID, "admin secret (default: the secret's masterarn)"}, \
	{"admin-dbname", PGR_OPT_VALUE, R_ADMIN_DBNAME, "database the admin connects to (PG_ROTATE_ADMIN_DBNAME; default: the secret's dbname)"}, \
	{"no-extension", PGR_OPT_FLAG, R_NO_EXTENSION, "no pg_rotate extension: the admin runs ALTER ROLE"}, \
	{"password-source", PGR_OPT_VALUE, R_PASSWORD_SOURCE, "aws (GetRandomPassword, default) or local"}, \
	{"password-length", PGR_OPT_VALUE, R_PASSWORD_LENGTH, "new password length (PASSWORD_LENGTH, default 32)"}, \
	{"exclude-characters", PGR_OPT_VALUE, R_EXCLUDE_CHARACTERS, "never use these (EXCLUDE_CHARACTERS, default :/@\"'\\)"}, \
	{"exclude-numbers", PGR_OPT_FLAG, R_EXCLUDE_NUMBERS, "no digits (EXCLUDE_NUMBERS)"}, \
	{"exclude-punctuation", PGR_OPT_FLAG, R_EXCLUDE_PUNCTUATION, "no punctuation (EXCLUDE_PUNCTUATION)"}, \
	{"exclude-uppercase", PGR_OPT_FLAG, R_EXCLUDE_UPPERCASE, "no uppercase (EXCLUDE_UPPERCASE)"}, \
	{"exclude-lowercase", PGR_OPT_FLAG, R_EXCLUDE_LOWERCASE, "no lowercase (EXCLUDE_LOWERCASE)"}, \
	{"require-each-included-type", PGR_OPT_FLAG, R_REQUIRE_EACH, "one of each type (REQUIRE_EACH_INCLUDED_TYPE, default on)"}

#define ANCHOR_IN_SECRET_OPTION \
	{"anchor-in-secret", PGR_OPT_FLAG, R_ANCHOR_IN_SECRET, "store the audit log's anchor in each new version (" SECRET_ANCHOR_KEY ")"}

static const pgr_option rotate_options[] = {
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "secret to rotate (repeat for more)"},
	{"secrets-file", PGR_OPT_VALUE, R_SECRETS_FILE, "file with one secret id per line (# comments)"},
	{"parallel", PGR_OPT_VALUE, R_PARALLEL, "rotate up to N secrets at once (default 1)"},
	PASSWORD_OPTIONS,
	ANCHOR_IN_SECRET_OPTION,
	{NULL, 0, 0, NULL}
};

static const pgr_option step_options[] = {
	{"step", PGR_OPT_VALUE, R_STEP, "createSecret, setSecret, testSecret or finishSecret"},
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "the secret (required)"},
	{"token", PGR_OPT_VALUE, R_TOKEN, "the ClientRequestToken: the pending version id (required)"},
	{"rotation-token", PGR_OPT_VALUE, R_ROTATION_TOKEN, "the event's RotationToken, if any"},
	PASSWORD_OPTIONS,
	ANCHOR_IN_SECRET_OPTION,
	{NULL, 0, 0, NULL}
};

static const pgr_option check_options[] = {
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "the secret (required)"},
	{"audit", PGR_OPT_FLAG, R_AUDIT, "also verify the database's audit log against an anchor"},
	{"anchor", PGR_OPT_VALUE, R_ANCHOR, "with --audit: the anchor (default: the one in AWSCURRENT)"},
	{"recompute", PGR_OPT_FLAG, R_RECOMPUTE, "with --audit: recompute the row hashes here (needs SELECT)"},
	{"admin-secret-id", PGR_OPT_VALUE, R_ADMIN_SECRET_ID, "with --audit: the secret to connect with (default: masterarn)"},
	DATABASE_OPTIONS,
	{NULL, 0, 0, NULL}
};

/* What the three commands are told. */
typedef struct rot_args
{
	char	  **ids;
	int			nids;
	int			ids_cap;
	const char *secrets_file;
	long		parallel;
	const char *step;
	const char *token;
	const char *rotation_token;
	bool		audit;			/* check --audit, --anchor, --recompute */
	const char *anchor;
	bool		recompute;
	rot_options opts;
	resolve_map resolve;		/* opts.db.resolve */
} rot_args;

static int
add_id(rot_args *a, const char *id, pgr_error *err)
{
	if (a->nids >= MAX_SECRETS)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "too many secrets (at most %d)", MAX_SECRETS);
		return -1;
	}
	if (a->nids == a->ids_cap)
	{
		int			cap = a->ids_cap ? a->ids_cap * 2 : 16;
		char	  **ids = realloc(a->ids, cap * sizeof(char *));

		if (!ids)
		{
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
			return -1;
		}
		a->ids = ids;
		a->ids_cap = cap;
	}
	if (!(a->ids[a->nids] = strdup(id)))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	a->nids++;
	return 0;
}

static void
free_args(rot_args *a)
{
	for (int i = 0; i < a->nids; i++)
		free(a->ids[i]);
	free(a->ids);
	resolve_map_free(&a->resolve);
}

static int
rot_option(void *ctx, int id, const char *value, bool negated, pgr_error *err)
{
	rot_args   *a = ctx;
	pgr_password_rules *r = &a->opts.rules;
	long		n;

	switch (id)
	{
		case R_SECRET_ID:
			return add_id(a, value, err);
		case R_SECRETS_FILE:
			a->secrets_file = value;
			return 0;
		case R_PARALLEL:
			if (pgr_cli_parse_long("parallel", value, 1, MAX_PARALLEL, &n, err) < 0)
				return -1;
			a->parallel = n;
			return 0;
		case R_ADMIN_SECRET_ID:
			a->opts.admin_secret_id = value;
			return 0;
		case R_NO_EXTENSION:
			a->opts.no_extension = !negated;
			return 0;
		case R_PASSWORD_SOURCE:
			if (strcmp(value, "aws") == 0)
				a->opts.password_source = ROT_PASSWORD_AWS;
			else if (strcmp(value, "local") == 0)
				a->opts.password_source = ROT_PASSWORD_LOCAL;
			else
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL,
							  "invalid value \"%s\" for --password-source", value);
				pgr_error_hint(err, "Use \"aws\" or \"local\".");
				return -1;
			}
			return 0;
		case R_PASSWORD_LENGTH:
			if (pgr_cli_parse_long("password-length", value, 1, SECRET_MAX_PASSWORD_LEN,
								   &n, err) < 0)
				return -1;
			r->length = (int) n;
			return 0;
		case R_EXCLUDE_CHARACTERS:
			r->exclude_characters = value;
			return 0;
		case R_EXCLUDE_NUMBERS:
			r->exclude_numbers = !negated;
			return 0;
		case R_EXCLUDE_PUNCTUATION:
			r->exclude_punctuation = !negated;
			return 0;
		case R_EXCLUDE_UPPERCASE:
			r->exclude_uppercase = !negated;
			return 0;
		case R_EXCLUDE_LOWERCASE:
			r->exclude_lowercase = !negated;
			return 0;
		case R_REQUIRE_EACH:
			r->require_each_included_type = !negated;
			return 0;
		case R_STEP:
			a->step = value;
			return 0;
		case R_TOKEN:
			a->token = value;
			return 0;
		case R_ROTATION_TOKEN:
			a->rotation_token = value;
			return 0;
		case R_ANCHOR_IN_SECRET:
			a->opts.anchor_in_secret = !negated;
			return 0;
		case R_AUDIT:
			a->audit = !negated;
			return 0;
		case R_ANCHOR:
			{
				long long	anchor_id;
				char		hash[AUDIT_HASH_LEN + 1];

				if (audit_anchor_parse(value, &anchor_id, hash, err) < 0)
				{
					err->errclass = PGR_ERR_USAGE;
					pgr_error_prefix(err, "--anchor: ");
					return -1;
				}
				a->anchor = value;
				return 0;
			}
		case R_RECOMPUTE:
			a->recompute = !negated;
			return 0;
		case R_RESOLVE:
			return resolve_map_add(&a->resolve, value, "--resolve", err);
		case R_REPLICA_WAIT:
			if (pgr_cli_parse_long("replica-wait", value, 0, ROT_MAX_REPLICA_WAIT_S, &n,
								   err) < 0)
				return -1;
			a->opts.replica_wait_ms = (int) n * 1000;
			return 0;
		case R_ADMIN_DBNAME:
			a->opts.admin_dbname = value;
			return 0;
	}
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "unhandled option %d", id);
	return -1;
}

/*
 * One secret id per line; blank lines and lines starting with # are
 * skipped; "-" is standard input.
 */
static int
read_secrets_file(rot_args *a, pgr_error *err)
{
	bool		from_stdin = strcmp(a->secrets_file, "-") == 0;
	pgr_buf		text;
	int			lineno = 0;
	int			rc;

	if (from_stdin)
		rc = pgr_read_fd(STDIN_FILENO, MAX_SECRETS_FILE, "secrets file", "-", &text, err);
	else if ((rc = pgr_read_file(a->secrets_file, MAX_SECRETS_FILE, "secrets file", &text,
								 err)) == 0)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "secrets file \"%s\" does not exist",
					  a->secrets_file);
		rc = -1;
	}
	else if (rc == 1)
		rc = 0;
	if (rc < 0)
		return -1;
	for (char *line = text.data; rc == 0 && line && *line;)
	{
		char	   *nl = strchr(line, '\n');
		char	   *s = line;
		size_t		n = nl ? (size_t) (nl - line) : strlen(line);

		lineno++;
		line = nl ? nl + 1 : NULL;
		if (n > MAX_ID_LEN)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "line %d of \"%s\" is too long",
						  lineno, a->secrets_file);
			rc = -1;
			break;
		}
		s[n] = '\0';
		while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#')
			rc = add_id(a, s, err);
	}
	pgr_buf_free(&text);
	return rc;
}

/* ----- output -------------------------------------------------------------- */

/*
 * Where the logins were proved, when that is not the admin's own endpoint;
 * behind a proxy, say why the proof went to the writer.
 */
static void
print_proof(const rot_proof *proof)
{
	if (!proof->relation[0] || strcmp(proof->relation, "same") == 0)
		return;
	if (strcmp(proof->relation, "proxy") == 0)
		printf("; logins proved at the writer %s, not through %s (a proxy authenticates "
			   "from the secret itself)", proof->host, proof->described);
	else
		printf("; logins proved at %s, %s", proof->host, proof->described);
	if (proof->replica_wait_ms >= 0)
		printf(", replica delay %.1f ms", proof->replica_wait_ms);
}

/* One result: its JSON (rot_result.h) on one line, or a line of text. */
static void
print_result(const rot_result *res, bool json)
{
	if (json)
	{
		pgr_buf		line;

		if (rot_result_to_json(res, &line))
			pgr_log_json_line(&line);
		pgr_buf_free(&line);
	}
	else if (res->outcome == ROT_OUTCOME_ROTATED || res->outcome == ROT_OUTCOME_ALREADY_CURRENT)
	{
		char		clean[MAX_ID_LEN * 4 + 1];

		pgr_log_sanitize(clean, sizeof(clean), res->secret_id);
		printf("%s %s: version %s", rot_outcome_name(res->outcome), clean, res->version_id);
		if (res->lag_ms >= 0)
			printf(", lag %.1f ms", res->lag_ms);
		for (int i = 0; i < ROT_NSTEPS; i++)
			if (res->step_ms[i] >= 0)
				printf(", %s %.1f ms", rot_step_name((rot_step_kind) i), res->step_ms[i]);
		printf(", %d Secrets Manager calls", res->sm_calls);
		if (res->rds_calls > 0)
			printf(", %d RDS calls", res->rds_calls);
		print_proof(&res->proof);
		printf("\n");
	}
	if (res->error.message[0])
		pgr_log_report(&res->error);
	fflush(stdout);
}

/* The exit status of a run: the worst of its results (doc/pg_rotate.1). */
static int
exit_status(const rot_result *results, int n)
{
	bool		rolled_back = false;

	for (int i = 0; i < n; i++)
	{
		if (results[i].outcome == ROT_OUTCOME_FAILED)
			return pgr_error_exit_code(&results[i].error);
		if (results[i].outcome == ROT_OUTCOME_ROLLED_BACK)
			rolled_back = true;
	}
	return rolled_back ? PGR_EXIT_ROLLED_BACK : PGR_EXIT_OK;
}

/* ----- shared set-up ------------------------------------------------------ */

/* Options that only mean something together, or never together. */
static int
check_combinations(const rot_args *a, pgr_error *err)
{
	if (a->opts.anchor_in_secret && a->opts.no_extension)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "--anchor-in-secret cannot be used with --no-extension");
		pgr_error_detail(err, "Without the extension there is no audit log to take an anchor of.");
		return -1;
	}
	if ((a->anchor || a->recompute) && !a->audit)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "%s is an option of --audit",
					  a->anchor ? "--anchor" : "--recompute");
		pgr_error_hint(err, "Add --audit.");
		return -1;
	}
	return 0;
}

/*
 * Parse the command line into *a and *common and open the AWS session.
 * Returns -1 (after reporting) with *exit_code set when the command must end.
 */
static int
setup(int argc, char **argv, const pgr_option *options, const char *usage_line,
	  rot_args *a, pgr_common_options *common, aws_session **session, int *exit_code)
{
	pgr_error	err = {0};

	memset(a, 0, sizeof(*a));
	memset(common, 0, sizeof(*common));
	*session = NULL;
	rot_options_init(&a->opts);
	a->parallel = 1;
	*exit_code = PGR_EXIT_USAGE;
	if (pgr_password_rules_from_env(&a->opts.rules, &err) < 0 ||
		rot_settings_from_env(&a->opts, &a->resolve, &err) < 0 ||
		pgr_cli_parse(argc, argv, options, rot_option, a, common, &err) != 0)
	{
		pgr_log_report(&err);
		return -1;
	}
	if (common->help)
	{
		printf("Usage:\n  %s\n\nOptions:\n", usage_line);
		pgr_cli_print_options(stdout, options);
		printf("\nShared options:\n");
		pgr_cli_print_options(stdout, pgr_common_option_table);
		*exit_code = PGR_EXIT_OK;
		return -1;
	}
	if (common->npositional > 1)
	{
		pgr_log_error("unexpected argument \"%s\"", common->positional[1]);
		return -1;
	}
	if (check_combinations(a, &err) < 0)
	{
		pgr_log_report(&err);
		return -1;
	}
	if (common->verbose)
		pgr_log_init("pg_rotate", PGR_LOG_DEBUG);
	if (a->secrets_file && read_secrets_file(a, &err) < 0)
	{
		pgr_log_report(&err);
		*exit_code = pgr_error_exit_code(&err);
		return -1;
	}
	if (a->nids == 0)
	{
		pgr_error_set(&err, PGR_ERR_USAGE, NULL, "no secret given");
		pgr_error_hint(&err, "Pass --secret-id ID (or --secrets-file FILE); see \"%s --help\".",
					   usage_line);
		pgr_log_report(&err);
		return -1;
	}
	a->opts.db.sslmode = common->sslmode;
	a->opts.db.sslrootcert = common->sslrootcert;
	if (common->aws.connect_timeout_ms > 0)
		a->opts.db.connect_timeout = (int) ((common->aws.connect_timeout_ms + 999) / 1000);
	if (aws_session_open(&common->aws, session, &err) != 0)
	{
		pgr_log_report(&err);
		*exit_code = pgr_error_exit_code(&err);
		return -1;
	}
	return 0;
}

/* ----- rotate ---------------------------------------------------------- */

typedef struct pool
{
	pthread_mutex_t lock;
	const rot_args *args;
	aws_session *session;		/* shared: credentials resolved once */
	bool		json;
	bool		progress;		/* a progress line on the terminal */
	rot_result *results;
	int			next;			/* next secret to take */
	int			done;
	int			failed;
	const rot_result *slowest;	/* the longest rotation so far */
} pool;

/*
 * The progress line on stderr, under the pool's lock: done/total, failures
 * so far and the slowest rotation so far (its secret's name and seconds).
 */
static void
show_progress(const pool *p)
{
	char		name[PROGRESS_NAME_LEN + 1];
	char		clean[sizeof(name) * 4];

	if (!p->slowest)
	{
		pgr_log_progress("[%d/%d] %d failed", p->done, p->args->nids, p->failed);
		return;
	}
	rot_result_secret_name(p->slowest, name, sizeof(name));
	pgr_log_sanitize(clean, sizeof(clean), name);
	pgr_log_progress("[%d/%d] %d failed, slowest so far %s (%.1f s)", p->done,
					 p->args->nids, p->failed, clean, p->slowest->total_ms / 1000.0);
}

/* Rotate secrets from the pool until none is left. */
static void *
worker(void *arg)
{
	pool	   *p = arg;

	for (;;)
	{
		int			i;
		rot_result *res;

		pthread_mutex_lock(&p->lock);
		i = p->next < p->args->nids ? p->next++ : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			break;
		res = &p->results[i];
		rot_result_init(res, p->args->ids[i]);
		rot_rotate(p->session, &p->args->opts, p->args->ids[i], res);
		pthread_mutex_lock(&p->lock);
		p->done++;
		if (res->outcome != ROT_OUTCOME_ROTATED)
			p->failed++;
		if (!p->slowest || res->total_ms > p->slowest->total_ms)
			p->slowest = res;
		if (p->progress)
			pgr_log_progress_clear();
		print_result(res, p->json);
		if (p->progress)
			show_progress(p);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

int
cmd_rotate(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_session *session;
	pool		p = {0};
	pthread_t	threads[MAX_PARALLEL];
	int			nthreads = 0;
	int			rc;

	if (setup(argc, argv, rotate_options,
			  "pg_rotate rotate --secret-id ID [--secret-id ID ...] [--secrets-file FILE] "
			  "[--parallel N] [--admin-secret-id ID] [--json]",
			  &a, &common, &session, &rc) < 0)
	{
		free_args(&a);
		return rc;
	}
	pthread_mutex_init(&p.lock, NULL);
	p.args = &a;
	p.session = session;
	p.json = common.json;
	/* for a person at a terminal: never with --json, never into a file */
	p.progress = a.nids > 1 && !common.json && isatty(STDERR_FILENO);
	p.results = calloc(a.nids, sizeof(rot_result));
	if (!p.results)
	{
		pgr_log_error("out of memory");
		aws_session_close(session);
		free_args(&a);
		return PGR_EXIT_FAILURE;
	}
	if (a.parallel <= 1 || a.nids == 1)
		worker(&p);
	else
	{
		int			want = a.parallel < a.nids ? (int) a.parallel : a.nids;

		for (; nthreads < want; nthreads++)
			if (pthread_create(&threads[nthreads], NULL, worker, &p) != 0)
				break;
		if (nthreads == 0)
			worker(&p);
		for (int i = 0; i < nthreads; i++)
			pthread_join(threads[i], NULL);
	}
	if (p.progress)
		pgr_log_progress_end();
	if (a.nids > 1 && !common.json)
		printf("%d of %d secrets rotated, %d not\n", a.nids - p.failed, a.nids, p.failed);
	rc = exit_status(p.results, a.nids);
	for (int i = 0; i < a.nids; i++)
		pgr_error_clear(&p.results[i].error);
	free(p.results);
	pthread_mutex_destroy(&p.lock);
	aws_session_close(session);
	free_args(&a);
	return rc;
}

/* ----- step ------------------------------------------------------------- */

int
cmd_step(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_session *session;
	rot_step_kind step;
	rot_result	res;
	pgr_error	err = {0};
	int			rc;

	if (setup(argc, argv, step_options,
			  "pg_rotate step --step createSecret|setSecret|testSecret|finishSecret "
			  "--secret-id ID --token TOKEN",
			  &a, &common, &session, &rc) < 0)
	{
		free_args(&a);
		return rc;
	}
	if (a.nids != 1 || !a.step || !a.token || rot_step_parse(a.step, &step) < 0)
	{
		if (a.nids != 1)
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "step takes exactly one --secret-id");
		else if (!a.step || !a.token)
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "--step and --token are required");
		else
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "unknown step \"%s\"", a.step);
		pgr_error_hint(&err, "Steps: createSecret, setSecret, testSecret, finishSecret.");
		pgr_log_report(&err);
		rc = PGR_EXIT_USAGE;
	}
	else
	{
		rot_result_init(&res, a.ids[0]);
		rot_run_step(session, &a.opts, step, a.ids[0], a.token, a.rotation_token, &res);
		print_result(&res, common.json);
		rc = exit_status(&res, 1);
	}
	aws_session_close(session);
	free_args(&a);
	return rc;
}

/* ----- check ------------------------------------------------------------ */

/* What check --audit says when it had nothing to check the log against. */
#define NO_ANCHOR_ATTENTION "no audit log anchor to check against (pass --anchor, or " \
	"rotate with --anchor-in-secret): only the chain's consistency was checked"

/* The audit log's check, as the member "audit" of check's JSON object. */
static void
write_audit_json(json_writer *w, const rot_audit *audit)
{
	json_write_key(w, "audit");
	json_write_begin_object(w);
	json_write_key(w, "database");
	json_write_string(w, audit->dbname);
	json_write_key(w, "anchor");
	if (audit->anchor[0])
		json_write_string(w, audit->anchor);
	else
		json_write_null(w);
	json_write_key(w, "anchor_source");
	json_write_string(w, rot_anchor_source_name(audit->source));
	json_write_key(w, "recomputed");
	json_write_bool(w, audit->recomputed);
	json_write_key(w, "ok");
	json_write_bool(w, audit->verdict.ok);
	json_write_key(w, "rows_checked");
	json_write_int(w, audit->verdict.rows_checked);
	json_write_key(w, "first_bad_id");
	if (audit->verdict.first_bad_id > 0)
		json_write_int(w, audit->verdict.first_bad_id);
	else
		json_write_null(w);
	json_write_key(w, "problem");
	if (audit->verdict.problem[0])
		json_write_string(w, audit->verdict.problem);
	else
		json_write_null(w);
	json_write_end_object(w);
}

/*
 * What rot_check_secret() found, and the audit log's check when one was
 * asked for (audit not NULL), as one JSON object on one line.
 */
static void
print_check_json(const rot_check *c, const rot_audit *audit)
{
	pgr_buf		line;
	json_writer w;

	pgr_buf_init(&line, 0);
	json_writer_init(&w, &line, false);
	json_write_begin_object(&w);
	json_write_key(&w, "secret_id");
	json_write_string(&w, c->secret_id);
	json_write_key(&w, "rotation_enabled");
	json_write_bool(&w, c->rotation_enabled);
	json_write_key(&w, "versions");
	json_write_begin_object(&w);
	for (int i = 0; i < c->nversions; i++)
	{
		json_write_key(&w, c->versions[i].version_id);
		json_write_begin_array(&w);
		for (int j = 0; j < c->versions[i].nstages; j++)
			json_write_string(&w, c->versions[i].stages[j]);
		json_write_end_array(&w);
	}
	json_write_end_object(&w);
	json_write_key(&w, "current_logs_in");
	json_write_bool(&w, c->current_logs_in);
	json_write_key(&w, "login_ms");
	if (c->login_ms >= 0)
		json_write_double(&w, c->login_ms);
	else
		json_write_null(&w);
	json_write_key(&w, "attention");
	json_write_begin_array(&w);
	for (int i = 0; i < c->nattention; i++)
		json_write_string(&w, c->attention[i]);
	if (audit && audit->verdict.ok && audit->source == ROT_ANCHOR_NONE)
		json_write_string(&w, NO_ANCHOR_ATTENTION);
	json_write_end_array(&w);
	if (audit)
		write_audit_json(&w, audit);
	json_write_end_object(&w);
	pgr_log_json_line(&line);
	pgr_buf_free(&line);
}

/* The audit log's check, as text. */
static void
print_audit_text(const rot_audit *audit)
{
	const char *how = audit->recomputed ? "row hashes recomputed here" :
		"by rotate.verify_audit_log";

	if (!audit->verdict.ok)
		printf("audit log of database %s: DOES NOT MATCH%s%s (%lld rows, %s): row %lld: %s\n",
			   audit->dbname, audit->anchor[0] ? " anchor " : "", audit->anchor,
			   audit->verdict.rows_checked, how, audit->verdict.first_bad_id,
			   audit->verdict.problem);
	else if (audit->anchor[0])
		printf("audit log of database %s: matches anchor %s (from the %s; %lld rows, %s)\n",
			   audit->dbname, audit->anchor,
			   audit->source == ROT_ANCHOR_GIVEN ? "command line" : "secret",
			   audit->verdict.rows_checked, how);
	else
		printf("audit log of database %s: chain consistent, no anchor (%lld rows, %s)\n",
			   audit->dbname, audit->verdict.rows_checked, how);
}

/* What rot_check_secret() found, as text. */
static void
print_check_text(const rot_check *c)
{
	printf("secret %s (rotation %s)\n", c->secret_id,
		   c->rotation_enabled ? "enabled" : "not enabled");
	for (int i = 0; i < c->nversions; i++)
	{
		printf("  %s ", c->versions[i].version_id);
		for (int j = 0; j < c->versions[i].nstages; j++)
			printf("%s%s", j ? "," : "", c->versions[i].stages[j]);
		printf("\n");
	}
	if (c->current_logs_in)
		printf("AWSCURRENT logs in (%.1f ms)\n", c->login_ms);
	for (int i = 0; i < c->nattention; i++)
		printf("attention: %s\n", c->attention[i]);
	fflush(stdout);
}

/*
 * A log that does not match, reported as an error (it is one for whoever
 * runs the check) besides the printed verdict.
 */
static void
report_mismatch(const rot_audit *audit)
{
	pgr_error	err = {0};

	pgr_error_set(&err, PGR_ERR_INPUT, NULL,
				  "the audit log of database \"%s\" does not match %s%s%s", audit->dbname,
				  audit->anchor[0] ? "anchor \"" : "its own chain", audit->anchor,
				  audit->anchor[0] ? "\"" : "");
	pgr_error_detail(&err, "Row %lld: %s.", audit->verdict.first_bad_id,
					 audit->verdict.problem);
	pgr_error_hint(&err, "%s: compare rotate.audit_log with a backup, and find who switched "
				   "its guard off.", audit->anchor[0] ?
				   "Rows were changed, removed or re-chained since the anchor was taken" :
				   "A row was changed, inserted or removed");
	pgr_log_report(&err);
}

/*
 * Is the secret healthy? (rot_check_secret.) Prints the versions and their
 * stages, whether AWSCURRENT logs in, and what needs attention; with
 * --audit, also whether the database's audit log matches an anchor
 * (rot_audit_check). Exit 5 when it does not, else 3 when something needs
 * attention (an audit without any anchor does).
 */
int
cmd_check(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_session *session;
	rot_check	check = {0};
	rot_audit	audit;
	pgr_error	err = {0};
	int			rc;

	if (setup(argc, argv, check_options,
			  "pg_rotate check --secret-id ID [--audit [--anchor ANCHOR] [--recompute]]",
			  &a, &common, &session, &rc) < 0)
	{
		free_args(&a);
		return rc;
	}
	if (rot_check_secret(session, &a.opts, a.ids[0], &check, &err) != 0 ||
		(a.audit && rot_audit_check(session, &a.opts, check.secret_id, a.anchor, a.recompute,
									&audit, &err) != 0))
	{
		pgr_log_report(&err);
		rc = pgr_error_exit_code(&err);
	}
	else
	{
		bool		no_anchor = a.audit && audit.verdict.ok && audit.source == ROT_ANCHOR_NONE;

		if (common.json)
			print_check_json(&check, a.audit ? &audit : NULL);
		else
		{
			print_check_text(&check);
			if (a.audit)
				print_audit_text(&audit);
			if (no_anchor)
				printf("attention: %s\n", NO_ANCHOR_ATTENTION);
			fflush(stdout);
		}
		if (a.audit && !audit.verdict.ok)
		{
			report_mismatch(&audit);
			rc = PGR_EXIT_AUDIT_MISMATCH;
		}
		else
			rc = (check.nattention > 0 || no_anchor) ? PGR_EXIT_ATTENTION : PGR_EXIT_OK;
	}
	rot_check_free(&check);
	aws_session_close(session);
	free_args(&a);
	return rc;
}
