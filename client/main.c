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

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "log.h"

#define PGR_VERSION "1.0"

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
