/*-------------------------------------------------------------------------
 *
 * cmd_secret.c
 *	  "pg_rotate secret get|describe|put|stage|random-password": one
 *	  Secrets Manager operation, for scripts, its answer printed as JSON
 *	  with the API's own field names.
 *
 * As in the AWS CLI, each option is one field of the operation's request:
 * a table says which field, of which type, and whether it is required;
 * the request is written from it and sent through the AWS session.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws_session.h"
#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "secret.h"

#define MAX_FIELDS	12
#define MAX_LIST	20

typedef enum field_kind
{
	F_STRING,					/* --x VALUE */
	F_SECRET,					/* --x file://PATH, - or VALUE: a secret value */
	F_LIST,						/* --x V1 V2 ... : an array of strings */
	F_FLAG,						/* --x / --no-x : true / false */
	F_LENGTH					/* --x N : a password length */
} field_kind;

typedef struct field
{
	const char *option;			/* without "--" */
	const char *name;			/* the request's field */
	field_kind	kind;
	bool		required;
	const char *help;
} field;

typedef struct subcommand
{
	const char *name;
	const char *operation;
	const char *what;			/* for messages: "could not <what> ..." */
	const char *summary;
	const char *either[2];		/* at least one of these options, or NULL */
	field		fields[MAX_FIELDS];
} subcommand;

static const subcommand subcommands[] = {
	{"get", "GetSecretValue", "get the value of secret",
		"GetSecretValue: print a version's value", {NULL, NULL}, {
			{"secret-id", "SecretId", F_STRING, true, "name or ARN of the secret (required)"},
			{"version-id", "VersionId", F_STRING, false, "the version's id"},
			{"version-stage", "VersionStage", F_STRING, false, "the version's staging label, e.g. AWSCURRENT"},
	}},
	{"describe", "DescribeSecret", "describe secret",
		"DescribeSecret: print the secret's metadata and versions", {NULL, NULL}, {
			{"secret-id", "SecretId", F_STRING, true, "name or ARN of the secret (required)"},
	}},
	{"put", "PutSecretValue", "store a new value in secret",
		"PutSecretValue: store a new version", {NULL, NULL}, {
			{"secret-id", "SecretId", F_STRING, true, "name or ARN of the secret (required)"},
			{"secret-string", "SecretString", F_SECRET, true, "the value: file://PATH, or - for standard input (required)"},
			{"client-request-token", "ClientRequestToken", F_STRING, false, "idempotency token, becomes the version id"},
			{"version-stages", "VersionStages", F_LIST, false, "staging labels for the new version (default AWSCURRENT)"},
			{"rotation-token", "RotationToken", F_STRING, false, "the RotationToken of a rotation event"},
	}},
	{"stage", "UpdateSecretVersionStage", "move a staging label of secret",
		"UpdateSecretVersionStage: move a staging label",
		{"move-to-version-id", "remove-from-version-id"}, {
			{"secret-id", "SecretId", F_STRING, true, "name or ARN of the secret (required)"},
			{"version-stage", "VersionStage", F_STRING, true, "the staging label to move (required)"},
			{"move-to-version-id", "MoveToVersionId", F_STRING, false, "version to attach the label to"},
			{"remove-from-version-id", "RemoveFromVersionId", F_STRING, false, "version to take the label from"},
	}},
	{"random-password", "GetRandomPassword", "get a random password",
		"GetRandomPassword: print a generated password", {NULL, NULL}, {
			{"password-length", "PasswordLength", F_LENGTH, false, "length (1-4096, default 32)"},
			{"exclude-characters", "ExcludeCharacters", F_STRING, false, "characters never to use"},
			{"exclude-numbers", "ExcludeNumbers", F_FLAG, false, "no digits (--no-exclude-numbers: allow)"},
			{"exclude-punctuation", "ExcludePunctuation", F_FLAG, false, "no punctuation"},
			{"exclude-uppercase", "ExcludeUppercase", F_FLAG, false, "no uppercase letters"},
			{"exclude-lowercase", "ExcludeLowercase", F_FLAG, false, "no lowercase letters"},
			{"include-space", "IncludeSpace", F_FLAG, false, "allow the space character"},
			{"require-each-included-type", "RequireEachIncludedType", F_FLAG, false, "at least one of each allowed type"},
	}},
	{NULL, NULL, NULL, NULL, {NULL, NULL}, {{NULL, NULL, 0, false, NULL}}}
};

/* What the command line gave each field of the subcommand. */
typedef struct given
{
	const subcommand *sub;
	pgr_option	options[MAX_FIELDS + 1];	/* the fields as pgr_cli_parse wants them */
	const char *value[MAX_FIELDS];	/* F_STRING, F_SECRET, F_LENGTH */
	const char *list[MAX_FIELDS][MAX_LIST];
	int			nlist[MAX_FIELDS];
	bool		set[MAX_FIELDS];
	bool		flag[MAX_FIELDS];
} given;

/* The option table of sub's fields, for pgr_cli_parse and --help. */
static void
build_options(const subcommand *sub, pgr_option *options)
{
	int			n = 0;

	for (const field *f = sub->fields; n < MAX_FIELDS && f->option; f++, n++)
	{
		options[n].name = f->option;
		options[n].kind = f->kind == F_FLAG ? PGR_OPT_FLAG :
			f->kind == F_LIST ? PGR_OPT_LIST : PGR_OPT_VALUE;
		options[n].id = n;
		options[n].help = f->help;
	}
	memset(&options[n], 0, sizeof(options[n]));
}

/* Callback for pgr_cli_parse: record one field's option. */
static int
field_option(void *ctx, int id, const char *value, bool negated, pgr_error *err)
{
	given	   *g = ctx;
	const field *f = &g->sub->fields[id];
	long		n;

	g->set[id] = true;
	switch (f->kind)
	{
		case F_FLAG:
			g->flag[id] = !negated;
			break;
		case F_LIST:
			if (g->nlist[id] >= MAX_LIST)
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "too many --%s (at most %d)",
							  f->option, MAX_LIST);
				return -1;
			}
			g->list[id][g->nlist[id]++] = value;
			break;
		case F_LENGTH:
			if (pgr_cli_parse_long(f->option, value, 1, SECRET_MAX_PASSWORD_LEN, &n, err) != 0)
				return -1;
			g->value[id] = value;
			break;
		case F_STRING:
		case F_SECRET:
			g->value[id] = value;
			break;
	}
	return 0;
}

/* The field for an option name, or -1. */
static int
field_index(const subcommand *sub, const char *option)
{
	for (int i = 0; i < MAX_FIELDS && sub->fields[i].option; i++)
		if (strcmp(sub->fields[i].option, option) == 0)
			return i;
	return -1;
}

/* Refuse a request that lacks a required option, before the network. */
static int
check_required(const given *g, pgr_error *err)
{
	const subcommand *sub = g->sub;
	const char *missing = NULL;
	char		either[128];

	for (int i = 0; !missing && i < MAX_FIELDS && sub->fields[i].option; i++)
		if (sub->fields[i].required && (!g->value[i] || !g->value[i][0]))
			missing = sub->fields[i].option;
	if (!missing && sub->either[0] && !g->set[field_index(sub, sub->either[0])] &&
		!g->set[field_index(sub, sub->either[1])])
	{
		snprintf(either, sizeof(either), "%s or --%s", sub->either[0], sub->either[1]);
		missing = either;
	}
	if (!missing)
		return 0;
	pgr_error_set(err, PGR_ERR_USAGE, NULL, "option --%s is required", missing);
	pgr_error_hint(err, "See \"pg_rotate secret --help\".");
	return -1;
}

/*
 * The value of a secret option: "file://PATH" reads the file, "-" reads
 * standard input (so that the secret is not in argv, where ps shows it);
 * any other text is the value itself, with a warning. Into *out, a wiping
 * buffer; a read error is an error (a secret cut short is never sent).
 */
static int
read_secret_value(const char *arg, pgr_buf *out, pgr_error *err)
{
	int			rc;

	if (strncmp(arg, "file://", 7) == 0)
	{
		rc = pgr_read_file(arg + 7, SECRET_MAX_JSON_LEN, "secret value file", out, err);
		if (rc == 0)
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "secret value file \"%s\" does not exist",
						  arg + 7);
		rc = rc > 0 ? 0 : -1;
	}
	else if (strcmp(arg, "-") == 0)
		rc = pgr_read_fd(STDIN_FILENO, SECRET_MAX_JSON_LEN, "secret value", "standard input",
						 out, err);
	else
	{
		pgr_log_warning("a secret given on the command line is visible to other users (ps); use --secret-string file://PATH or -");
		pgr_buf_init(out, SECRET_MAX_JSON_LEN);
		rc = pgr_buf_puts(out, arg) ? 0 : -1;
		if (rc < 0 && !out->overflow)
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
	}
	if (rc < 0 && out->overflow)
		pgr_error_set(err, PGR_ERR_USAGE, NULL,
					  "the secret value is larger than Secrets Manager's %d-byte limit",
					  SECRET_MAX_JSON_LEN);
	if (rc == 0 && !json_is_utf8(out->data, out->len))
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "the secret value is not UTF-8 text");
		pgr_error_hint(err, "A SecretString is text; store binary data as SecretBinary.");
		pgr_buf_free(out);
		rc = -1;
	}
	return rc;
}

/*
 * The request: every field given, in the table's order. The secret value
 * is read here, into the body only; both are wiping buffers.
 */
static int
write_request(const given *g, pgr_buf *body, pgr_error *err)
{
	json_writer w;

	pgr_buf_init(body, 0);
	json_writer_init(&w, body, false);
	json_write_begin_object(&w);
	for (int i = 0; i < MAX_FIELDS && g->sub->fields[i].option; i++)
	{
		const field *f = &g->sub->fields[i];
		pgr_buf		secret;

		if (!g->set[i])
			continue;
		json_write_key(&w, f->name);
		switch (f->kind)
		{
			case F_STRING:
				json_write_string(&w, g->value[i]);
				break;
			case F_SECRET:
				if (read_secret_value(g->value[i], &secret, err) != 0)
					return -1;
				json_write_string_len(&w, secret.data, secret.len);
				pgr_buf_free(&secret);
				break;
			case F_LENGTH:
				json_write_int(&w, strtol(g->value[i], NULL, 10));
				break;
			case F_FLAG:
				json_write_bool(&w, g->flag[i]);
				break;
			case F_LIST:
				json_write_begin_array(&w);
				for (int j = 0; j < g->nlist[i]; j++)
					json_write_string(&w, g->list[i][j]);
				json_write_end_array(&w);
				break;
		}
	}
	json_write_end_object(&w);
	if (!json_writer_ok(&w))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	return 0;
}

/* Print the answer as indented JSON on stdout; the printed copy is wiped. */
static void
print_answer(const json_doc *answer)
{
	pgr_buf		text;
	json_writer w;

	pgr_buf_init(&text, 0);
	json_writer_init(&w, &text, true);
	json_write_value(&w, json_root(answer));
	if (json_writer_ok(&w))
	{
		fwrite(text.data, 1, text.len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	pgr_buf_free(&text);
}

static void
usage(FILE *out, const subcommand *only)
{
	for (const subcommand *s = subcommands; s->name; s++)
	{
		pgr_option	options[MAX_FIELDS + 1];

		if (only && only != s)
			continue;
		build_options(s, options);
		fprintf(out, "pg_rotate secret %s [options]\n  %s\n\nOptions:\n", s->name, s->summary);
		pgr_cli_print_options(out, options);
		fprintf(out, "\n");
	}
	fprintf(out, "Shared options:\n");
	pgr_cli_print_options(out, pgr_common_option_table);
}

/*
 * The subcommand named on the command line: the word after "secret", with
 * shared options before either (pgr_cli_word_index).
 */
static const subcommand *
find_subcommand(int argc, char **argv)
{
	int			at = pgr_cli_word_index(argc, argv, 1);

	for (const subcommand *s = subcommands; at < argc && s->name; s++)
		if (strcmp(argv[at], s->name) == 0)
			return s;
	return NULL;
}

/*
 * pg_rotate secret SUBCOMMAND [options]: the options checked and the
 * request written before anything goes out, then one call; the answer is
 * printed, an error reported with its exit status.
 */
int
cmd_secret(int argc, char **argv)
{
	pgr_common_options common;
	given		g;
	pgr_error	err;
	aws_session *session = NULL;
	pgr_buf		body;
	aws_request req = {NULL, NULL, 0, NULL, 0};
	aws_answer	answer = {NULL, NULL};
	const char *subname;
	const char *id;
	char		what[PGR_ERRMSG_LEN / 2];
	int			rc;

	memset(&common, 0, sizeof(common));
	memset(&g, 0, sizeof(g));
	pgr_error_clear(&err);
	pgr_buf_init(&body, 0);

	/* the subcommand first, to know which options are valid */
	g.sub = find_subcommand(argc, argv);
	if (g.sub)
		build_options(g.sub, g.options);
	if (pgr_cli_parse(argc, argv, g.sub ? g.options : NULL, field_option, &g, &common,
					  &err) != 0)
	{
		pgr_log_report(&err);
		return PGR_EXIT_USAGE;
	}
	if (common.verbose)
		pgr_log_init("pg_rotate", PGR_LOG_DEBUG);
	if (common.help)
	{
		usage(stdout, g.sub);
		return PGR_EXIT_OK;
	}
	subname = common.npositional >= 2 ? common.positional[1] : NULL;
	if (!g.sub || common.npositional != 2)
	{
		if (subname && !g.sub)
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "unknown secret command \"%s\"", subname);
		else if (common.npositional > 2)
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "unexpected argument \"%s\"",
						  common.positional[2]);
		else
			pgr_error_set(&err, PGR_ERR_USAGE, NULL, "missing secret command");
		pgr_error_hint(&err, "Commands: get, describe, put, stage, random-password; see \"pg_rotate secret --help\".");
		pgr_log_report(&err);
		return PGR_EXIT_USAGE;
	}

	/* everything that can be refused is refused before the network */
	if (check_required(&g, &err) != 0 || write_request(&g, &body, &err) != 0)
		goto fail;
	id = field_index(g.sub, "secret-id") >= 0 ?
		g.value[field_index(g.sub, "secret-id")] : NULL;
	if (id)
		snprintf(what, sizeof(what), "%s \"%s\"", g.sub->what, id);
	else
		snprintf(what, sizeof(what), "%s", g.sub->what);
	req.operation = g.sub->operation;
	req.body = body.data;
	req.bodylen = body.len;
	if (aws_session_open(&common.aws, &session, &err) != 0 ||
		aws_session_call(session, AWS_SECRETS_MANAGER, &req, what, &answer, &err) != 0)
		goto fail;
	print_answer(answer.json);
	rc = PGR_EXIT_OK;
	goto done;

fail:
	pgr_log_report(&err);
	rc = pgr_error_exit_code(&err);
done:
	aws_answer_free(&answer);
	pgr_buf_free(&body);
	aws_session_close(session);
	return rc;
}
