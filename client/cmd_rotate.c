/*-------------------------------------------------------------------------
 *
 * cmd_rotate.c
 *	  The rotation commands: "rotate" (many secrets, on a bounded pool of
 *	  worker threads), "step" (one step, as Secrets Manager invokes it) and
 *	  "check" (is this secret healthy?).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "http.h"
#include "log.h"
#include "rotation.h"

#define MAX_SECRETS		100000
#define MAX_PARALLEL	256
#define MAX_ID_LEN		2048

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
	R_ROTATION_TOKEN
};

#define PASSWORD_OPTIONS \
	{"admin-secret-id", PGR_OPT_VALUE, R_ADMIN_SECRET_ID, "admin secret (default: the secret's masterarn)"}, \
	{"no-extension", PGR_OPT_FLAG, R_NO_EXTENSION, "no pg_rotate extension: the admin runs ALTER ROLE"}, \
	{"password-source", PGR_OPT_VALUE, R_PASSWORD_SOURCE, "aws (GetRandomPassword, default) or local"}, \
	{"password-length", PGR_OPT_VALUE, R_PASSWORD_LENGTH, "new password length (PASSWORD_LENGTH, default 32)"}, \
	{"exclude-characters", PGR_OPT_VALUE, R_EXCLUDE_CHARACTERS, "never use these (EXCLUDE_CHARACTERS, default :/@\"'\\)"}, \
	{"exclude-numbers", PGR_OPT_FLAG, R_EXCLUDE_NUMBERS, "no digits (EXCLUDE_NUMBERS)"}, \
	{"exclude-punctuation", PGR_OPT_FLAG, R_EXCLUDE_PUNCTUATION, "no punctuation (EXCLUDE_PUNCTUATION)"}, \
	{"exclude-uppercase", PGR_OPT_FLAG, R_EXCLUDE_UPPERCASE, "no uppercase (EXCLUDE_UPPERCASE)"}, \
	{"exclude-lowercase", PGR_OPT_FLAG, R_EXCLUDE_LOWERCASE, "no lowercase (EXCLUDE_LOWERCASE)"}, \
	{"require-each-included-type", PGR_OPT_FLAG, R_REQUIRE_EACH, "one of each type (REQUIRE_EACH_INCLUDED_TYPE, default on)"}

static const pgr_option rotate_options[] = {
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "secret to rotate (repeat for more)"},
	{"secrets-file", PGR_OPT_VALUE, R_SECRETS_FILE, "file with one secret id per line (# comments)"},
	{"parallel", PGR_OPT_VALUE, R_PARALLEL, "rotate up to N secrets at once (default 1)"},
	PASSWORD_OPTIONS,
	{NULL, 0, 0, NULL}
};

static const pgr_option step_options[] = {
	{"step", PGR_OPT_VALUE, R_STEP, "createSecret, setSecret, testSecret or finishSecret"},
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "the secret (required)"},
	{"token", PGR_OPT_VALUE, R_TOKEN, "the ClientRequestToken: the pending version id (required)"},
	{"rotation-token", PGR_OPT_VALUE, R_ROTATION_TOKEN, "the event's RotationToken, if any"},
	PASSWORD_OPTIONS,
	{NULL, 0, 0, NULL}
};

static const pgr_option check_options[] = {
	{"secret-id", PGR_OPT_VALUE, R_SECRET_ID, "the secret (required)"},
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
	rot_options opts;
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
	}
	pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "unhandled option %d", id);
	return -1;
}

/* One secret id per line; blank lines and lines starting with # are skipped. */
static int
read_secrets_file(rot_args *a, pgr_error *err)
{
	FILE	   *f = strcmp(a->secrets_file, "-") == 0 ? stdin : fopen(a->secrets_file, "r");
	char		line[MAX_ID_LEN + 2];
	int			lineno = 0;
	int			rc = 0;

	if (!f)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "could not open secrets file \"%s\": %s",
					  a->secrets_file, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f))
	{
		char	   *s = line;
		size_t		n;

		lineno++;
		n = strlen(s);
		if (n == sizeof(line) - 1 && s[n - 1] != '\n')
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "line %d of \"%s\" is too long",
						  lineno, a->secrets_file);
			rc = -1;
			break;
		}
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
						 s[n - 1] == '\t'))
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#')
			rc = add_id(a, s, err);
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ----- output -------------------------------------------------------------- */

static json_object *
result_json(const rot_result *res)
{
	json_object *obj = json_object_new_object();
	json_object *steps = json_object_new_object();

	json_object_object_add(obj, "secret_id", json_object_new_string(res->secret_id));
	json_object_object_add(obj, "version_id",
						   res->version_id[0] ? json_object_new_string(res->version_id) : NULL);
	json_object_object_add(obj, "outcome", json_object_new_string(rot_outcome_name(res->outcome)));
	json_object_object_add(obj, "lag_ms",
						   res->lag_ms >= 0 ? json_object_new_double(res->lag_ms) : NULL);
	for (int i = 0; i < ROT_NSTEPS; i++)
		if (res->step_ms[i] >= 0)
			json_object_object_add(steps, rot_step_name((rot_step_kind) i),
								   json_object_new_double(res->step_ms[i]));
	json_object_object_add(obj, "steps_ms", steps);
	json_object_object_add(obj, "total_ms", json_object_new_double(res->total_ms));
	json_object_object_add(obj, "sm_calls", json_object_new_int(res->sm_calls));
	if (res->error.message[0])
	{
		json_object *e = json_object_new_object();

		json_object_object_add(e, "code", json_object_new_string(res->error.code));
		json_object_object_add(e, "message", json_object_new_string(res->error.message));
		if (res->error.detail[0])
			json_object_object_add(e, "detail", json_object_new_string(res->error.detail));
		if (res->error.hint[0])
			json_object_object_add(e, "hint", json_object_new_string(res->error.hint));
		json_object_object_add(obj, "error", e);
	}
	return obj;
}

static void
print_result(const rot_result *res, bool json)
{
	if (json)
	{
		json_object *obj = result_json(res);

		printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
		json_object_put(obj);
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
		printf(", %d Secrets Manager calls\n", res->sm_calls);
	}
	if (res->error.message[0])
		pgr_log_report(&res->error);
	fflush(stdout);
}

static int
exit_status(const rot_result *results, int n)
{
	bool		rolled_back = false;

	for (int i = 0; i < n; i++)
	{
		if (results[i].outcome == ROT_OUTCOME_FAILED)
			return results[i].error.errclass == PGR_ERR_USAGE ? PGR_EXIT_USAGE
				: PGR_EXIT_FAILURE;
		if (results[i].outcome == ROT_OUTCOME_ROLLED_BACK)
			rolled_back = true;
	}
	return rolled_back ? PGR_EXIT_ROLLED_BACK : PGR_EXIT_OK;
}

/* ----- shared set-up ------------------------------------------------------ */

/*
 * Parse the command line into *a and *common and load the AWS configuration.
 * Returns -1 (after reporting) with *exit_code set when the command must end.
 */
static int
setup(int argc, char **argv, const pgr_option *options, const char *usage_line,
	  rot_args *a, pgr_common_options *common, aws_config *cfg, int *exit_code)
{
	pgr_error	err = {0};

	memset(a, 0, sizeof(*a));
	memset(common, 0, sizeof(*common));
	rot_options_init(&a->opts);
	a->parallel = 1;
	*exit_code = PGR_EXIT_USAGE;
	if (rot_options_from_env(&a->opts, &err) < 0 ||
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
	if (common->verbose)
		pgr_log_init("pg_rotate", PGR_LOG_DEBUG);
	if (a->secrets_file && read_secrets_file(a, &err) < 0)
	{
		pgr_log_report(&err);
		return -1;
	}
	if (a->nids == 0)
	{
		pgr_log_error("no secret given");
		fprintf(stderr, "Pass --secret-id ID (or --secrets-file FILE); see \"%s --help\".\n",
				usage_line);
		return -1;
	}
	a->opts.db.sslmode = common->sslmode;
	a->opts.db.sslrootcert = common->sslrootcert;
	if (common->aws.connect_timeout_ms > 0)
		a->opts.db.connect_timeout = (int) ((common->aws.connect_timeout_ms + 999) / 1000);
	*exit_code = PGR_EXIT_FAILURE;
	if (http_global_init(&err) != 0 || aws_config_load(&common->aws, cfg, &err) != 0)
	{
		pgr_log_report(&err);
		if (err.errclass == PGR_ERR_USAGE)
			*exit_code = PGR_EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* ----- rotate ---------------------------------------------------------- */

typedef struct pool
{
	pthread_mutex_t lock;
	const rot_args *args;
	const aws_config *cfg;
	bool		json;
	bool		progress;		/* a progress line on the terminal */
	rot_result *results;
	int			next;			/* next secret to take */
	int			done;
	int			failed;
} pool;

static void
report_progress(pool *p)
{
	if (p->progress)
		fprintf(stderr, "\r[%d/%d] %d failed", p->done, p->args->nids, p->failed);
}

static void *
worker(void *arg)
{
	pool	   *p = arg;
	sm_client  *sm = NULL;
	pgr_error	err = {0};

	if (sm_client_new(p->cfg, NULL, &sm, &err) != 0)
		sm = NULL;
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
		if (!sm)
			res->error = err;
		else
			rot_rotate(sm, &p->args->opts, p->args->ids[i], res);
		pthread_mutex_lock(&p->lock);
		p->done++;
		if (res->outcome != ROT_OUTCOME_ROTATED)
			p->failed++;
		if (p->progress)
			fputc('\r', stderr);
		print_result(res, p->json);
		report_progress(p);
		pthread_mutex_unlock(&p->lock);
	}
	sm_client_free(sm);
	return NULL;
}

int
cmd_rotate(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_config	cfg;
	pool		p = {0};
	pthread_t	threads[MAX_PARALLEL];
	int			nthreads = 0;
	int			rc;

	if (setup(argc, argv, rotate_options,
			  "pg_rotate rotate --secret-id ID [--secret-id ID ...] [--secrets-file FILE] "
			  "[--parallel N] [--admin-secret-id ID] [--json]",
			  &a, &common, &cfg, &rc) < 0)
	{
		free_args(&a);
		return rc;
	}
	pthread_mutex_init(&p.lock, NULL);
	p.args = &a;
	p.cfg = &cfg;
	p.json = common.json;
	p.progress = a.nids > 1 && isatty(STDERR_FILENO);
	p.results = calloc(a.nids, sizeof(rot_result));
	if (!p.results)
	{
		pgr_log_error("out of memory");
		aws_config_free(&cfg);
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
		fputc('\n', stderr);
	if (a.nids > 1 && !common.json)
		printf("%d of %d secrets rotated, %d not\n", a.nids - p.failed, a.nids, p.failed);
	rc = exit_status(p.results, a.nids);
	for (int i = 0; i < a.nids; i++)
		pgr_error_clear(&p.results[i].error);
	free(p.results);
	pthread_mutex_destroy(&p.lock);
	aws_config_free(&cfg);
	free_args(&a);
	return rc;
}

/* ----- step ------------------------------------------------------------- */

int
cmd_step(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_config	cfg;
	sm_client  *sm = NULL;
	rot_step_kind step;
	rot_result	res;
	pgr_error	err = {0};
	int			rc;

	if (setup(argc, argv, step_options,
			  "pg_rotate step --step createSecret|setSecret|testSecret|finishSecret "
			  "--secret-id ID --token TOKEN",
			  &a, &common, &cfg, &rc) < 0)
	{
		free_args(&a);
		return rc;
	}
	rot_result_init(&res, a.ids[0]);
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
	else if (sm_client_new(&cfg, NULL, &sm, &res.error) != 0)
	{
		print_result(&res, common.json);
		rc = PGR_EXIT_FAILURE;
	}
	else
	{
		rot_run_step(sm, &a.opts, step, a.ids[0], a.token, a.rotation_token, &res);
		print_result(&res, common.json);
		rc = exit_status(&res, 1);
	}
	sm_client_free(sm);
	aws_config_free(&cfg);
	free_args(&a);
	return rc;
}

/* ----- check ------------------------------------------------------------ */

/*
 * Is the secret healthy? AWSCURRENT must parse and log in; a version
 * labelled AWSPENDING but not AWSCURRENT means a rotation is unfinished.
 * Prints the versions and their stages. Exit 3 when something needs
 * attention.
 */
int
cmd_check(int argc, char **argv)
{
	rot_args	a;
	pgr_common_options common;
	aws_config	cfg;
	sm_client  *sm = NULL;
	sm_description desc = {0};
	sm_secret_value value = {0};
	pgr_secret *current = NULL;
	pgr_error	err = {0};
	json_object *out = json_object_new_object();
	json_object *versions = json_object_new_object();
	json_object *attention = json_object_new_array();
	const char *cur_version;
	const char *pending;
	double		login_ms = -1;
	bool		logs_in = false;
	int			rc;

	if (setup(argc, argv, check_options, "pg_rotate check --secret-id ID", &a, &common,
			  &cfg, &rc) < 0)
	{
		json_object_put(out);
		json_object_put(versions);
		json_object_put(attention);
		free_args(&a);
		return rc;
	}
	rc = PGR_EXIT_FAILURE;
	if (sm_client_new(&cfg, NULL, &sm, &err) != 0 ||
		sm_describe_secret(sm, a.ids[0], &desc, NULL, &err) != 0)
		goto fail;
	for (int i = 0; i < desc.nversions; i++)
	{
		json_object *stages = json_object_new_array();

		for (int j = 0; j < desc.versions[i].nstages; j++)
			json_object_array_add(stages, json_object_new_string(desc.versions[i].stages[j]));
		json_object_object_add(versions, desc.versions[i].version_id, stages);
	}
	cur_version = sm_version_with_stage(&desc, "AWSCURRENT");
	pending = sm_version_with_stage(&desc, "AWSPENDING");
	if (!cur_version)
		json_object_array_add(attention, json_object_new_string("no AWSCURRENT version"));
	else if (sm_get_secret_value(sm, desc.arn, NULL, "AWSCURRENT", &value, NULL, &err) != 0)
		goto fail;
	else if (!value.secret_string || secret_parse(value.secret_string, &current, &err) != 0)
	{
		char		msg[PGR_ERRMSG_LEN + 64];

		snprintf(msg, sizeof(msg), "AWSCURRENT is not a usable secret: %s",
				 value.secret_string ? err.message : "no SecretString");
		json_object_array_add(attention, json_object_new_string(msg));
	}
	else if (db_login_test(current, &a.opts.db, &login_ms, &err) == 0)
		logs_in = true;
	else
	{
		char		msg[PGR_ERRMSG_LEN * 2 + 64];

		snprintf(msg, sizeof(msg), "AWSCURRENT does not log in: %s%s%s", err.message,
				 err.detail[0] ? ": " : "", err.detail);
		json_object_array_add(attention, json_object_new_string(msg));
	}
	if (pending && (!cur_version || strcmp(pending, cur_version) != 0))
	{
		char		msg[160];

		snprintf(msg, sizeof(msg), "rotation pending: version %s is labelled AWSPENDING",
				 pending);
		json_object_array_add(attention, json_object_new_string(msg));
	}
	json_object_object_add(out, "secret_id", json_object_new_string(desc.arn));
	json_object_object_add(out, "rotation_enabled", json_object_new_boolean(desc.rotation_enabled));
	json_object_object_add(out, "versions", json_object_get(versions));
	json_object_object_add(out, "current_logs_in", json_object_new_boolean(logs_in));
	json_object_object_add(out, "login_ms", login_ms >= 0 ? json_object_new_double(login_ms) : NULL);
	json_object_object_add(out, "attention", json_object_get(attention));
	if (common.json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	else
	{
		printf("secret %s (rotation %s)\n", desc.arn, desc.rotation_enabled ? "enabled" : "not enabled");
		for (int i = 0; i < desc.nversions; i++)
		{
			printf("  %s ", desc.versions[i].version_id);
			for (int j = 0; j < desc.versions[i].nstages; j++)
				printf("%s%s", j ? "," : "", desc.versions[i].stages[j]);
			printf("\n");
		}
		if (logs_in)
			printf("AWSCURRENT logs in (%.1f ms)\n", login_ms);
		for (size_t i = 0; i < json_object_array_length(attention); i++)
			printf("attention: %s\n", json_object_get_string(json_object_array_get_idx(attention, i)));
	}
	rc = json_object_array_length(attention) > 0 ? PGR_EXIT_ATTENTION : PGR_EXIT_OK;
	goto done;

fail:
	pgr_log_report(&err);
done:
	json_object_put(out);
	json_object_put(versions);
	json_object_put(attention);
	secret_free(current);
	sm_secret_value_free(&value);
	sm_description_free(&desc);
	sm_client_free(sm);
	aws_config_free(&cfg);
	free_args(&a);
	return rc;
}
