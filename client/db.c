/*-------------------------------------------------------------------------
 *
 * db.c
 *	  libpq: connections from secrets, SCRAM verifiers, and the calls into
 *	  the pg_rotate extension.
 *
 * How the verifier reaches the server. A SCRAM verifier is not the password,
 * but it is derived from it (an offline guessing target), and no trace of
 * the password may reach the server log. With log_statement = 'all' (or
 * log_min_duration_statement = 0) the server logs every extended-protocol
 * execution together with "DETAIL: parameters: $1 = '...'" unless
 * log_parameter_max_length is 0, and that setting can only be changed by a
 * superuser (or a role granted SET on it). Statement text is logged too,
 * so a literal is no better. COPY data, however, is never logged. So the
 * verifier is copied into a temporary table (ON COMMIT DROP) with
 * COPY ... FROM STDIN, and the function is called with a subquery reading it,
 * all in one transaction:
 *
 *	BEGIN; CREATE TEMP TABLE pg_rotate_stash (...) ON COMMIT DROP
 *	COPY pg_temp.pg_rotate_stash FROM STDIN		-- role and verifier
 *	SELECT rotate.set_password(s.role_name, s.verifier, $1, $2) FROM ...
 *	COMMIT
 *
 * If the admin role may not create temporary tables, the verifier is sent
 * as a bind parameter only when log_parameter_max_length is already 0 for
 * the session (e.g. ALTER ROLE rotator SET log_parameter_max_length = 0, run
 * by a superuser); otherwise the call is refused with a hint.
 *
 * The audit log's anchor. A rotation's last event and rotate.audit_anchor()
 * travel together in libpq's pipeline mode (db_log_event_and_anchor), so the
 * anchor costs no round trip; check --audit reads the log's verdict or its
 * rows (db_verify_audit_log, db_read_audit_log).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "buf.h"
#include "db.h"
#include "clock.h"
#include "log.h"
#include "scram.h"

#define STASH_CREATE \
	"BEGIN; CREATE TEMP TABLE pg_rotate_stash " \
	"(role_name text NOT NULL, verifier text NOT NULL) ON COMMIT DROP"
#define STASH_COPY		"COPY pg_temp.pg_rotate_stash (role_name, verifier) FROM STDIN"

#define SET_PASSWORD_STASHED \
	"SELECT rotate.set_password(s.role_name::pg_catalog.name, s.verifier, $1, $2) " \
	"FROM pg_temp.pg_rotate_stash s"
#define SET_PASSWORD_PARAMS \
	"SELECT rotate.set_password($1::pg_catalog.name, $2, $3, $4)"
#define LOG_EVENT_SQL \
	"SELECT rotate.log_event($1::pg_catalog.name, $2, $3, $4, $5::pg_catalog.jsonb)"
#define AUDIT_ANCHOR_SQL	"SELECT rotate.audit_anchor()"

/*
 * The audit log's rows as rotate.audit_row_hash() serializes them, in
 * audit_field's order, then row_hash (see extension/audit.c's header).
 */
#define READ_AUDIT_LOG_SQL \
	"SELECT a.id::pg_catalog.text, " \
	"pg_catalog.to_char(a.logged_at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " \
	"a.actor::pg_catalog.text, a.target::pg_catalog.text, a.event, a.secret_id, " \
	"a.version_id, a.client_addr::pg_catalog.text, a.application_name, " \
	"a.detail::pg_catalog.text, a.prev_hash, a.row_hash " \
	"FROM rotate.audit_log a ORDER BY a.id"

/*
 * The --no-extension path. The ALTER ROLE runs inside PL/pgSQL (statements
 * run by EXECUTE are not logged by log_statement), and its error is re-raised
 * without the CONTEXT line, which would quote the statement and the verifier.
 */
#define ALTER_ROLE_STASHED \
	"DO $pg_rotate$\n" \
	"DECLARE\n" \
	"  r record;\n" \
	"BEGIN\n" \
	"  SELECT role_name, verifier INTO STRICT r FROM pg_temp.pg_rotate_stash;\n" \
	"  BEGIN\n" \
	"    EXECUTE pg_catalog.format('ALTER ROLE %I PASSWORD %L', r.role_name, r.verifier);\n" \
	"  EXCEPTION WHEN OTHERS THEN\n" \
	"    RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM;\n" \
	"  END;\n" \
	"END\n" \
	"$pg_rotate$"

/* Drop libpq notices into the debug log (sanitized there), never stderr. */
static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	pgr_log_debug("server notice: %s", message);
}

/*
 * Put libpq's message in err's detail on one line: newlines become spaces
 * and trailing whitespace goes. libpq never includes a password in it.
 */
static void
set_libpq_detail(pgr_error *err, const char *msg)
{
	char		line[PGR_ERRMSG_LEN];
	size_t		n = 0;

	if (!err || !msg)
		return;
	for (const char *p = msg; *p && n + 1 < sizeof(line); p++)
		line[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	pgr_error_detail(err, "%s", line);
}

/*
 * Fill err from a failed result: the server's SQLSTATE, primary message,
 * detail and hint, behind the caller's "what" ("could not ..."). Falls back
 * to the connection's message when there is no result.
 */
static void
set_result_error(pgr_error *err, PGconn *conn, const PGresult *res,
				 const char *what)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

	if (primary)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, sqlstate, "%s: %s", what, primary);
		if (detail)
			pgr_error_detail(err, "%s", detail);
		if (hint)
			pgr_error_hint(err, "%s", hint);
	}
	else
	{
		pgr_error_set(err, PGR_ERR_DATABASE, sqlstate, "%s", what);
		set_libpq_detail(err, conn ? PQerrorMessage(conn) : "no connection");
	}
}

/* Defaults: everything from the secret, TLS chosen by db_effective_sslmode. */
void
db_options_init(db_options *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/*
 * The sslmode a connection with these options uses, and (through
 * *sslrootcert, may be NULL) the CA file that goes with it: the explicit
 * option wins, then $PGSSLROOTCERT, then the secret's "sslrootcert". With a
 * CA the mode is verify-full, without one require.
 */
const char *
db_effective_sslmode(const pgr_secret *s, const db_options *opts,
					 const char **sslrootcert)
{
	const char *ca = NULL;

	if (opts && opts->sslrootcert && opts->sslrootcert[0])
		ca = opts->sslrootcert;
	else if (getenv("PGSSLROOTCERT") && getenv("PGSSLROOTCERT")[0])
		ca = getenv("PGSSLROOTCERT");
	else if (s && secret_sslrootcert(s))
		ca = secret_sslrootcert(s);
	if (sslrootcert)
		*sslrootcert = ca;
	if (opts && opts->sslmode && opts->sslmode[0])
		return opts->sslmode;
	return ca ? "verify-full" : "require";
}

/* Is mode one we accept? allow/prefer could silently use plaintext. */
static bool
sslmode_is_allowed(const char *mode)
{
	return strcmp(mode, "disable") == 0 || strcmp(mode, "require") == 0 ||
		strcmp(mode, "verify-ca") == 0 || strcmp(mode, "verify-full") == 0;
}

/*
 * Where a connection goes, in libpq's keywords: host (what TLS verifies),
 * hostaddr (what is dialled, from --resolve; "" when DNS decides) and port,
 * one list item per address.
 */
typedef struct dial_target
{
	const char *host;
	int			port;
	char		hosts[(RESOLVE_HOST_LEN + 1) * RESOLVE_MAX_ADDRS];
	char		hostaddrs[(RESOLVE_ADDR_LEN + 1) * RESOLVE_MAX_ADDRS];
	char		ports[8 * RESOLVE_MAX_ADDRS];
} dial_target;

/*
 * The host and port of a connection: the options' (a proof made elsewhere
 * than the secret's host, the admin's writer) else the secret's, and what
 * --resolve says to dial for them. False when there is no host at all.
 */
static bool
dial_target_for(const pgr_secret *s, const db_options *opts, dial_target *d)
{
	const resolve_entry *e;
	int			naddrs;

	memset(d, 0, sizeof(*d));
	d->host = opts && opts->host ? opts->host : secret_host(s);
	d->port = opts && opts->host ? opts->port : secret_port(s);
	if (!d->host)
		return false;
	e = resolve_map_lookup(opts ? opts->resolve : NULL, d->host, d->port);
	naddrs = e ? e->naddrs : 1;
	for (int i = 0; i < naddrs; i++)
	{
		size_t		h = strlen(d->hosts),
					a = strlen(d->hostaddrs),
					p = strlen(d->ports);

		snprintf(d->hosts + h, sizeof(d->hosts) - h, "%s%s", i ? "," : "", d->host);
		snprintf(d->ports + p, sizeof(d->ports) - p, "%s%d", i ? "," : "", d->port);
		if (e)
			snprintf(d->hostaddrs + a, sizeof(d->hostaddrs) - a, "%s%s", i ? "," : "",
					 e->addrs[i]);
	}
	return true;
}

/*
 * Connect with the secret's credentials, to the options' host or else the
 * secret's (dialling what --resolve says for it). On success *out is an
 * open connection the caller closes with db_disconnect(). On failure err
 * says which host, port, database and role, with libpq's message as
 * detail; the code is 28P01 when the server refused the password, else
 * 08001.
 */
int
db_connect(const pgr_secret *s, const db_options *opts, PGconn **out,
		   pgr_error *err)
{
	const char *keywords[13];
	const char *values[13];
	dial_target dial;
	char		timeout[16];
	const char *ca = NULL;
	const char *sslmode;
	const char *dbname;
	int			n = 0;
	PGconn	   *conn;

	if (!s || !out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "db_connect called without a secret");
		return -1;
	}
	if (!dial_target_for(s, opts, &dial))
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL, "secret for role \"%s\" names no host",
					  secret_username(s));
		pgr_error_hint(err, "Add a \"host\" key to the secret.");
		return -1;
	}
	sslmode = db_effective_sslmode(s, opts, &ca);
	if (!sslmode_is_allowed(sslmode))
	{
		pgr_error_set(err, PGR_ERR_USAGE, NULL, "sslmode \"%s\" is not supported", sslmode);
		pgr_error_detail(err, "Modes \"allow\" and \"prefer\" may fall back to an "
						 "unencrypted connection without saying so.");
		pgr_error_hint(err, "Use \"require\", \"verify-ca\" or \"verify-full\", "
					   "or \"disable\" to ask for no encryption.");
		return -1;
	}
	dbname = (opts && opts->dbname) ? opts->dbname : secret_dbname(s);
	snprintf(timeout, sizeof(timeout), "%d",
			 (opts && opts->connect_timeout > 0) ? opts->connect_timeout
			 : DB_DEFAULT_CONNECT_TIMEOUT);

	keywords[n] = "host", values[n++] = dial.hosts;
	if (dial.hostaddrs[0])
		keywords[n] = "hostaddr", values[n++] = dial.hostaddrs;
	keywords[n] = "port", values[n++] = dial.ports;
	keywords[n] = "dbname", values[n++] = dbname;
	keywords[n] = "user", values[n++] = secret_username(s);
	keywords[n] = "password", values[n++] = secret_password(s);
	keywords[n] = "sslmode", values[n++] = sslmode;
	if (ca && strcmp(sslmode, "disable") != 0)
		keywords[n] = "sslrootcert", values[n++] = ca;
	keywords[n] = "connect_timeout", values[n++] = timeout;
	keywords[n] = "application_name", values[n++] = DB_APPLICATION_NAME;
	keywords[n] = "client_encoding", values[n++] = "UTF8";
	keywords[n] = NULL, values[n] = NULL;

	/* expand_dbname = 0: dbname is a name, never a conninfo string */
	conn = PQconnectdbParams(keywords, values, 0);
	if (!conn)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = PQerrorMessage(conn);
		bool		auth = strstr(msg, "password authentication failed") != NULL;

		pgr_error_set(err, PGR_ERR_DATABASE, auth ? "28P01" : "08001",
					  "could not connect to database \"%s\" at %s:%d%s%s%s as role \"%s\"",
					  dbname, dial.host, dial.port, dial.hostaddrs[0] ? " (dialled " : "",
					  dial.hostaddrs, dial.hostaddrs[0] ? ")" : "", secret_username(s));
		set_libpq_detail(err, msg);
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, notice_processor, NULL);
	*out = conn;
	return 0;
}

/* Close a connection; NULL is allowed. libpq wipes its copy of the password. */
void
db_disconnect(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

/*
 * Log in with the secret's credentials over the same path db_connect() uses
 * and run "SELECT 1". *elapsed_ms (may be NULL) gets the time from the start
 * of the connection to the answer, also on failure. Errors as db_connect().
 */
int
db_login_test(const pgr_secret *s, const db_options *opts, double *elapsed_ms,
			  pgr_error *err)
{
	double		t0 = pgr_now_ms();
	PGconn	   *conn = NULL;
	PGresult   *res = NULL;
	int			rc = -1;

	if (db_connect(s, opts, &conn, err) < 0)
		goto cleanup;
	res = PQexec(conn, "SELECT 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		strcmp(PQgetvalue(res, 0, 0), "1") != 0)
	{
		set_result_error(err, conn, res, "check query failed");
		goto cleanup;
	}
	rc = 0;

cleanup:
	if (elapsed_ms)
		*elapsed_ms = pgr_now_ms() - t0;
	PQclear(res);
	db_disconnect(conn);
	return rc;
}

/*
 * Copy a libpq-allocated secret into malloc'd memory, wiping and freeing
 * the original. Returns NULL when out of memory (the original is gone).
 */
static char *
take_libpq_secret(char *s)
{
	char	   *copy = strdup(s);

	pgr_wipe(s, strlen(s));
	PQfreemem(s);
	return copy;
}

/*
 * Compute the SCRAM-SHA-256 verifier for user's password on the client.
 * With a connection, libpq's PQencryptPasswordConn does it (it applies
 * SASLprep and the iteration count the server reported). Without one, an
 * ASCII password is handled by scram.c with OpenSSL (SASLprep leaves ASCII
 * unchanged), and any other password by libpq through an unconnected PGconn
 * object, so a verifier can be prepared before any connection exists.
 * On success *out is owned by the caller: release it with pgr_free_secret().
 */
int
db_scram_verifier(PGconn *conn, const char *user, const char *password,
				  char **out, pgr_error *err)
{
	PGconn	   *scratch = NULL;
	char	   *enc;
	char	   *verifier = NULL;

	if (!user || !password || !out)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "db_scram_verifier called without input");
		return -1;
	}
	if (!conn && scram_password_is_ascii(password))
		return scram_make_verifier(password, out, err);

	if (!conn)
	{
		/* a conninfo error gives a PGconn object without any network I/O */
		scratch = PQconnectdb("pg_rotate_no_connection=1");
		if (!scratch)
		{
			pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
			return -1;
		}
		conn = scratch;
	}
	enc = PQencryptPasswordConn(conn, password, user, "scram-sha-256");
	if (!enc)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "could not compute a SCRAM-SHA-256 verifier");
		set_libpq_detail(err, PQerrorMessage(conn));
		PQfinish(scratch);
		return -1;
	}
	PQfinish(scratch);
	verifier = take_libpq_secret(enc);
	if (!verifier)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		return -1;
	}
	if (!scram_verifier_is_valid(verifier))
	{
		pgr_free_secret(verifier);
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "libpq returned something that is not a SCRAM-SHA-256 verifier");
		return -1;
	}
	*out = verifier;
	return 0;
}

/*
 * Is the pg_rotate extension installed in the connection's database, and
 * (*has_anchor, may be NULL) does it have rotate.audit_anchor(), which 1.0
 * has not? One query answers both.
 */
int
db_has_extension(PGconn *conn, bool *out, bool *has_anchor, pgr_error *err)
{
	PGresult   *res;

	res = PQexec(conn,
				 "SELECT pg_catalog.count(*), "
				 "pg_catalog.to_regprocedure('rotate.audit_anchor()') IS NOT NULL "
				 "FROM pg_catalog.pg_extension "
				 "WHERE extname OPERATOR(pg_catalog.=) 'pg_rotate'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		set_result_error(err, conn, res, "could not look for the pg_rotate extension");
		PQclear(res);
		return -1;
	}
	*out = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	if (has_anchor)
		*has_anchor = *out && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return 0;
}

/* A role name pg_rotate will send: 1 to 63 bytes (longer would be truncated). */
static int
check_role_name(const char *role, pgr_error *err)
{
	size_t		len = role ? strlen(role) : 0;

	if (len == 0 || len > SECRET_MAX_USERNAME_LEN)
	{
		pgr_error_set(err, PGR_ERR_INPUT, NULL,
					  "role name must have 1 to %d bytes", SECRET_MAX_USERNAME_LEN);
		return -1;
	}
	return 0;
}

/* Append s to buf escaped for COPY's text format. */
static bool
copy_escape(pgr_buf *buf, const char *s)
{
	bool		ok = true;

	for (const char *p = s; ok && *p; p++)
	{
		switch (*p)
		{
			case '\\':
				ok = pgr_buf_puts(buf, "\\\\");
				break;
			case '\t':
				ok = pgr_buf_puts(buf, "\\t");
				break;
			case '\n':
				ok = pgr_buf_puts(buf, "\\n");
				break;
			case '\r':
				ok = pgr_buf_puts(buf, "\\r");
				break;
			default:
				ok = pgr_buf_putc(buf, *p);
				break;
		}
	}
	return ok;
}

/* Run a command that returns no rows; fill err on failure. */
static int
exec_command(PGconn *conn, const char *sql, const char *what, pgr_error *err)
{
	PGresult   *res = PQexec(conn, sql);
	int			rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		set_result_error(err, conn, res, what);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Roll back whatever transaction is open, ignoring errors. */
static void
rollback_quietly(PGconn *conn)
{
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
}

/*
 * The end of a command that may have opened a transaction: its result
 * cleared and, when it failed (rc < 0), the transaction rolled back.
 * Returns rc.
 */
static int
end_command(PGconn *admin, PGresult *res, int rc)
{
	PQclear(res);
	if (rc < 0)
		rollback_quietly(admin);
	return rc;
}

/*
 * Open a transaction and put (role, verifier) into the temporary table
 * pg_temp.pg_rotate_stash with COPY, whose data the server never logs.
 * On failure the transaction is rolled back; *no_temp is set when the role
 * may not create temporary tables (SQLSTATE 42501).
 */
static int
stash_verifier(PGconn *conn, const char *role, const char *verifier,
			   bool *no_temp, pgr_error *err)
{
	PGresult   *res = NULL;
	pgr_buf		line;
	int			rc = -1;

	*no_temp = false;
	pgr_buf_init(&line, 0);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "cannot change a password inside an open transaction");
		return -1;
	}
	res = PQexec(conn, STASH_CREATE);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		*no_temp = state && strcmp(state, "42501") == 0;
		set_result_error(err, conn, res, "could not create a temporary table");
		goto cleanup;
	}
	PQclear(res);

	res = PQexec(conn, STASH_COPY);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		set_result_error(err, conn, res, "could not start COPY");
		goto cleanup;
	}
	PQclear(res);
	res = NULL;

	if (!copy_escape(&line, role) || !pgr_buf_putc(&line, '\t') ||
		!copy_escape(&line, verifier) || !pgr_buf_putc(&line, '\n'))
	{
		PQputCopyEnd(conn, "out of memory");
		PQclear(PQgetResult(conn));
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "out of memory");
		goto cleanup;
	}
	if (PQputCopyData(conn, line.data, (int) line.len) != 1 ||
		PQputCopyEnd(conn, NULL) != 1)
	{
		set_result_error(err, conn, NULL, "could not send COPY data");
		goto cleanup;
	}
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		set_result_error(err, conn, res, "could not copy into the temporary table");
		goto cleanup;
	}
	rc = 0;

cleanup:
	PQclear(res);
	/* drain anything left, as libpq requires before the next command */
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	pgr_buf_free(&line);
	if (rc < 0)
		rollback_quietly(conn);
	return rc;
}

/* Is log_parameter_max_length 0 in this session (bind values not logged)? */
static bool
parameters_not_logged(PGconn *conn)
{
	PGresult   *res;
	bool		quiet;

	res = PQexec(conn, "SELECT pg_catalog.current_setting('log_parameter_max_length')");
	quiet = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "0") == 0;
	PQclear(res);
	return quiet;
}

/* Parse a bigint result; -1 when it is not one. */
static int
parse_bigint(const char *s, long long *out)
{
	char	   *end = NULL;
	long long	v;

	if (!s || !*s)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Run the set_password query res came from; fill *audit_id from its row. */
static int
take_audit_id(PGconn *conn, PGresult *res, const char *what, long long *audit_id,
			  pgr_error *err)
{
	long long	id = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_result_error(err, conn, res, what);
		return -1;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
		parse_bigint(PQgetvalue(res, 0, 0), &id) < 0)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, NULL,
					  "%s: unexpected result from the server", what);
		return -1;
	}
	if (audit_id)
		*audit_id = id;
	return 0;
}

/*
 * Call rotate.set_password() for target_role with verifier, recording
 * secret_id and version_id (either may be NULL) in the audit row, whose id
 * goes to *audit_id (may be NULL), and leave the transaction OPEN: nothing
 * has changed for anyone else until db_commit() (or db_rollback(), or the
 * connection closing, undoes it). This lets a rotation do all the work
 * first and make the commit the one instant the old password stops working.
 * The verifier must be a SCRAM-SHA-256 verifier; it travels by COPY so that
 * the server log never holds it (see the file header). On failure the
 * transaction is rolled back.
 */
int
db_set_password_prepare(PGconn *admin, const char *target_role,
						const char *verifier, const char *secret_id,
						const char *version_id, long long *audit_id,
						pgr_error *err)
{
	char		what[PGR_ERRMSG_LEN];
	PGresult   *res = NULL;
	bool		no_temp = false;
	int			rc = -1;

	if (!admin || check_role_name(target_role, err) < 0)
		return -1;
	if (!scram_verifier_is_valid(verifier))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "refusing to send something that is not a SCRAM-SHA-256 verifier");
		return -1;
	}
	snprintf(what, sizeof(what), "could not set the password of role \"%s\"",
			 target_role);

	if (stash_verifier(admin, target_role, verifier, &no_temp, err) == 0)
	{
		const char *params[2] = {secret_id, version_id};

		res = PQexecParams(admin, SET_PASSWORD_STASHED, 2, NULL, params,
						   NULL, NULL, 0);
		if (take_audit_id(admin, res, what, audit_id, err) < 0)
			goto cleanup;
		rc = 0;
	}
	else if (no_temp && parameters_not_logged(admin))
	{
		const char *params[4] = {target_role, verifier, secret_id, version_id};

		if (exec_command(admin, "BEGIN", what, err) < 0)
			goto cleanup;
		res = PQexecParams(admin, SET_PASSWORD_PARAMS, 4, NULL, params,
						   NULL, NULL, 0);
		if (take_audit_id(admin, res, what, audit_id, err) < 0)
			goto cleanup;
		rc = 0;
	}
	else if (no_temp)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, "42501",
					  "%s: cannot pass the verifier without it being logged", what);
		pgr_error_detail(err, "The admin role may not create temporary tables, and "
						 "log_parameter_max_length is not 0, so the server would "
						 "log the verifier as a statement parameter.");
		pgr_error_hint(err, "GRANT TEMPORARY ON DATABASE to the admin role, or have a "
					   "superuser run ALTER ROLE ... SET log_parameter_max_length = 0 "
					   "for it.");
	}
	else
		pgr_error_prefix(err, "%s: ", what);

cleanup:
	return end_command(admin, res, rc);
}

/*
 * Commit the open transaction (the password change of
 * db_set_password_prepare). Fails if the server rolled it back instead.
 */
int
db_commit(PGconn *admin, pgr_error *err)
{
	PGresult   *res = PQexec(admin, "COMMIT");
	int			rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK ||
		strcmp(PQcmdStatus(res), "COMMIT") != 0)
	{
		set_result_error(err, admin, res, "could not commit the password change");
		rc = -1;
	}
	return end_command(admin, res, rc);
}

/* Roll back the open transaction, if any (errors are ignored). */
void
db_rollback(PGconn *admin)
{
	if (admin)
		rollback_quietly(admin);
}

/*
 * db_set_password_prepare() and db_commit() in one: when this returns 0,
 * target_role's password is the one verifier was made from.
 */
int
db_set_password(PGconn *admin, const char *target_role, const char *verifier,
				const char *secret_id, const char *version_id,
				long long *audit_id, pgr_error *err)
{
	long long	id = 0;

	if (db_set_password_prepare(admin, target_role, verifier, secret_id,
								version_id, &id, err) < 0 ||
		db_commit(admin, err) < 0)
		return -1;
	if (audit_id)
		*audit_id = id;
	return 0;
}

/*
 * Take the session-level advisory lock that serializes rotations of
 * target_role in this database: every pg_rotate process rotating that role
 * (one-shot or step by step) takes it on its admin connection before it
 * reads the state it acts on, and holds it until the connection closes, so
 * a process that dies releases it at once. The key is (DB_LOCK_CLASS,
 * hashtext(role)); a hash collision only serializes two unrelated roles.
 * The wait is bounded by DB_LOCK_TIMEOUT, so a hung peer cannot hold a
 * rotation forever. Needs no privilege and no extension.
 */
int
db_lock_role(PGconn *admin, const char *target_role, pgr_error *err)
{
	char		what[PGR_ERRMSG_LEN];
	const char *params[1] = {target_role};
	PGresult   *res = NULL;
	int			rc = -1;

	if (!admin || check_role_name(target_role, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "could not lock the rotation of role \"%s\"",
			 target_role);
	if (exec_command(admin, "BEGIN; SET LOCAL lock_timeout = '" DB_LOCK_TIMEOUT "'",
					 what, err) < 0)
		goto cleanup;
	res = PQexecParams(admin,
					   "SELECT pg_catalog.pg_advisory_lock(" DB_LOCK_CLASS
					   ", pg_catalog.hashtext($1))",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_result_error(err, admin, res, what);
		if (err && strcmp(err->code, "55P03") == 0)
			pgr_error_hint(err, "Another pg_rotate process has been rotating this role for "
						   "over " DB_LOCK_TIMEOUT "; check it, then run again.");
		goto cleanup;
	}
	if (exec_command(admin, "COMMIT", what, err) < 0)
		goto cleanup;
	rc = 0;

cleanup:
	return end_command(admin, res, rc);
}

/*
 * rotate.log_event's parameters and the words of its failure, shared by
 * db_log_event() and db_log_event_and_anchor(). Returns -1 (err set) for
 * arguments that are never sent.
 */
static int
log_event_params(PGconn *admin, const char *target_role, const char *event,
				 const char *secret_id, const char *version_id,
				 const char *detail_json, const char **params, char *what,
				 size_t whatlen, pgr_error *err)
{
	if (!admin || !event || check_role_name(target_role, err) < 0)
		return -1;
	params[0] = target_role;
	params[1] = event;
	params[2] = secret_id;
	params[3] = version_id;
	params[4] = detail_json ? detail_json : "{}";
	snprintf(what, whatlen, "could not record event \"%s\" for role \"%s\"",
			 event, target_role);
	return 0;
}

/*
 * Record a later step of a rotation with rotate.log_event(): event is
 * "tested", "finished", "rolled_back" or "failed"; detail_json a JSON object
 * (NULL for {}). The audit row id goes to *audit_id (may be NULL).
 */
int
db_log_event(PGconn *admin, const char *target_role, const char *event,
			 const char *secret_id, const char *version_id,
			 const char *detail_json, long long *audit_id, pgr_error *err)
{
	const char *params[5];
	PGresult   *res;
	char		what[PGR_ERRMSG_LEN];
	int			rc;

	if (log_event_params(admin, target_role, event, secret_id, version_id, detail_json,
						 params, what, sizeof(what), err) < 0)
		return -1;
	res = PQexecParams(admin, LOG_EVENT_SQL, 5, NULL, params, NULL, NULL, 0);
	rc = take_audit_id(admin, res, what, audit_id, err);
	PQclear(res);
	return rc;
}

/*
 * rotate.audit_anchor()'s answer in res, into anchor (AUDIT_ANCHOR_LEN
 * bytes): "" for an empty log. An answer that is no anchor is an error.
 */
static int
take_anchor(PGconn *conn, PGresult *res, char *anchor, pgr_error *err)
{
	long long	id;
	char		hash[AUDIT_HASH_LEN + 1];

	anchor[0] = '\0';
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_result_error(err, conn, res, "could not read the audit log's anchor");
		return -1;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 1)
	{
		pgr_error_set(err, PGR_ERR_DATABASE, NULL,
					  "could not read the audit log's anchor: unexpected result from the server");
		return -1;
	}
	if (PQgetisnull(res, 0, 0))
		return 0;
	if (audit_anchor_parse(PQgetvalue(res, 0, 0), &id, hash, err) < 0)
	{
		pgr_error_prefix(err, "rotate.audit_anchor() returned an ");
		return -1;
	}
	snprintf(anchor, AUDIT_ANCHOR_LEN, "%s", PQgetvalue(res, 0, 0));
	return 0;
}

/*
 * The audit log's anchor now (rotate.audit_anchor(), extension 1.1 and
 * later), into anchor (AUDIT_ANCHOR_LEN bytes): "" for an empty log.
 */
int
db_audit_anchor(PGconn *conn, char *anchor, pgr_error *err)
{
	PGresult   *res = PQexec(conn, AUDIT_ANCHOR_SQL);
	int			rc = take_anchor(conn, res, anchor, err);

	PQclear(res);
	return rc;
}

/* In pipeline mode: the next query's result, and the NULL that ends it. */
static PGresult *
pipeline_result(PGconn *conn)
{
	PGresult   *res = PQgetResult(conn);
	PGresult   *rest;

	while (res && (rest = PQgetResult(conn)) != NULL)
		PQclear(rest);
	return res;
}

/* In pipeline mode: the result of a Sync. */
static bool
pipeline_synced(PGconn *conn)
{
	PGresult   *res = PQgetResult(conn);
	bool		ok = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;

	PQclear(res);
	return ok;
}

/*
 * Record an event as db_log_event() does and read the audit log's anchor
 * right after it, in one round trip: the two queries travel together in
 * libpq's pipeline mode, each followed by a Sync, so each is a transaction
 * of its own: the anchor's sees the event's row, and when the event is
 * refused (an audited refusal) the anchor is still read. The anchor goes to
 * anchor (AUDIT_ANCHOR_LEN bytes): "" when the log is empty or the anchor
 * could not be read (anchor_err says why then). Returns the event's status
 * (err). The connection must be idle, outside any transaction.
 */
int
db_log_event_and_anchor(PGconn *admin, const char *target_role, const char *event,
						const char *secret_id, const char *version_id,
						const char *detail_json, char *anchor, pgr_error *err,
						pgr_error *anchor_err)
{
	const char *params[5];
	PGresult   *res;
	char		what[PGR_ERRMSG_LEN];
	int			rc;

	anchor[0] = '\0';
	if (log_event_params(admin, target_role, event, secret_id, version_id, detail_json,
						 params, what, sizeof(what), err) < 0)
		return -1;
	if (PQtransactionStatus(admin) != PQTRANS_IDLE || PQenterPipelineMode(admin) != 1)
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL, "%s: the connection is busy", what);
		return -1;
	}
	if (PQsendQueryParams(admin, LOG_EVENT_SQL, 5, NULL, params, NULL, NULL, 0) != 1 ||
		PQpipelineSync(admin) != 1 ||
		PQsendQueryParams(admin, AUDIT_ANCHOR_SQL, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
		PQpipelineSync(admin) != 1)
	{
		set_result_error(err, admin, NULL, what);
		PQexitPipelineMode(admin);
		return -1;
	}
	res = pipeline_result(admin);
	rc = take_audit_id(admin, res, what, NULL, err);
	PQclear(res);
	if (!pipeline_synced(admin))
	{
		pgr_error_set(anchor_err, PGR_ERR_DATABASE, NULL,
					  "could not read the audit log's anchor: the connection failed");
		set_libpq_detail(anchor_err, PQerrorMessage(admin));
		PQexitPipelineMode(admin);
		return rc;
	}
	res = pipeline_result(admin);
	if (take_anchor(admin, res, anchor, anchor_err) < 0)
		anchor[0] = '\0';
	PQclear(res);
	if (!pipeline_synced(admin) || PQexitPipelineMode(admin) != 1)
		pgr_log_debug("the pipeline of the anchor's query did not end cleanly");
	return rc;
}

/*
 * rotate.verify_audit_log(anchor) (anchor NULL: the chain alone), as the
 * server computes it, into *out.
 */
int
db_verify_audit_log(PGconn *conn, const char *anchor, audit_verdict *out,
					pgr_error *err)
{
	const char *params[1] = {anchor};
	PGresult   *res;
	int			rc = -1;

	res = PQexecParams(conn,
					   "SELECT ok, rows_checked, first_bad_id, problem "
					   "FROM rotate.verify_audit_log($1::pg_catalog.text)",
					   1, NULL, params, NULL, NULL, 0);
	memset(out, 0, sizeof(*out));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		set_result_error(err, conn, res, "could not verify the audit log");
	else if (PQntuples(res) != 1 || PQnfields(res) != 4 || PQgetisnull(res, 0, 0) ||
			 parse_bigint(PQgetvalue(res, 0, 1), &out->rows_checked) < 0 ||
			 (!PQgetisnull(res, 0, 2) &&
			  parse_bigint(PQgetvalue(res, 0, 2), &out->first_bad_id) < 0))
		pgr_error_set(err, PGR_ERR_DATABASE, NULL,
					  "could not verify the audit log: unexpected result from the server");
	else
	{
		out->ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		snprintf(out->problem, sizeof(out->problem), "%s", PQgetvalue(res, 0, 3));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

/*
 * Every row of rotate.audit_log, oldest first, handed to fn as
 * rotate.audit_row_hash() serializes it (the connection's role needs SELECT
 * on the table). Rows are streamed (libpq's single-row mode), so a long log
 * is never held whole. Returns -1 when the rows could not all be read.
 */
int
db_read_audit_log(PGconn *conn, void (*fn) (void *ctx, const audit_row *row),
				  void *ctx, pgr_error *err)
{
	PGresult   *res;
	int			rc = 0;

	if (PQsendQuery(conn, READ_AUDIT_LOG_SQL) != 1 || PQsetSingleRowMode(conn) != 1)
	{
		set_result_error(err, conn, NULL, "could not read rotate.audit_log");
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		return -1;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType status = PQresultStatus(res);

		if (status == PGRES_SINGLE_TUPLE && rc == 0 && PQnfields(res) == AUDIT_NFIELDS + 1)
		{
			audit_row	row;

			for (int i = 0; i < AUDIT_NFIELDS; i++)
				row.field[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
			row.row_hash = PQgetisnull(res, 0, AUDIT_NFIELDS) ? NULL :
				PQgetvalue(res, 0, AUDIT_NFIELDS);
			fn(ctx, &row);
		}
		else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && rc == 0)
		{
			set_result_error(err, conn, res, "could not read rotate.audit_log");
			rc = -1;
		}
		PQclear(res);
	}
	return rc;
}

/*
 * The --no-extension path: the admin itself runs ALTER ROLE role PASSWORD
 * 'verifier' (a SCRAM verifier, never plaintext), inside a DO block reading
 * the stash, so neither the statement nor its error context reaches the
 * log. An admin that may not create temporary tables is refused: the
 * statement would have to carry the verifier as text, which the server
 * logs with log_statement = 'ddl' and with any error.
 */
int
db_alter_role_password_direct(PGconn *admin, const char *role,
							  const char *verifier, pgr_error *err)
{
	char		what[PGR_ERRMSG_LEN];
	bool		no_temp = false;

	if (!admin || check_role_name(role, err) < 0)
		return -1;
	if (!scram_verifier_is_valid(verifier))
	{
		pgr_error_set(err, PGR_ERR_INTERNAL, NULL,
					  "refusing to send something that is not a SCRAM-SHA-256 verifier");
		return -1;
	}
	snprintf(what, sizeof(what), "could not set the password of role \"%s\"", role);

	if (stash_verifier(admin, role, verifier, &no_temp, err) < 0)
	{
		pgr_error_prefix(err, "%s: ", what);
		if (no_temp)
			pgr_error_hint(err, "GRANT TEMPORARY ON DATABASE to the admin role: without a "
						   "temporary table the verifier could only be sent as statement "
						   "text, which the server may log.");
		return -1;
	}
	if (exec_command(admin, ALTER_ROLE_STASHED, what, err) < 0 ||
		exec_command(admin, "COMMIT", what, err) < 0)
	{
		rollback_quietly(admin);
		return -1;
	}
	return 0;
}
