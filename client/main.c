/*-------------------------------------------------------------------------
 *
 * main.c
 *	  The pg_rotate command line: the command table and dispatch, and the
 *	  "secret" commands that expose the Secrets Manager client.
 *
 * Commands are rows of commands[]; each parses its own options together
 * with the shared ones through pgr_cli_parse() (cli.h), so --region,
 * --endpoint-url, --profile, --verbose, --json and the timeouts behave the
 * same for every command. To add a command, add a row.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aws_config.h"
#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "secretsmanager.h"

#define PGR_VERSION "1.0"
#define MAX_STAGES	20

typedef int (*command_fn) (int argc, char **argv);

typedef struct command
{
	const char *name;
	command_fn	run;
	const char *summary;
} command;

static int	cmd_secret(int argc, char **argv);

static const command commands[] = {
	{"rotate", cmd_rotate, "rotate secrets end to end (like RotateSecret, without a Lambda)"},
	{"step", cmd_step, "run one rotation step, as Secrets Manager invokes it"},
	{"check", cmd_check, "does AWSCURRENT log in? is a rotation pending?"},
	{"lambda", cmd_lambda, "serve AWS Lambda invocations (also: the binary named bootstrap)"},
	{"secret", cmd_secret, "call Secrets Manager: get, describe, put, stage, random-password"},
	{NULL, NULL, NULL}
};

/* ---- the "secret" commands ------------------------------------------- */

enum
{
	S_SECRET_ID = 1,
	S_VERSION_ID,
	S_VERSION_STAGE,
	S_SECRET_STRING,
	S_CLIENT_REQUEST_TOKEN,
	S_VERSION_STAGES,
	S_ROTATION_TOKEN,
	S_MOVE_TO,
	S_REMOVE_FROM,
	S_PASSWORD_LENGTH,
	S_EXCLUDE_CHARACTERS,
	S_EXCLUDE_NUMBERS,
	S_EXCLUDE_PUNCTUATION,
	S_EXCLUDE_UPPERCASE,
	S_EXCLUDE_LOWERCASE,
	S_INCLUDE_SPACE,
	S_REQUIRE_EACH
};

/* Everything the secret commands can be told. */
typedef struct secret_args
{
	const char *secret_id;
	const char *version_id;
	const char *version_stage;
	const char *secret_string_arg;
	const char *client_request_token;
	const char *version_stages[MAX_STAGES];
	int			nstages;
	const char *rotation_token;
	const char *move_to;
	const char *remove_from;
	sm_random_password_input pw;
} secret_args;

static const pgr_option get_options[] = {
	{"secret-id", PGR_OPT_VALUE, S_SECRET_ID, "name or ARN of the secret (required)"},
	{"version-id", PGR_OPT_VALUE, S_VERSION_ID, "the version's id"},
	{"version-stage", PGR_OPT_VALUE, S_VERSION_STAGE, "the version's staging label, e.g. AWSCURRENT"},
	{NULL, 0, 0, NULL}
};

static const pgr_option describe_options[] = {
	{"secret-id", PGR_OPT_VALUE, S_SECRET_ID, "name or ARN of the secret (required)"},
	{NULL, 0, 0, NULL}
};

static const pgr_option put_options[] = {
	{"secret-id", PGR_OPT_VALUE, S_SECRET_ID, "name or ARN of the secret (required)"},
	{"secret-string", PGR_OPT_VALUE, S_SECRET_STRING, "the value: file://PATH, or - for standard input (required)"},
	{"client-request-token", PGR_OPT_VALUE, S_CLIENT_REQUEST_TOKEN, "idempotency token, becomes the version id"},
	{"version-stages", PGR_OPT_LIST, S_VERSION_STAGES, "staging labels for the new version (default AWSCURRENT)"},
	{"rotation-token", PGR_OPT_VALUE, S_ROTATION_TOKEN, "the RotationToken of a rotation event"},
	{NULL, 0, 0, NULL}
};

static const pgr_option stage_options[] = {
	{"secret-id", PGR_OPT_VALUE, S_SECRET_ID, "name or ARN of the secret (required)"},
	{"version-stage", PGR_OPT_VALUE, S_VERSION_STAGE, "the staging label to move (required)"},
	{"move-to-version-id", PGR_OPT_VALUE, S_MOVE_TO, "version to attach the label to"},
	{"remove-from-version-id", PGR_OPT_VALUE, S_REMOVE_FROM, "version to take the label from"},
	{NULL, 0, 0, NULL}
};

static const pgr_option random_options[] = {
	{"password-length", PGR_OPT_VALUE, S_PASSWORD_LENGTH, "length (1-4096, default 32)"},
	{"exclude-characters", PGR_OPT_VALUE, S_EXCLUDE_CHARACTERS, "characters never to use"},
	{"exclude-numbers", PGR_OPT_FLAG, S_EXCLUDE_NUMBERS, "no digits (--no-exclude-numbers: allow)"},
	{"exclude-punctuation", PGR_OPT_FLAG, S_EXCLUDE_PUNCTUATION, "no punctuation"},
	{"exclude-uppercase", PGR_OPT_FLAG, S_EXCLUDE_UPPERCASE, "no uppercase letters"},
	{"exclude-lowercase", PGR_OPT_FLAG, S_EXCLUDE_LOWERCASE, "no lowercase letters"},
	{"include-space", PGR_OPT_FLAG, S_INCLUDE_SPACE, "allow the space character"},
	{"require-each-included-type", PGR_OPT_FLAG, S_REQUIRE_EACH, "at least one of each allowed type"},
	{NULL, 0, 0, NULL}
};

/* Callback for pgr_cli_parse: store one secret-command option. */
static int
secret_option(void *ctx, int id, const char *value, bool negated, pgr_error *err)
{
	secret_args *a = ctx;
	long		n;

	switch (id)
	{
		case S_SECRET_ID:
			a->secret_id = value;
			break;
		case S_VERSION_ID:
			a->version_id = value;
			break;
		case S_VERSION_STAGE:
			a->version_stage = value;
			break;
		case S_SECRET_STRING:
			a->secret_string_arg = value;
			break;
		case S_CLIENT_REQUEST_TOKEN:
			a->client_request_token = value;
			break;
		case S_VERSION_STAGES:
			if (a->nstages >= MAX_STAGES)
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "too many --version-stages (at most %d)",
							  MAX_STAGES);
				return -1;
			}
			a->version_stages[a->nstages++] = value;
			break;
		case S_ROTATION_TOKEN:
			a->rotation_token = value;
			break;
		case S_MOVE_TO:
			a->move_to = value;
			break;
		case S_REMOVE_FROM:
			a->remove_from = value;
			break;
		case S_PASSWORD_LENGTH:
			if (pgr_cli_parse_long("password-length", value, 1, 4096, &n, err) != 0)
				return -1;
			a->pw.password_length = n;
			break;
		case S_EXCLUDE_CHARACTERS:
			a->pw.exclude_characters = value;
			break;
		case S_EXCLUDE_NUMBERS:
			a->pw.exclude_numbers = !negated;
			a->pw.exclude_numbers_set = true;
			break;
		case S_EXCLUDE_PUNCTUATION:
			a->pw.exclude_punctuation = !negated;
			a->pw.exclude_punctuation_set = true;
			break;
		case S_EXCLUDE_UPPERCASE:
			a->pw.exclude_uppercase = !negated;
			a->pw.exclude_uppercase_set = true;
			break;
		case S_EXCLUDE_LOWERCASE:
			a->pw.exclude_lowercase = !negated;
			a->pw.exclude_lowercase_set = true;
			break;
		case S_INCLUDE_SPACE:
			a->pw.include_space = !negated;
			a->pw.include_space_set = true;
			break;
		case S_REQUIRE_EACH:
			a->pw.require_each_included_type = !negated;
			a->pw.require_each_included_type_set = true;
			break;
	}
	return 0;
}

/*
 * The value of --secret-string: "file://PATH" reads the file, "-" reads
 * standard input (so the secret is not in argv, where ps shows it); any
 * other text is the value itself, with a warning. Returns a malloc'd
 * string to free with pgr_free_secret, or NULL with err filled.
 */
static char *
read_secret_string(const char *arg, pgr_error *err)
{
	pgr_buf		b;
	FILE	   *f = NULL;
	char		chunk[4096];
	size_t		n;
	const char *path = NULL;

	pgr_buf_init(&b, SM_MAX_SECRET_SIZE);
	if (strncmp(arg, "file://", 7) == 0)
	{
		path = arg + 7;
		f = fopen(path, "rb");
		if (!f)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "could not open \"%s\": %s", path,
						  strerror(errno));
			return NULL;
		}
	}
	else if (strcmp(arg, "-") == 0)
		f = stdin;
	else
	{
		pgr_log_warning("a secret given on the command line is visible to other users (ps); use --secret-string file://PATH or -");
		pgr_buf_puts(&b, arg);
	}
	if (f)
	{
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (!pgr_buf_append(&b, chunk, n))
				break;
		pgr_wipe(chunk, sizeof(chunk));
		if (f != stdin)
			fclose(f);
	}
	if (b.overflow)
	{
		pgr_buf_free(&b);
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "the secret value is larger than Secrets Manager's %d-byte limit",
					  SM_MAX_SECRET_SIZE);
		return NULL;
	}
	return pgr_buf_detach(&b);
}

/* Print a response as JSON on stdout, then wipe the printed copy. */
static void
print_json(json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
												   JSON_C_TO_STRING_SPACED |
												   JSON_C_TO_STRING_NOSLASHESCAPE);

	if (s)
	{
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		pgr_wipe((char *) s, strlen(s));
	}
}

typedef struct secret_subcommand
{
	const char *name;
	const pgr_option *options;
	const char *summary;
} secret_subcommand;

static const secret_subcommand secret_subcommands[] = {
	{"get", get_options, "GetSecretValue: print a version's value"},
	{"describe", describe_options, "DescribeSecret: print the secret's metadata and versions"},
	{"put", put_options, "PutSecretValue: store a new version"},
	{"stage", stage_options, "UpdateSecretVersionStage: move a staging label"},
	{"random-password", random_options, "GetRandomPassword: print a generated password"},
	{NULL, NULL, NULL}
};

static void
secret_usage(FILE *out, const secret_subcommand *only)
{
	for (const secret_subcommand *s = secret_subcommands; s->name; s++)
	{
		if (only && only != s)
			continue;
		fprintf(out, "pg_rotate secret %s [options]\n  %s\n\nOptions:\n", s->name, s->summary);
		pgr_cli_print_options(out, s->options);
		fprintf(out, "\n");
	}
	fprintf(out, "Shared options:\n");
	pgr_cli_print_options(out, pgr_common_option_table);
}

static int
require(const char *value, const char *option, pgr_error *err)
{
	if (value && *value)
		return 0;
	pgr_error_set(err, PGR_ERR_USAGE, NULL, "option --%s is required", option);
	pgr_error_hint(err, "See \"pg_rotate secret --help\".");
	return -1;
}

/* Exit status for an error record. */
static int
exit_code(const pgr_error *err)
{
	return err->errclass == PGR_ERR_USAGE ? PGR_EXIT_USAGE : PGR_EXIT_FAILURE;
}

/*
 * pg_rotate secret get|describe|put|stage|random-password: one Secrets
 * Manager call, its response printed as JSON with the API's field names.
 */
static int
cmd_secret(int argc, char **argv)
{
	pgr_common_options common;
	secret_args a;
	const secret_subcommand *sub = NULL;
	const char *subname;
	pgr_error	err;
	aws_config	cfg;
	bool		have_cfg = false;
	sm_client  *sm = NULL;
	json_object *resp = NULL;
	char	   *secret_string = NULL;
	int			rc = PGR_EXIT_FAILURE;

	memset(&common, 0, sizeof(common));
	memset(&a, 0, sizeof(a));
	pgr_error_clear(&err);

	/* find the subcommand first, to know which options are valid */
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
		{
			for (const secret_subcommand *s = secret_subcommands; s->name; s++)
				if (strcmp(argv[i], s->name) == 0)
					sub = s;
			if (sub || strcmp(argv[i], "secret") != 0)
				break;
		}
	if (pgr_cli_parse(argc, argv, sub ? sub->options : NULL, secret_option, &a,
					  &common, &err) != 0)
	{
		pgr_log_report(&err);
		return PGR_EXIT_USAGE;
	}
	if (common.verbose)
		pgr_log_init("pg_rotate", PGR_LOG_DEBUG);
	subname = common.npositional >= 2 ? common.positional[1] : NULL;
	if (common.help)
	{
		secret_usage(stdout, sub);
		return PGR_EXIT_OK;
	}
	if (!sub || common.npositional != 2)
	{
		if (subname && !sub)
			pgr_log_error("unknown secret command \"%s\"", subname);
		else if (common.npositional > 2)
			pgr_log_error("unexpected argument \"%s\"", common.positional[2]);
		else
			pgr_log_error("missing secret command");
		fprintf(stderr, "Commands: get, describe, put, stage, random-password; see \"pg_rotate secret --help\".\n");
		return PGR_EXIT_USAGE;
	}

	/* check the required options before touching the network */
	if (sub->options != random_options && require(a.secret_id, "secret-id", &err) != 0)
		goto fail;
	if (sub->options == put_options &&
		require(a.secret_string_arg, "secret-string", &err) != 0)
		goto fail;
	if (sub->options == stage_options &&
		(require(a.version_stage, "version-stage", &err) != 0 ||
		 (!a.move_to && !a.remove_from &&
		  require(NULL, "move-to-version-id or --remove-from-version-id", &err) != 0)))
		goto fail;
	if (sub->options == put_options &&
		!(secret_string = read_secret_string(a.secret_string_arg, &err)))
		goto fail;

	if (http_global_init(&err) != 0 ||
		aws_config_load(&common.aws, &cfg, &err) != 0)
		goto fail;
	have_cfg = true;
	if (sm_client_new(&cfg, NULL, &sm, &err) != 0)
		goto fail;

	if (sub->options == get_options)
	{
		if (sm_get_secret_value(sm, a.secret_id, a.version_id, a.version_stage, NULL,
								&resp, &err) != 0)
			goto fail;
	}
	else if (sub->options == describe_options)
	{
		if (sm_describe_secret(sm, a.secret_id, NULL, &resp, &err) != 0)
			goto fail;
	}
	else if (sub->options == put_options)
	{
		sm_put_input in;

		memset(&in, 0, sizeof(in));
		in.secret_id = a.secret_id;
		in.client_request_token = a.client_request_token;
		in.secret_string = secret_string;
		in.version_stages = a.nstages ? a.version_stages : NULL;
		in.nstages = a.nstages;
		in.rotation_token = a.rotation_token;
		if (sm_put_secret_value(sm, &in, NULL, &resp, &err) != 0)
			goto fail;
	}
	else if (sub->options == stage_options)
	{
		if (sm_update_secret_version_stage(sm, a.secret_id, a.version_stage, a.move_to,
										   a.remove_from, &resp, &err) != 0)
			goto fail;
	}
	else
	{
		if (sm_get_random_password(sm, &a.pw, NULL, &resp, &err) != 0)
			goto fail;
	}
	print_json(resp);
	rc = PGR_EXIT_OK;
	goto done;

fail:
	pgr_log_report(&err);
	rc = exit_code(&err);
done:
	sm_response_put(resp);
	pgr_free_secret(secret_string);
	sm_client_free(sm);
	if (have_cfg)
		aws_config_free(&cfg);
	return rc;
}

/* ---- dispatch -------------------------------------------------------- */

static void
usage(FILE *out)
{
	fprintf(out,
			"pg_rotate rotates PostgreSQL passwords kept in AWS Secrets Manager.\n\n"
			"Usage:\n"
			"  pg_rotate COMMAND [options]\n"
			"  pg_rotate --help | --version\n\n"
			"Commands:\n");
	for (const command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nShared options:\n");
	pgr_cli_print_options(out, pgr_common_option_table);
	fprintf(out, "\nRun \"pg_rotate COMMAND --help\" for a command's options.\n");
}

/*
 * The command word: the first argument that is neither an option nor the
 * value of a shared option that takes one.
 */
static const char *
find_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (strncmp(arg, "--", 2) == 0)
		{
			if (!strchr(arg, '='))
				for (const pgr_option *o = pgr_common_option_table; o->name; o++)
					if (o->kind != PGR_OPT_FLAG && strcmp(arg + 2, o->name) == 0)
						i++;
			continue;
		}
		if (arg[0] == '-')
			continue;
		return arg;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *name;

	pgr_log_init("pg_rotate", PGR_LOG_INFO);
	/* a Lambda custom runtime is started as "bootstrap", without arguments */
	if (argc == 1 && strcmp(basename(argv[0]), "bootstrap") == 0)
		return cmd_lambda(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--version") == 0)
	{
		printf("pg_rotate %s\n", PGR_VERSION);
		return PGR_EXIT_OK;
	}
	name = find_command(argc, argv);
	if (!name)
	{
		bool		help = false;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
				help = true;
		usage(help ? stdout : stderr);
		return help ? PGR_EXIT_OK : PGR_EXIT_USAGE;
	}
	for (const command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c->run(argc, argv);
	pgr_log_error("unknown command \"%s\"", name);
	usage(stderr);
	return PGR_EXIT_USAGE;
}
