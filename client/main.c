/*-------------------------------------------------------------------------
 *
 * main.c
 *	  The pg_rotate command line: the command table and dispatch.
 *
 * Commands are rows of commands[]; each parses its own options together
 * with the shared ones through pgr_cli_parse() (cli.h), so --region,
 * --endpoint-url, --profile, --verbose, --json and the timeouts behave the
 * same for every command. To add a command, add a row.
 *
 *-------------------------------------------------------------------------
 */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "log.h"
#include "version.h"

/* the release's version, from META.json (client/client.mk) */
#ifndef PGR_VERSION
#error "PGR_VERSION is not defined: build with the top-level Makefile"
#endif

typedef int (*command_fn) (int argc, char **argv);

typedef struct command
{
	const char *name;
	command_fn	run;
	const char *summary;
} command;

static const command commands[] = {
	{"rotate", cmd_rotate, "rotate secrets end to end (like RotateSecret, without a Lambda)"},
	{"step", cmd_step, "run one rotation step, as Secrets Manager invokes it"},
	{"check", cmd_check, "does AWSCURRENT log in? is a rotation pending?"},
	{"lambda", cmd_lambda, "serve AWS Lambda invocations (also: the binary named bootstrap)"},
	{"secret", cmd_secret, "call Secrets Manager: get, describe, put, stage, random-password"},
	{NULL, NULL, NULL}
};

/* ---- dispatch -------------------------------------------------------- */

static void
usage(FILE *out)
{
	fprintf(out,
			"pg_rotate rotates PostgreSQL passwords kept in AWS Secrets Manager.\n\n"
			"Usage:\n"
			"  pg_rotate [shared options] COMMAND [options]\n"
			"  pg_rotate --help | --version\n\n"
			"Commands:\n");
	for (const command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nShared options:\n");
	pgr_cli_print_options(out, pgr_common_option_table);
	fprintf(out, "\nRun \"pg_rotate COMMAND --help\" for a command's options.\n");
}

/*
 * The command word (pgr_cli_word_index): shared options may come before it
 * (pg_rotate --profile prod rotate ...), as with the AWS CLI; the command's
 * parser then reads them with its own. *version is set when --version comes
 * before the command word (or there is none).
 */
static const char *
find_command(int argc, char **argv, bool *version)
{
	int			at = pgr_cli_word_index(argc, argv, 0);

	*version = false;
	for (int i = 1; i < at; i++)
		if (strcmp(argv[i], "--version") == 0)
			*version = true;
	return at < argc ? argv[at] : NULL;
}

/* pg_rotate --version: the program's and its libraries' versions. */
static int
print_version(void)
{
	pgr_buf		text;
	int			rc = PGR_EXIT_OK;

	pgr_buf_init(&text, 0);
	if (pgr_version_describe(PGR_VERSION, &text))
		fputs(text.data, stdout);
	else
	{
		pgr_log_error("out of memory");
		rc = PGR_EXIT_FAILURE;
	}
	pgr_buf_free(&text);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *name;
	bool		version;

	pgr_log_init("pg_rotate", PGR_LOG_INFO);
	/* a Lambda custom runtime is started as "bootstrap", without arguments */
	if (argc == 1 && strcmp(basename(argv[0]), "bootstrap") == 0)
		return cmd_lambda(argc, argv);
	name = find_command(argc, argv, &version);
	if (version)
		return print_version();
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
