/*-------------------------------------------------------------------------
 *
 * cli.c
 *	  The shared command-line parser (see cli.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum
{
	OPT_REGION = 1,
	OPT_ENDPOINT_URL,
	OPT_RDS_ENDPOINT_URL,
	OPT_PROFILE,
	OPT_CA_BUNDLE,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
	OPT_MAX_ATTEMPTS,
	OPT_VERBOSE,
	OPT_JSON,
	OPT_SSLMODE,
	OPT_SSLROOTCERT,
	OPT_HELP
};

const pgr_option pgr_common_option_table[] = {
	{"region", PGR_OPT_VALUE, OPT_REGION, "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile)"},
	{"endpoint-url", PGR_OPT_VALUE, OPT_ENDPOINT_URL, "Secrets Manager endpoint (http:// only for local emulators)"},
	{"rds-endpoint-url", PGR_OPT_VALUE, OPT_RDS_ENDPOINT_URL, "Amazon RDS endpoint (else AWS_ENDPOINT_URL_RDS, AWS_ENDPOINT_URL)"},
	{"profile", PGR_OPT_VALUE, OPT_PROFILE, "named profile of the AWS config and credentials files"},
	{"ca-bundle", PGR_OPT_VALUE, OPT_CA_BUNDLE, "CA certificates to verify TLS peers (else AWS_CA_BUNDLE)"},
	{"connect-timeout", PGR_OPT_VALUE, OPT_CONNECT_TIMEOUT, "seconds to wait for a connection (default 10)"},
	{"cli-connect-timeout", PGR_OPT_VALUE, OPT_CONNECT_TIMEOUT, NULL},
	{"timeout", PGR_OPT_VALUE, OPT_TIMEOUT, "seconds one HTTP request may take (default 60)"},
	{"cli-read-timeout", PGR_OPT_VALUE, OPT_TIMEOUT, NULL},
	{"max-attempts", PGR_OPT_VALUE, OPT_MAX_ATTEMPTS, "attempts per AWS call (else AWS_MAX_ATTEMPTS, default 3)"},
	{"verbose", PGR_OPT_FLAG, OPT_VERBOSE, "log each request (credentials redacted)"},
	{"debug", PGR_OPT_FLAG, OPT_VERBOSE, NULL},
	{"json", PGR_OPT_FLAG, OPT_JSON, "machine-readable output"},
	{"sslmode", PGR_OPT_VALUE, OPT_SSLMODE, "libpq sslmode for database connections"},
	{"sslrootcert", PGR_OPT_VALUE, OPT_SSLROOTCERT, "CA file for database connections"},
	{"help", PGR_OPT_FLAG, OPT_HELP, "show help and exit"},
	{NULL, 0, 0, NULL}
};

/*
 * Parse an integer option value within [min, max]. Returns 0, or -1 with a
 * usage error naming the option.
 */
int
pgr_cli_parse_long(const char *option, const char *value, long min, long max,
				   long *out, pgr_error *err)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || v < min || v > max)
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "invalid value \"%s\" for --%s", value, option);
		pgr_error_hint(err, "Give a whole number from %ld to %ld.", min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static const pgr_option *
find_option(const pgr_option *table, const char *name, size_t len)
{
	if (!table)
		return NULL;
	for (; table->name; table++)
		if (strlen(table->name) == len && strncmp(table->name, name, len) == 0)
			return table;
	return NULL;
}

/* Apply one shared option. */
static int
apply_common(pgr_common_options *c, const pgr_option *o, const char *value,
			 bool negated, pgr_error *err)
{
	long		n;

	switch (o->id)
	{
		case OPT_REGION:
			c->aws.region = value;
			break;
		case OPT_ENDPOINT_URL:
			c->aws.endpoint_url[AWS_SECRETS_MANAGER] = value;
			break;
		case OPT_RDS_ENDPOINT_URL:
			c->aws.endpoint_url[AWS_RDS] = value;
			break;
		case OPT_PROFILE:
			c->aws.profile = value;
			break;
		case OPT_CA_BUNDLE:
			c->aws.ca_bundle = value;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (pgr_cli_parse_long(o->name, value, 1, 3600, &n, err) != 0)
				return -1;
			c->aws.connect_timeout_ms = n * 1000;
			break;
		case OPT_TIMEOUT:
			if (pgr_cli_parse_long(o->name, value, 1, 3600, &n, err) != 0)
				return -1;
			c->aws.timeout_ms = n * 1000;
			break;
		case OPT_MAX_ATTEMPTS:
			if (pgr_cli_parse_long(o->name, value, 1, 20, &n, err) != 0)
				return -1;
			c->aws.max_attempts = (int) n;
			break;
		case OPT_VERBOSE:
			c->verbose = c->aws.verbose = !negated;
			break;
		case OPT_JSON:
			c->json = !negated;
			break;
		case OPT_SSLMODE:
			c->sslmode = value;
			break;
		case OPT_SSLROOTCERT:
			c->sslrootcert = value;
			break;
		case OPT_HELP:
			c->help = true;
			break;
	}
	return 0;
}

/*
 * Parse argv[1..argc-1]: the subcommand's options (handed to fn with ctx)
 * and the shared ones (into *common, which the caller zeroes once). Words
 * that are not options are collected in common->positional. Returns 0, or
 * -1 with a usage error.
 */
int
pgr_cli_parse(int argc, char **argv, const pgr_option *options, pgr_option_fn fn,
			  void *ctx, pgr_common_options *common, pgr_error *err)
{
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *name,
				   *eq;
		const pgr_option *o;
		bool		common_opt = false;
		bool		negated = false;
		size_t		len;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		{
			if (strcmp(arg, "-v") == 0)
			{
				common->verbose = common->aws.verbose = true;
				continue;
			}
			if (strcmp(arg, "-h") == 0)
			{
				common->help = true;
				continue;
			}
			if (arg[0] == '-' && arg[1] != '\0' && strcmp(arg, "--") != 0)
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "unknown option \"%s\"", arg);
				pgr_error_hint(err, "Options are long: --name value. See --help.");
				return -1;
			}
			if (common->npositional >= (int) (sizeof(common->positional) / sizeof(char *)))
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "too many arguments, starting at \"%s\"", arg);
				return -1;
			}
			common->positional[common->npositional++] = arg;
			continue;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t) (eq - name) : strlen(name);
		o = find_option(options, name, len);
		if (!o && (o = find_option(pgr_common_option_table, name, len)))
			common_opt = true;
		if (!o && len > 3 && strncmp(name, "no-", 3) == 0)
		{
			o = find_option(options, name + 3, len - 3);
			if (!o && (o = find_option(pgr_common_option_table, name + 3, len - 3)))
				common_opt = true;
			if (o && o->kind != PGR_OPT_FLAG)
				o = NULL;
			negated = o != NULL;
		}
		if (!o)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "unknown option \"--%.*s\"", (int) len, name);
			pgr_error_hint(err, "See --help for the options of this command.");
			return -1;
		}
		if (o->kind == PGR_OPT_FLAG)
		{
			if (eq)
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "option \"--%s\" takes no value", o->name);
				return -1;
			}
			if (common_opt ? apply_common(common, o, NULL, negated, err) :
				fn(ctx, o->id, NULL, negated, err))
				return -1;
			continue;
		}
		if (!eq && i + 1 >= argc)
		{
			pgr_error_set(err, PGR_ERR_USAGE, NULL, "option \"--%s\" needs a value", o->name);
			return -1;
		}
		if (o->kind == PGR_OPT_VALUE || eq)
		{
			const char *value = eq ? eq + 1 : argv[++i];

			if (common_opt ? apply_common(common, o, value, false, err) :
				fn(ctx, o->id, value, false, err))
				return -1;
			continue;
		}
		/* a list: every following word up to the next option */
		{
			int			taken = 0;

			while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
			{
				if (fn(ctx, o->id, argv[++i], false, err))
					return -1;
				taken++;
			}
			if (taken == 0)
			{
				pgr_error_set(err, PGR_ERR_USAGE, NULL, "option \"--%s\" needs a value", o->name);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Where the nth word is (0: the command, 1: its subcommand): the nth
 * argument that is neither an option nor the value of a shared option that
 * takes one, so that shared options may come before the command and between
 * it and its subcommand, as with the AWS CLI. Returns its index in argv, or
 * argc when there is none.
 */
int
pgr_cli_word_index(int argc, char **argv, int nth)
{
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (strncmp(arg, "--", 2) == 0)
		{
			const pgr_option *o = strchr(arg, '=') ? NULL :
				find_option(pgr_common_option_table, arg + 2, strlen(arg + 2));

			if (o && o->kind != PGR_OPT_FLAG)
				i++;
		}
		else if (arg[0] != '-' && nth-- == 0)
			return i;
	}
	return argc;
}

/* Print an option table for --help (entries without help are aliases). */
void
pgr_cli_print_options(FILE *out, const pgr_option *options)
{
	for (; options && options->name; options++)
	{
		char		left[64];

		if (!options->help)
			continue;
		snprintf(left, sizeof(left), "--%s%s", options->name,
				 options->kind == PGR_OPT_VALUE ? " VALUE" :
				 options->kind == PGR_OPT_LIST ? " VALUE..." : "");
		fprintf(out, "  %-30s %s\n", left, options->help);
	}
}
