"""The SQL-only flavour (PL/pgSQL, for pg_tle on Amazon RDS and Aurora):
the pg_regress suite against it, the pg_tle installer checked without
pg_tle, and full rotations with the client - on a cluster that does not
preload the C library (see sql_flavour.py for why)."""

import io
import json
import os
import re

import psycopg2
import pytest

from harness import leakscan, util

import pgtle
import sql_flavour
from extension_util import Roles, random_password, scram_parts


def test_regress_suite_passes_against_the_sql_flavour(bare_pg, tmp_path):
    """sql/*.sql with expected/*_1.out: the C-only cases are skipped."""
    proc = sql_flavour.run_regress(bare_pg, str(tmp_path))
    diffs = tmp_path / "regression.diffs"
    assert proc.returncode == 0, (proc.stdout + proc.stderr +
                                  (diffs.read_text()[:6000] if diffs.exists() else ""))
    for name in sql_flavour.regress_tests():
        with open(tmp_path / "results" / f"{name}.out") as f:
            assert "pg_rotate flavour: SQL-only" in f.read(), name


def installed_sql_flavour_script(pg):
    sharedir = util.run([os.environ.get("PG_CONFIG", "pg_config"), "--sharedir"]).stdout.strip()
    path = os.path.join(sharedir, "extension", f"pg_rotate--{sql_flavour.sql_version()}.sql")
    with open(path) as f:
        return f.read()


def test_pg_tle_installer_registers_what_the_ordinary_install_creates(bare_pg):
    """make pg_tle's script, run against a stand-in pgtle.install_extension,
    passes the SQL-only flavour's script; created as an extension, that
    script makes the same objects as the C install, but for the documented
    differences."""
    install, uninstall = pgtle.make_installer()
    pg = bare_pg
    dbs = {"tle": "t_pgtle_standin", "sql": "t_sql_flavour", "c": "t_c_flavour"}
    for db in dbs.values():
        pg.psql(f"DROP DATABASE IF EXISTS {db}")
        pg.psql(f"CREATE DATABASE {db}")
    try:
        pg.psql(sql_flavour.PGTLE_STANDIN, dbname=dbs["tle"])
        with open(install) as f:
            pg.psql(f.read(), dbname=dbs["tle"])
        rows = pg.psql("SELECT row_to_json(c) FROM pgtle.captured c", dbname=dbs["tle"])
        [captured] = [json.loads(r) for r in rows.splitlines() if r.strip()]
        assert captured["name"] == "pg_rotate"
        assert captured["version"] == sql_flavour.default_version()
        assert captured["schema"] == "rotate"
        assert captured["requires"] is None
        assert captured["description"].startswith("audited password rotation")
        ext = captured["ext"]
        # what pg_tle cannot take: psql meta-commands, C, its own delimiters
        assert not [line for line in ext.splitlines() if line.lstrip().startswith("\\")]
        assert "MODULE_PATHNAME" not in ext and "LANGUAGE C" not in ext
        assert "$_pgtle_" not in ext
        # the very script of the ordinary SQL-only install, less its guard
        with open(os.path.join(util.REPO, "extension", "sql", "guard.sql")) as f:
            guard = f.read()
        script = installed_sql_flavour_script(pg)
        assert guard in script
        assert ext.strip() == script.split(guard, 1)[1].strip()

        # the uninstaller calls pgtle.uninstall_extension('pg_rotate')
        pg.psql("CREATE TABLE pgtle.uninstalled (name text);"
                "CREATE FUNCTION pgtle.uninstall_extension(extname text) RETURNS boolean"
                " LANGUAGE sql AS $$ INSERT INTO pgtle.uninstalled VALUES (extname);"
                " SELECT true $$;", dbname=dbs["tle"])
        with open(uninstall) as f:
            pg.psql(f.read(), dbname=dbs["tle"])
        assert pg.psql("SELECT name FROM pgtle.uninstalled", dbname=dbs["tle"]).strip() == "pg_rotate"

        # that script, run by CREATE EXTENSION, against the C install
        sql_flavour.create_sql_flavour(pg, dbs["sql"])
        pg.psql("CREATE EXTENSION pg_rotate", dbname=dbs["c"])
        sql_objs = sql_flavour.snapshot(pg, dbs["sql"])
        c_objs = sql_flavour.snapshot(pg, dbs["c"])

        helper = ("function", "rotate.audit_append(text,name,text,text,jsonb)")
        # the SQL-only writer and its helpers (the C flavour has them in C):
        # the policy's reach, the marks, the set-up check, the secret check
        helpers = {helper} | {("function", f"rotate.{f}") for f in (
            "role_refusal(oid,name,oid,boolean)", "mark_role(oid,boolean)",
            "marks_kept()", "marks()",
            "require_set_up()", "holds_secret(text)",
            "audit_secret_field(text,name,text,text,jsonb)",
            "refuse(text,name,text,text,text,text,text)",
            "deny_secret_fields(text,text,name,text,text,jsonb)")}
        # pg_tle's password check, which every role runs (flavour_sql_passcheck.sql)
        hook = {("function", f"rotate_hook.{f}") for f in (
            "passcheck(text,text,anyenum,timestamp with time zone,boolean)",
            "is_managed(text)", "refuse(text,text)")}
        hook_schema = ("schema", "rotate_hook")
        assert set(sql_objs) - set(c_objs) == helpers | hook | {hook_schema}
        assert set(c_objs) - set(sql_objs) == set()
        assert sql_objs[helper]["secdef"]
        for h in helpers:   # none for PUBLIC
            assert not [a for a in sql_objs[h]["acl"] if a.startswith("=")], h
        for h in hook:      # every role's, and only the check runs as its caller
            assert "=X/postgres" in sql_objs[h]["acl"], h
            assert sql_objs[h]["secdef"] == (not h[1].startswith("rotate_hook.passcheck(")), h
        assert "=U/postgres" in sql_objs[hook_schema]["acl"]
        for key, c in c_objs.items():
            s = dict(sql_objs[key])
            c = dict(c)
            if key[0] == "function":
                assert s.pop("language") == ("sql" if c["language"] == "sql" else "plpgsql")
                c.pop("language")
            if key == ("function", "rotate.audit_log_append_only()"):
                # PL/pgSQL resolves names at run time: its search_path is fixed
                assert s.pop("config") == ["search_path=pg_catalog, pg_temp"]
                assert c.pop("config") is None
            if key == ("function", "rotate.enforcement()"):
                assert s.pop("config") == ["search_path=pg_catalog, pg_temp"]
                assert c.pop("config") is None
            if key in (("function", "rotate.managed_role_audit()"),
                       ("function", "rotate.managed_role_check()")):
                # call audit_append and role_refusal, which only their owner may run
                assert s.pop("secdef") is True and c.pop("secdef") is False
                assert s.pop("config") == ["search_path=pg_catalog, pg_temp"]
                assert c.pop("config") is None
            assert s == c, key
    finally:
        for db in dbs.values():
            pg.psql(f"DROP DATABASE IF EXISTS {db}", check=False)


def test_pg_tle_installer_says_when_pg_tle_is_missing(bare_pg):
    install, _ = pgtle.make_installer()
    bare_pg.psql("DROP DATABASE IF EXISTS t_no_pgtle; CREATE DATABASE t_no_pgtle")
    try:
        with open(install) as f:
            proc = bare_pg.psql(f.read(), dbname="t_no_pgtle", check=False)
        assert proc.returncode == 3, proc.stderr     # psql: a script error, ON_ERROR_STOP
        assert "pg_tle 1.5.0 or later is not installed" in proc.stderr
    finally:
        bare_pg.psql("DROP DATABASE IF EXISTS t_no_pgtle", check=False)


def test_full_rotation_with_the_client_and_no_secret_in_the_server_log(
        bare_pg, moto_clean, client_bin):
    s = sql_flavour.scenario(bare_pg, moto_clean)
    try:
        sql_flavour.rotate_with_the_client(bare_pg, s, client_bin, enforcement="off")
    finally:
        s.teardown()


def test_refusal_reaches_the_client_but_leaves_no_audit_row(bare_pg, moto_clean, client_bin):
    """Documented difference: the SQL-only flavour cannot keep a denied row."""
    s = sql_flavour.scenario(bare_pg, moto_clean, managed=False)
    try:
        proc = s.run(client_bin, "rotate", "--secret-id", s.app_secret)
        assert proc.returncode == 1, proc.stderr
        assert "not managed" in proc.stderr
        assert s.can_login(s.initial_password)
        assert s.password("AWSCURRENT") == s.initial_password
        assert "denied" not in [r["event"] for r in s.audit()]
        assert s.audit_chain_ok()
    finally:
        s.teardown()


def test_failed_alter_role_does_not_put_the_verifier_in_the_log(bare_pg):
    """ALTER ROLE runs through EXECUTE; when it fails (here: a lock timeout
    behind another transaction's change to the same role) its CONTEXT line
    would quote the statement, verifier included.  It is re-raised without."""
    pg = bare_pg
    pg.psql("DROP DATABASE IF EXISTS t_alter_fail; CREATE DATABASE t_alter_fail")
    sql_flavour.create_sql_flavour(pg, "t_alter_fail")
    roles = Roles(pg, "t_alter_fail", targets=1)
    target = roles.targets[0]
    password = random_password()
    secrets = list(scram_parts(password)) + [password]
    verifier = secrets[0]
    holder = pg.connect(dbname="t_alter_fail")
    holder.autocommit = False
    try:
        with holder.cursor() as cur:
            cur.execute(f"ALTER ROLE {target} CONNECTION LIMIT 5")   # held open
        mark = pg.log_mark()
        conn = pg.connect(user=roles.rotator, dbname="t_alter_fail",
                          password=roles.rotator_password)
        conn.autocommit = False
        with conn.cursor() as cur:
            # the verifier travels by COPY, as the client sends it
            cur.execute("CREATE TEMP TABLE stash (v text) ON COMMIT DROP")
            cur.copy_expert("COPY pg_temp.stash FROM STDIN", io.StringIO(verifier + "\n"))
            cur.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(psycopg2.Error) as err:
                cur.execute("SELECT rotate.set_password(%s, s.v) FROM pg_temp.stash s",
                            (target,))
        conn.rollback()
        conn.close()
        assert err.value.pgcode == "55P03", err.value.pgerror
        assert "ALTER ROLE" not in (err.value.pgerror or "")
        log = pg.log_since(mark)
        assert "canceling statement due to lock timeout" in log   # the failure was logged
        leakscan.assert_no_leaks(secrets, {"server log": log,
                                           "error": err.value.pgerror or ""})
    finally:
        holder.rollback()
        holder.close()
        roles.drop("t_alter_fail")
        pg.psql("DROP DATABASE IF EXISTS t_alter_fail", check=False)


def test_ddl_guard_keeps_the_password_check_as_installed(bare_pg, sql_db):
    """rotate_hook (flavour_sql_passcheck.sql) lets set_password's changes
    through and writes direct_change rows: the audit log's DDL guard covers
    it as it covers schema rotate, to a superuser too, without pg_tle."""
    signature = "rotate_hook.passcheck(text, text, anyenum, timestamptz, boolean)"
    refused = {
        "CREATE FUNCTION rotate_hook.passcheck(":
            "CREATE OR REPLACE FUNCTION rotate_hook.passcheck(username text, password text,"
            " password_type anyenum, valid_until timestamptz, valid_null boolean)"
            " RETURNS void LANGUAGE plpgsql AS 'BEGIN END'",
        "ALTER FUNCTION rotate_hook.refuse(":
            "ALTER FUNCTION rotate_hook.refuse(text, text) SECURITY INVOKER",
        "CREATE FUNCTION rotate_hook.helper(":
            "CREATE FUNCTION rotate_hook.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "ALTER SCHEMA rotate_hook_old\n": "ALTER SCHEMA rotate_hook RENAME TO rotate_hook_old",
        "ALTER EXTENSION pg_rotate\n":
            f"ALTER EXTENSION pg_rotate DROP FUNCTION {signature}",
    }
    for what, sql in refused.items():
        proc = bare_pg.psql(sql, dbname=sql_db, check=False)
        assert proc.returncode == 3, sql
        assert f"ERROR:  pg_rotate does not allow {what}" in proc.stderr, proc.stderr
    # a member of the extension, so PostgreSQL refuses DROP outright
    proc = bare_pg.psql(f"DROP FUNCTION {signature}", dbname=sql_db, check=False)
    assert proc.returncode == 3
    assert "because extension pg_rotate requires it" in proc.stderr
    assert bare_pg.psql("SELECT count(*) FROM pg_proc WHERE pronamespace = 'rotate_hook'::regnamespace",
                        dbname=sql_db).strip() == "3"


def test_set_password_runs_the_statement_the_password_check_knows():
    """pg_tle's password check lets set_password's change through by its
    statement's text and its frame in the call stack: the two files must
    agree.  (The tests against the real pg_tle, test_pgtle_*.py, show that
    they work together; they are skipped where pg_tle's source is absent.)"""
    sqldir = os.path.join(util.REPO, "extension", "sql")
    with open(os.path.join(sqldir, "flavour_sql.sql")) as f:
        flavour = f.read()
    with open(os.path.join(sqldir, "flavour_sql_passcheck.sql")) as f:
        passcheck = f.read()
    set_password = flavour.split("CREATE OR REPLACE FUNCTION rotate.set_password(", 1)[1]
    set_password = set_password.split("\n$$;\n", 1)[0]
    assert re.findall(r"EXECUTE format\('ALTER ROLE[^']*'", set_password) == [
        "EXECUTE format('ALTER ROLE %I PASSWORD %L'"]
    assert "format('ALTER ROLE %I PASSWORD ''', username) || password" in passcheck
    assert (r"PL/pgSQL function rotate\.set_password\(name,text,text,text\) line [0-9]+"
            r" at EXECUTE" in passcheck)
