/*-------------------------------------------------------------------------
 *
 * cli.h
 *	  Command-line parsing shared by every pg_rotate subcommand.
 *
 * Each subcommand declares a table of its own options; pgr_cli_parse()
 * parses those together with the shared ones (--region, --endpoint-url,
 * --profile, --verbose, --json, --connect-timeout, ...) into a
 * pgr_common_options, so the shared options mean the same everywhere and
 * may appear before or after the subcommand's name. Long options only, as
 * "--name value" or "--name=value"; a flag "--x" also has "--no-x"; a list
 * option takes every following word up to the next option (as the AWS
 * CLI's list parameters do) and may be repeated.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGR_CLI_H
#define PGR_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "aws_options.h"
#include "error.h"

typedef enum pgr_opt_kind
{
	PGR_OPT_FLAG,				/* --x / --no-x */
	PGR_OPT_VALUE,				/* --x VALUE */
	PGR_OPT_LIST				/* --x V1 V2 ... */
} pgr_opt_kind;

typedef struct pgr_option
{
	const char *name;			/* without the leading "--" */
	pgr_opt_kind kind;
	int			id;				/* passed to the callback */
	const char *help;			/* one line for --help */
} pgr_option;

/* Called for each subcommand option; value NULL for flags. */
typedef int (*pgr_option_fn) (void *ctx, int id, const char *value, bool negated,
							  pgr_error *err);

typedef struct pgr_common_options
{
	aws_options aws;			/* region, endpoint, profile, timeouts ... */
	bool		verbose;
	bool		json;
	bool		help;
	const char *sslmode;		/* for the database commands */
	const char *sslrootcert;
	const char *positional[8];	/* words that are not options */
	int			npositional;
} pgr_common_options;

extern const pgr_option pgr_common_option_table[];

extern int	pgr_cli_parse(int argc, char **argv, const pgr_option *options,
						  pgr_option_fn fn, void *ctx, pgr_common_options *common,
						  pgr_error *err);
extern int	pgr_cli_parse_long(const char *option, const char *value, long min,
							   long max, long *out, pgr_error *err);
extern int	pgr_cli_word_index(int argc, char **argv, int nth);
extern void pgr_cli_print_options(FILE *out, const pgr_option *options);

#endif							/* PGR_CLI_H */
