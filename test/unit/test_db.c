/*-------------------------------------------------------------------------
 *
 * test_db.c
 *	  Tests of client/db.c against a real PostgreSQL server.
 *
 * Skipped (exit 0, every test reported as skipped) unless these are set,
 * as test/test_db_layer.py does from the pytest cluster fixture:
 *
 *	PGR_TEST_PGHOST, PGR_TEST_PGPORT	TCP address of the server (TLS on)
 *	PGR_TEST_CA						the CA that signed the server certificate
 *	PGR_TEST_PGSOCKDIR				Unix socket directory, trust for postgres
 *	PGR_TEST_PGLOG					the server log (optional: leak checks)
 *
 * Each run creates its own database and regress_* roles and drops them.
 * rotate.set_password and rotate.log_event are stand-ins written here in
 * PL/pgSQL with the extension's signatures (the C extension is developed
 * separately); they refuse what the design says they refuse, enough to test
 * the client side. Every password is generated here, and at the end no
 * password or verifier used may appear in the server log.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "buf.h"
#include "db.h"
#include "scram.h"
#include "secret.h"

#define APP_ROLE	"regress_pgr_app"
#define ROT_ROLE	"regress_pgr_rotator"
#define DBA_ROLE	"regress_pgr_dba"
#define ODD_ROLE	"regress_pgr \"odd'role\\"

static const char *pghost;
static const char *pgport;
static const char *pgca;
static const char *pgsock;
static const char *pglog;
static char dbname[64];

/* Secrets used in the run, checked against the server log at the end. */
#define MAX_TRACKED 64
static char *tracked[MAX_TRACKED];
static int	ntracked;

/* Remember a password or verifier (copied) for the final log check. */
static void
track(const char *s)
{
	assert_true(ntracked < MAX_TRACKED);
	tracked[ntracked] = strdup(s);
	assert_non_null(tracked[ntracked]);
	ntracked++;
}

/* A fresh password with the default rules; tracked. */
static char *
new_password(void)
{
	pgr_password_rules rules;
	char	   *pw = NULL;
	pgr_error	err;

	secret_password_rules_init(&rules);
	assert_int_equal(secret_generate_password(&rules, &pw, &err), 0);
	track(pw);
	return pw;
}

/* Superuser connection over the Unix socket (trust) to db. */
static PGconn *
superuser_conn(const char *db)
{
	const char *kw[] = {"host", "port", "user", "dbname", NULL};
	const char *val[] = {pgsock, pgport, "postgres", db, NULL};
	PGconn	   *conn = PQconnectdbParams(kw, val, 0);

	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("superuser connection failed: %s", PQerrorMessage(conn));
	return conn;
}

/* Run SQL (no secrets in it) as superuser in the test database. */
static void
su_exec(const char *sql)
{
	PGconn	   *conn = superuser_conn(dbname);
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("setup SQL failed: %s\n%s", PQerrorMessage(conn), sql);
	PQclear(res);
	PQfinish(conn);
}

/* First column of the first row of a query run as superuser (malloc'd). */
static char *
su_query(const char *sql)
{
	PGconn	   *conn = superuser_conn(dbname);
	PGresult   *res = PQexec(conn, sql);
	char	   *v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
		fail_msg("query failed: %s\n%s", PQerrorMessage(conn), sql);
	v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return v;
}

/* Set role's password as superuser, through db.c's own unlogged path. */
static void
su_set_password(const char *role, const char *password)
{
	PGconn	   *conn = superuser_conn(dbname);
	char	   *v = NULL;
	pgr_error	err;

	assert_int_equal(db_scram_verifier(NULL, role, password, &v, &err), 0);
	track(v);
	if (db_alter_role_password_direct(conn, role, v, &err) != 0)
		fail_msg("%s (%s)", err.message, err.detail);
	pgr_free_secret(v);
	PQfinish(conn);
}

/* A parsed secret for user/password on the test server. */
static pgr_secret *
make_secret(const char *user, const char *password, const char *host, const char *port)
{
	pgr_secret *tmpl = NULL;
	pgr_secret *s = NULL;
	char	   *json = NULL;
	char		text[1024];
	pgr_error	err;

	char		juser[160];
	size_t		n = 0;

	/* JSON-escape the role name (quotes and backslashes) */
	for (const char *p = user; *p && n + 2 < sizeof(juser); p++)
	{
		if (*p == '"' || *p == '\\')
			juser[n++] = '\\';
		juser[n++] = *p;
	}
	juser[n] = '\0';

	/* the template has no real password; secret_with_password adds it */
	snprintf(text, sizeof(text),
			 "{\"engine\":\"postgres\",\"host\":\"%s\",\"port\":\"%s\","
			 "\"dbname\":\"%s\",\"username\":\"%s\",\"password\":\"x\"}",
			 host ? host : pghost, port ? port : pgport, dbname, juser);
	if (secret_parse(text, &tmpl, &err) != 0)
		fail_msg("%s", err.message);
	assert_int_equal(secret_with_password(tmpl, password, &json, &err), 0);
	assert_int_equal(secret_parse(json, &s, &err), 0);
	pgr_free_secret(json);
	secret_free(tmpl);
	return s;
}

/* Options that verify the server against the test CA. */
static db_options
ca_options(void)
{
	db_options	o;

	db_options_init(&o);
	o.sslrootcert = pgca;
	o.connect_timeout = 5;
	return o;
}

/* Does user/password log in (verify-full)? */
static bool
logs_in(const char *user, const char *password)
{
	pgr_secret *s = make_secret(user, password, NULL, NULL);
	db_options	o = ca_options();
	pgr_error	err;
	double		ms = -1;
	int			rc = db_login_test(s, &o, &ms, &err);

	secret_free(s);
	assert_true(ms >= 0);
	return rc == 0;
}

/* Connect as user/password with the CA, failing the test on error. */
static PGconn *
connect_as(const char *user, const char *password)
{
	pgr_secret *s = make_secret(user, password, NULL, NULL);
	db_options	o = ca_options();
	PGconn	   *conn = NULL;
	pgr_error	err;

	if (db_connect(s, &o, &conn, &err) != 0)
		fail_msg("%s: %s", err.message, err.detail);
	secret_free(s);
	return conn;
}

static char *rot_password;
static char *dba_password;

/* Create the database, roles and stand-in functions. */
static int
setup(void **state)
{
	PGconn	   *conn;
	PGresult   *res;
	char		sql[256];

	(void) state;
	conn = superuser_conn("postgres");
	snprintf(dbname, sizeof(dbname), "pgr_dbtest_%d", (int) getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s", PQerrorMessage(conn));
	PQclear(res);
	res = PQexec(conn,
				 "SET client_min_messages = warning;"
				 "DROP ROLE IF EXISTS " APP_ROLE ", " ROT_ROLE ", " DBA_ROLE ", \"regress_pgr \"\"odd'role\\\";"
				 "CREATE ROLE " APP_ROLE " LOGIN;"
				 "CREATE ROLE " ROT_ROLE " LOGIN;"
				 "CREATE ROLE " DBA_ROLE " LOGIN CREATEROLE;"
				 "CREATE ROLE \"regress_pgr \"\"odd'role\\\" LOGIN;");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s", PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);

	su_exec("CREATE SCHEMA rotate;"
			"CREATE TABLE rotate.audit_log (id bigserial PRIMARY KEY, target name,"
			"  event text, secret_id text, version_id text, detail jsonb);"
			"CREATE FUNCTION rotate.set_password(target name, verifier text,"
			"  secret_id text DEFAULT NULL, version_id text DEFAULT NULL) RETURNS bigint"
			" LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$"
			" DECLARE new_id bigint;"
			" BEGIN"
			"  IF verifier !~ '^SCRAM-SHA-256\\$' THEN"
			"    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a SCRAM-SHA-256 verifier';"
			"  END IF;"
			"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = target) THEN"
			"    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = format('role \"%s\" does not exist', target);"
			"  END IF;"
			"  IF target = session_user THEN"
			"    RAISE EXCEPTION USING ERRCODE = '42501',"
			"      MESSAGE = format('role \"%s\" cannot change its own password', target),"
			"      HINT = 'Use an admin role.';"
			"  END IF;"
			"  EXECUTE format('ALTER ROLE %I PASSWORD %L', target, verifier);"
			"  INSERT INTO rotate.audit_log (target, event, secret_id, version_id)"
			"    VALUES (target, 'password_set', secret_id, version_id) RETURNING id INTO new_id;"
			"  RETURN new_id;"
			" END $f$;"
			"CREATE FUNCTION rotate.log_event(target name, event text, secret_id text,"
			"  version_id text, detail jsonb DEFAULT '{}') RETURNS bigint"
			" LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$"
			"  INSERT INTO rotate.audit_log (target, event, secret_id, version_id, detail)"
			"  VALUES (target, event, secret_id, version_id, detail) RETURNING id $f$;"
			"CREATE FUNCTION rotate.audit_anchor() RETURNS text"
			" LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$"
			"  SELECT id || ':' || lpad(id::text, 64, '0') FROM rotate.audit_log"
			"  ORDER BY id DESC LIMIT 1 $f$;"
			"REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA rotate FROM PUBLIC;"
			"GRANT USAGE ON SCHEMA rotate TO " ROT_ROLE ";"
			"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA rotate TO " ROT_ROLE ";");

	rot_password = new_password();
	dba_password = new_password();
	su_set_password(ROT_ROLE, rot_password);
	su_set_password(DBA_ROLE, dba_password);
	return 0;
}

/* Drop what setup made and check the server log for every secret used. */
static int
teardown(void **state)
{
	PGconn	   *conn = superuser_conn("postgres");
	char		sql[256];

	(void) state;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	PQclear(PQexec(conn, sql));
	PQclear(PQexec(conn, "DROP ROLE IF EXISTS " APP_ROLE ", " ROT_ROLE ", " DBA_ROLE
				   ", \"regress_pgr \"\"odd'role\\\""));
	PQfinish(conn);
	pgr_free_secret(rot_password);
	pgr_free_secret(dba_password);
	for (int i = 0; i < ntracked; i++)
		pgr_free_secret(tracked[i]);
	return 0;
}

/* verify-full with the CA: TLS in use, application_name pg_rotate. */
static void
test_connect_verify_full(void **state)
{
	PGconn	   *conn = connect_as(ROT_ROLE, rot_password);
	pgr_secret *s = make_secret(ROT_ROLE, rot_password, NULL, NULL);
	db_options	o = ca_options();
	PGresult   *res;

	(void) state;
	assert_string_equal(db_effective_sslmode(s, &o, NULL), "verify-full");
	assert_int_equal(PQsslInUse(conn), 1);
	res = PQexec(conn, "SELECT current_setting('application_name')");
	assert_string_equal(PQgetvalue(res, 0, 0), "pg_rotate");
	PQclear(res);
	db_disconnect(conn);
	secret_free(s);
}

/* Without any CA: sslmode require, still encrypted. */
static void
test_connect_require_without_ca(void **state)
{
	pgr_secret *s = make_secret(ROT_ROLE, rot_password, NULL, NULL);
	db_options	o;
	PGconn	   *conn = NULL;
	pgr_error	err;
	char	   *saved = getenv("PGSSLROOTCERT") ? strdup(getenv("PGSSLROOTCERT")) : NULL;

	(void) state;
	unsetenv("PGSSLROOTCERT");
	db_options_init(&o);
	assert_string_equal(db_effective_sslmode(s, &o, NULL), "require");
	assert_int_equal(db_connect(s, &o, &conn, &err), 0);
	assert_int_equal(PQsslInUse(conn), 1);
	db_disconnect(conn);

	/* PGSSLROOTCERT counts as a configured CA */
	setenv("PGSSLROOTCERT", pgca, 1);
	assert_string_equal(db_effective_sslmode(s, &o, NULL), "verify-full");
	assert_int_equal(db_connect(s, &o, &conn, &err), 0);
	db_disconnect(conn);
	if (saved)
		setenv("PGSSLROOTCERT", saved, 1);
	else
		unsetenv("PGSSLROOTCERT");
	free(saved);
	secret_free(s);
}

/* allow/prefer are refused; disable only when asked, and then plaintext. */
static void
test_sslmodes(void **state)
{
	pgr_secret *s = make_secret(ROT_ROLE, rot_password, NULL, NULL);
	db_options	o = ca_options();
	PGconn	   *conn = NULL;
	pgr_error	err;

	(void) state;
	o.sslmode = "prefer";
	assert_int_equal(db_connect(s, &o, &conn, &err), -1);
	assert_int_equal(err.errclass, PGR_ERR_USAGE);
	o.sslmode = "allow";
	assert_int_equal(db_connect(s, &o, &conn, &err), -1);
	assert_null(conn);
	o.sslmode = "disable";
	assert_int_equal(db_connect(s, &o, &conn, &err), 0);
	assert_int_equal(PQsslInUse(conn), 0);
	db_disconnect(conn);
	secret_free(s);
}

/* The secret's sslrootcert is used, and a CA that did not sign fails. */
static void
test_secret_sslrootcert_verified(void **state)
{
	char		text[1024];
	pgr_secret *s = NULL;
	db_options	o;
	PGconn	   *conn = NULL;
	pgr_error	err;
	char	   *saved = getenv("PGSSLROOTCERT") ? strdup(getenv("PGSSLROOTCERT")) : NULL;

	(void) state;
	unsetenv("PGSSLROOTCERT");
	db_options_init(&o);
	snprintf(text, sizeof(text),
			 "{\"engine\":\"postgres\",\"host\":\"%s\",\"port\":%s,\"dbname\":\"%s\","
			 "\"username\":\"nobody\",\"password\":\"x\","
			 "\"sslrootcert\":\"/etc/ssl/certs/ca-certificates.crt\"}",
			 pghost, pgport, dbname);
	assert_int_equal(secret_parse(text, &s, &err), 0);
	assert_string_equal(db_effective_sslmode(s, &o, NULL), "verify-full");
	assert_int_equal(db_connect(s, &o, &conn, &err), -1);
	assert_non_null(strstr(err.detail, "certificate verify failed"));
	assert_string_equal(err.code, "08001");
	secret_free(s);
	if (saved)
		setenv("PGSSLROOTCERT", saved, 1);
	free(saved);
}

/* A wrong password: 28P01, the target named, libpq's text, no secret. */
static void
test_wrong_password(void **state)
{
	char	   *pw = new_password();
	pgr_secret *s = make_secret(ROT_ROLE, pw, NULL, NULL);
	db_options	o = ca_options();
	PGconn	   *conn = NULL;
	pgr_error	err;
	double		ms = -1;

	(void) state;
	assert_int_equal(db_connect(s, &o, &conn, &err), -1);
	assert_null(conn);
	assert_int_equal(err.errclass, PGR_ERR_DATABASE);
	assert_string_equal(err.code, "28P01");
	assert_non_null(strstr(err.message, ROT_ROLE));
	assert_non_null(strstr(err.message, pghost));
	assert_non_null(strstr(err.message, pgport));
	assert_non_null(strstr(err.detail, "password authentication failed"));
	assert_null(strstr(err.message, pw));
	assert_null(strstr(err.detail, pw));
	assert_int_equal(db_login_test(s, &o, &ms, &err), -1);
	assert_true(ms >= 0);
	secret_free(s);
	pgr_free_secret(pw);
}

/* Nothing listening: 08001 quickly, with libpq's reason. */
static void
test_nothing_listening(void **state)
{
	pgr_secret *s = make_secret(ROT_ROLE, rot_password, "127.0.0.1", "1");
	db_options	o = ca_options();
	PGconn	   *conn = NULL;
	pgr_error	err;

	(void) state;
	assert_int_equal(db_connect(s, &o, &conn, &err), -1);
	assert_string_equal(err.code, "08001");
	assert_non_null(strstr(err.message, "127.0.0.1:1"));
	assert_non_null(strstr(err.detail, "refused"));
	assert_null(strchr(err.detail, '\n'));
	secret_free(s);
}

/*
 * Verifiers made without a connection (OpenSSL) and with one (libpq) both
 * log in after db_set_password, and the old password stops working.
 */
static void
test_set_password_both_verifiers(void **state)
{
	PGconn	   *admin = connect_as(ROT_ROLE, rot_password);
	char	   *p1 = new_password();
	char	   *p2 = new_password();
	char	   *v1 = NULL;
	char	   *v2 = NULL;
	long long	id1 = 0;
	long long	id2 = 0;
	pgr_error	err;
	char	   *row;

	(void) state;
	assert_int_equal(db_scram_verifier(NULL, APP_ROLE, p1, &v1, &err), 0);
	assert_int_equal(db_scram_verifier(admin, APP_ROLE, p2, &v2, &err), 0);
	track(v1);
	track(v2);

	if (db_set_password(admin, APP_ROLE, v1, "arn:secret:app", "v-1", &id1, &err) != 0)
		fail_msg("%s (%s)", err.message, err.detail);
	assert_true(id1 > 0);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);
	assert_true(logs_in(APP_ROLE, p1));

	assert_int_equal(db_set_password(admin, APP_ROLE, v2, NULL, NULL, &id2, &err), 0);
	assert_true(id2 > id1);
	assert_true(logs_in(APP_ROLE, p2));
	assert_false(logs_in(APP_ROLE, p1));

	/* the audit row holds the ids given, and nothing of the verifier */
	row = su_query("SELECT target || '|' || secret_id || '|' || version_id "
				   "FROM rotate.audit_log ORDER BY id LIMIT 1");
	assert_string_equal(row, APP_ROLE "|arn:secret:app|v-1");
	free(row);

	pgr_free_secret(v1);
	pgr_free_secret(v2);
	pgr_free_secret(p1);
	pgr_free_secret(p2);
	db_disconnect(admin);
}

/*
 * prepare leaves the change uncommitted: the old password still logs in
 * until db_commit, and db_rollback undoes it (audit row included).
 */
static void
test_prepare_then_commit(void **state)
{
	PGconn	   *admin = connect_as(ROT_ROLE, rot_password);
	char	   *p_old = new_password();
	char	   *p_new = new_password();
	char	   *v = NULL;
	long long	id = 0;
	pgr_error	err;
	char	   *before;
	char	   *after;

	(void) state;
	su_set_password(APP_ROLE, p_old);
	assert_int_equal(db_scram_verifier(NULL, APP_ROLE, p_new, &v, &err), 0);
	track(v);
	before = su_query("SELECT count(*) FROM rotate.audit_log");

	assert_int_equal(db_set_password_prepare(admin, APP_ROLE, v, NULL, NULL, &id, &err), 0);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_INTRANS);
	assert_true(logs_in(APP_ROLE, p_old));
	assert_false(logs_in(APP_ROLE, p_new));
	db_rollback(admin);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);
	after = su_query("SELECT count(*) FROM rotate.audit_log");
	assert_string_equal(before, after);
	assert_true(logs_in(APP_ROLE, p_old));

	assert_int_equal(db_set_password_prepare(admin, APP_ROLE, v, NULL, NULL, &id, &err), 0);
	assert_true(logs_in(APP_ROLE, p_old));
	assert_int_equal(db_commit(admin, &err), 0);
	assert_true(logs_in(APP_ROLE, p_new));
	assert_false(logs_in(APP_ROLE, p_old));

	/* committing an aborted transaction is reported, not taken for success */
	PQclear(PQexec(admin, "BEGIN"));
	PQclear(PQexec(admin, "SELECT 1/0"));
	assert_int_equal(db_commit(admin, &err), -1);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);

	free(before);
	free(after);
	pgr_free_secret(v);
	pgr_free_secret(p_old);
	pgr_free_secret(p_new);
	db_disconnect(admin);
}

/* Server refusals come back with their SQLSTATE; the connection stays usable. */
static void
test_set_password_refusals(void **state)
{
	PGconn	   *admin = connect_as(ROT_ROLE, rot_password);
	char	   *p = new_password();
	char	   *v = NULL;
	pgr_error	err;
	long long	id = -1;
	char		longname[80];
	bool		has = true;

	(void) state;
	assert_int_equal(db_scram_verifier(NULL, "x", p, &v, &err), 0);
	track(v);

	assert_int_equal(db_set_password(admin, "regress_pgr_nosuch", v, NULL, NULL, &id, &err), -1);
	assert_string_equal(err.code, "42704");
	assert_non_null(strstr(err.message, "regress_pgr_nosuch"));
	assert_int_equal(id, -1);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);

	assert_int_equal(db_set_password(admin, ROT_ROLE, v, NULL, NULL, &id, &err), -1);
	assert_string_equal(err.code, "42501");
	assert_string_equal(err.hint, "Use an admin role.");
	assert_true(logs_in(ROT_ROLE, rot_password));

	/* refused on the client: not a verifier, bad role names */
	assert_int_equal(db_set_password(admin, APP_ROLE, p, NULL, NULL, &id, &err), -1);
	assert_non_null(strstr(err.message, "not a SCRAM-SHA-256 verifier"));
	assert_null(strstr(err.message, p));
	memset(longname, 'r', 64);
	longname[64] = '\0';
	assert_int_equal(db_set_password(admin, longname, v, NULL, NULL, &id, &err), -1);
	assert_int_equal(db_set_password(admin, "", v, NULL, NULL, &id, &err), -1);

	/* not inside a transaction the caller opened */
	PQclear(PQexec(admin, "BEGIN"));
	assert_int_equal(db_set_password(admin, APP_ROLE, v, NULL, NULL, &id, &err), -1);
	assert_non_null(strstr(err.message, "open transaction"));
	PQclear(PQexec(admin, "ROLLBACK"));

	/* still usable afterwards */
	assert_int_equal(db_has_extension(admin, &has, NULL, &err), 0);
	assert_false(has);

	pgr_free_secret(v);
	pgr_free_secret(p);
	db_disconnect(admin);
}

/*
 * Without TEMP privilege the verifier cannot travel by COPY: refused with a
 * hint while bind parameters would be logged, accepted once a superuser
 * set log_parameter_max_length = 0 for the admin role. The --no-extension
 * path, which has no bind parameters, is always refused.
 */
static void
test_set_password_without_temp(void **state)
{
	PGconn	   *admin;
	char	   *p = new_password();
	char	   *v = NULL;
	pgr_error	err;
	long long	id = 0;
	char		sql[256];

	(void) state;
	snprintf(sql, sizeof(sql), "REVOKE TEMPORARY ON DATABASE %s FROM PUBLIC", dbname);
	su_exec(sql);
	assert_int_equal(db_scram_verifier(NULL, APP_ROLE, p, &v, &err), 0);
	track(v);

	admin = connect_as(ROT_ROLE, rot_password);
	assert_int_equal(db_set_password(admin, APP_ROLE, v, NULL, NULL, &id, &err), -1);
	assert_string_equal(err.code, "42501");
	assert_non_null(strstr(err.hint, "log_parameter_max_length"));
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);
	/* --no-extension has no bind-parameter way at all: refused too */
	assert_int_equal(db_alter_role_password_direct(admin, APP_ROLE, v, &err), -1);
	assert_string_equal(err.code, "42501");
	assert_non_null(strstr(err.hint, "GRANT TEMPORARY"));
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);
	db_disconnect(admin);

	snprintf(sql, sizeof(sql), "ALTER ROLE " ROT_ROLE " IN DATABASE %s "
			 "SET log_parameter_max_length = 0", dbname);
	su_exec(sql);
	admin = connect_as(ROT_ROLE, rot_password);
	if (db_set_password(admin, APP_ROLE, v, NULL, NULL, &id, &err) != 0)
		fail_msg("%s (%s)", err.message, err.detail);
	assert_true(logs_in(APP_ROLE, p));
	db_disconnect(admin);

	snprintf(sql, sizeof(sql), "ALTER ROLE " ROT_ROLE " IN DATABASE %s RESET ALL;"
			 "GRANT TEMPORARY ON DATABASE %s TO PUBLIC", dbname, dbname);
	su_exec(sql);
	pgr_free_secret(v);
	pgr_free_secret(p);
}

/* log_event records the event, ids and detail; NULL detail is {}. */
static void
test_log_event(void **state)
{
	PGconn	   *admin = connect_as(ROT_ROLE, rot_password);
	pgr_error	err;
	long long	id = 0;
	char	   *row;

	(void) state;
	assert_int_equal(db_log_event(admin, APP_ROLE, "finished", "arn:s", "v-9",
								  "{\"lag_ms\": 3.5}", &id, &err), 0);
	assert_true(id > 0);
	row = su_query("SELECT event || '|' || version_id || '|' || (detail->>'lag_ms') "
				   "FROM rotate.audit_log ORDER BY id DESC LIMIT 1");
	assert_string_equal(row, "finished|v-9|3.5");
	free(row);
	assert_int_equal(db_log_event(admin, APP_ROLE, "tested", NULL, NULL, NULL, NULL, &err), 0);
	row = su_query("SELECT detail::text FROM rotate.audit_log ORDER BY id DESC LIMIT 1");
	assert_string_equal(row, "{}");
	free(row);
	assert_int_equal(db_log_event(admin, APP_ROLE, "tested", NULL, NULL, "{bad json", NULL, &err), -1);
	assert_string_equal(err.code, "22P02");
	db_disconnect(admin);
}

/*
 * The last event and the anchor after it, in one pipeline: the anchor sees
 * the event's row; a refused event still gets the anchor, and either way
 * the connection is usable afterwards (out of pipeline mode, idle).
 */
static void
test_log_event_and_anchor(void **state)
{
	PGconn	   *admin = connect_as(ROT_ROLE, rot_password);
	pgr_error	err = {0};
	pgr_error	anchor_err = {0};
	char		anchor[AUDIT_ANCHOR_LEN];
	char		expected[AUDIT_ANCHOR_LEN];
	char	   *id;
	bool		has = true;

	(void) state;
	assert_int_equal(db_log_event_and_anchor(admin, APP_ROLE, "finished", "arn:s", "v-10",
											 "{\"lag_ms\": 1}", anchor, &err, &anchor_err), 0);
	assert_string_equal(anchor_err.message, "");
	id = su_query("SELECT max(id) FROM rotate.audit_log WHERE version_id = 'v-10'");
	snprintf(expected, sizeof(expected), "%s:%064lld", id, atoll(id));
	assert_string_equal(anchor, expected);
	free(id);

	/* refused (bad detail): the error is the event's, the anchor still read */
	assert_int_equal(db_log_event_and_anchor(admin, APP_ROLE, "finished", "arn:s", "v-11",
											 "{bad json", anchor, &err, &anchor_err), -1);
	assert_string_equal(err.code, "22P02");
	assert_string_equal(anchor_err.message, "");
	assert_string_equal(anchor, expected);
	assert_int_equal(PQpipelineStatus(admin), PQ_PIPELINE_OFF);
	assert_int_equal(PQtransactionStatus(admin), PQTRANS_IDLE);
	assert_int_equal(db_has_extension(admin, &has, NULL, &err), 0);
	db_disconnect(admin);
}

/* db_has_extension sees pg_rotate when it is installed, and its anchor. */
static void
test_has_extension(void **state)
{
	PGconn	   *conn = connect_as(ROT_ROLE, rot_password);
	bool		has = true;
	bool		has_anchor = true;
	pgr_error	err;
	char	   *avail;

	(void) state;
	/* a schema named rotate with the function is not the extension */
	assert_int_equal(db_has_extension(conn, &has, &has_anchor, &err), 0);
	assert_false(has);
	assert_false(has_anchor);
	db_disconnect(conn);

	avail = su_query("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_rotate'");
	if (strcmp(avail, "1") == 0)
	{
		PGconn	   *su = superuser_conn("postgres");
		PGresult   *res;
		char		sql[256];

		snprintf(sql, sizeof(sql), "CREATE DATABASE %s_ext", dbname);
		PQclear(PQexec(su, sql));
		PQfinish(su);
		snprintf(sql, sizeof(sql), "%s_ext", dbname);
		su = superuser_conn(sql);
		res = PQexec(su, "CREATE EXTENSION pg_rotate");
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			assert_int_equal(db_has_extension(su, &has, &has_anchor, &err), 0);
			assert_true(has);
			assert_true(has_anchor);
		}
		else
			print_message("pg_rotate did not install (%s); skipped that half\n",
						  PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(su);
		su = superuser_conn("postgres");
		snprintf(sql, sizeof(sql), "DROP DATABASE %s_ext WITH (FORCE)", dbname);
		PQclear(PQexec(su, sql));
		PQfinish(su);
	}
	free(avail);
}

/* --no-extension: a CREATEROLE admin sets passwords, odd role names too. */
static void
test_alter_role_direct(void **state)
{
	PGconn	   *dba = connect_as(DBA_ROLE, dba_password);
	char	   *p = new_password();
	char	   *q = new_password();
	char	   *v = NULL;
	char	   *w = NULL;
	long long	id = 0;
	pgr_error	err;
	PGconn	   *admin;

	(void) state;
	assert_int_equal(db_scram_verifier(dba, APP_ROLE, p, &v, &err), 0);
	track(v);
	if (db_alter_role_password_direct(dba, APP_ROLE, v, &err) != 0)
		fail_msg("%s (%s)", err.message, err.detail);
	assert_true(logs_in(APP_ROLE, p));

	/* a role name that needs quoting, both paths */
	assert_int_equal(db_alter_role_password_direct(dba, ODD_ROLE, v, &err), 0);
	assert_true(logs_in(ODD_ROLE, p));
	assert_int_equal(db_scram_verifier(NULL, ODD_ROLE, q, &w, &err), 0);
	track(w);
	admin = connect_as(ROT_ROLE, rot_password);
	assert_int_equal(db_set_password(admin, ODD_ROLE, w, NULL, NULL, &id, &err), 0);
	db_disconnect(admin);
	assert_true(logs_in(ODD_ROLE, q));

	/* errors keep their SQLSTATE and lose the statement (no verifier) */
	assert_int_equal(db_alter_role_password_direct(dba, "regress_pgr_nosuch", v, &err), -1);
	assert_string_equal(err.code, "42704");
	assert_non_null(strstr(err.message, "regress_pgr_nosuch"));
	assert_int_equal(db_alter_role_password_direct(dba, "postgres", v, &err), -1);
	assert_string_equal(err.code, "42501");
	assert_int_equal(db_alter_role_password_direct(dba, APP_ROLE, "md5abc", &err), -1);
	assert_int_equal(PQtransactionStatus(dba), PQTRANS_IDLE);

	pgr_free_secret(v);
	pgr_free_secret(w);
	pgr_free_secret(p);
	pgr_free_secret(q);
	db_disconnect(dba);
}

/*
 * Controls for the log check: on this server a bind parameter IS logged
 * ("DETAIL: parameters: $1 = '...'"), which is why the verifier travels by
 * COPY, and an ordinary role may not turn that off for itself.
 */
static void
test_parameters_are_logged(void **state)
{
	PGconn	   *conn = connect_as(ROT_ROLE, rot_password);
	const char *params[1] = {"pgr-bind-marker"};
	PGresult   *res;

	(void) state;
	res = PQexecParams(conn, "SELECT $1::text", 1, NULL, params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(conn, "SET log_parameter_max_length = 0");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	db_disconnect(conn);
}

/* Read the whole server log (malloc'd), or NULL when unknown. */
static char *
read_log(void)
{
	FILE	   *f;
	pgr_buf		buf;
	char		chunk[8192];
	size_t		n;

	if (!pglog)
		return NULL;
	f = fopen(pglog, "r");
	assert_non_null(f);
	pgr_buf_init(&buf, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_true(pgr_buf_append(&buf, chunk, n));
	fclose(f);
	return pgr_buf_detach(&buf);
}

/*
 * Last: the server logged every statement of this run (log_statement=all
 * and log_min_duration_statement=0 in the test cluster), yet no password,
 * no verifier and no StoredKey of one is in the log.
 */
static void
test_log_holds_no_secret(void **state)
{
	char	   *log = read_log();
	int			checked = 0;

	(void) state;
	if (!log)
	{
		print_message("PGR_TEST_PGLOG not set; log check skipped\n");
		skip();
	}
	assert_non_null(strstr(log, "pg_rotate_stash"));	/* we are reading the right log */
	assert_non_null(strstr(log, "parameters: $1 = 'pgr-bind-marker'"));
	for (int i = 0; i < ntracked; i++)
	{
		const char *t = tracked[i];

		if (strstr(log, t))
			fail_msg("secret #%d found in the server log", i);
		if (strncmp(t, "SCRAM-SHA-256$", 14) == 0)
		{
			const char *stored = strchr(t + 14, '$') + 1;
			char		key[45];

			memcpy(key, stored, 44);
			key[44] = '\0';
			if (strstr(log, key))
				fail_msg("StoredKey of verifier #%d found in the server log", i);
		}
		checked++;
	}
	print_message("checked %d secrets against %zu bytes of server log\n",
				  checked, strlen(log));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_verify_full),
		cmocka_unit_test(test_connect_require_without_ca),
		cmocka_unit_test(test_sslmodes),
		cmocka_unit_test(test_secret_sslrootcert_verified),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_nothing_listening),
		cmocka_unit_test(test_set_password_both_verifiers),
		cmocka_unit_test(test_prepare_then_commit),
		cmocka_unit_test(test_set_password_refusals),
		cmocka_unit_test(test_set_password_without_temp),
		cmocka_unit_test(test_log_event),
		cmocka_unit_test(test_log_event_and_anchor),
		cmocka_unit_test(test_has_extension),
		cmocka_unit_test(test_alter_role_direct),
		cmocka_unit_test(test_parameters_are_logged),
		cmocka_unit_test(test_log_holds_no_secret),
	};

	pghost = getenv("PGR_TEST_PGHOST");
	pgport = getenv("PGR_TEST_PGPORT");
	pgca = getenv("PGR_TEST_CA");
	pgsock = getenv("PGR_TEST_PGSOCKDIR");
	pglog = getenv("PGR_TEST_PGLOG");
	if (!pghost || !pgport || !pgca || !pgsock)
	{
		printf("test_db: PGR_TEST_PGHOST, PGR_TEST_PGPORT, PGR_TEST_CA and "
			   "PGR_TEST_PGSOCKDIR are not all set; skipped (run test/test_db_layer.py)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
