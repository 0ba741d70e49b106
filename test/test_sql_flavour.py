"""The SQL-only flavour (PL/pgSQL, for pg_tle on Amazon RDS and Aurora):
the pg_regress suite against it, the pg_tle installer checked without
pg_tle, and full rotations with the client - on a cluster that does not
preload the C library (see sql_flavour.py for why)."""

import io
import json
import os

import psycopg2
import pytest

from harness import leakscan, util
from harness.scenario import Scenario

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


def make_pg_tle():
    util.run(["make", "-s", "pg_tle"], cwd=util.REPO, timeout=120)
    build = os.path.join(util.REPO, "build")
    return (os.path.join(build, "pg_rotate--pg_tle-install.sql"),
            os.path.join(build, "pg_rotate--pg_tle-uninstall.sql"))


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
    install, uninstall = make_pg_tle()
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
        assert set(sql_objs) - set(c_objs) == helpers
        assert set(c_objs) - set(sql_objs) == set()
        assert sql_objs[helper]["secdef"]
        for h in helpers:   # none for PUBLIC
            assert not [a for a in sql_objs[h]["acl"] if a.startswith("=")], h
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
    install, _ = make_pg_tle()
    bare_pg.psql("DROP DATABASE IF EXISTS t_no_pgtle; CREATE DATABASE t_no_pgtle")
    try:
        with open(install) as f:
            proc = bare_pg.psql(f.read(), dbname="t_no_pgtle", check=False)
        assert proc.returncode == 3, proc.stderr     # psql: a script error, ON_ERROR_STOP
        assert "pg_tle 1.5.0 or later is not installed" in proc.stderr
    finally:
        bare_pg.psql("DROP DATABASE IF EXISTS t_no_pgtle", check=False)


def sql_flavour_scenario(pg, moto, managed=True):
    """A Scenario whose database has the SQL-only flavour, set up as the
    README tells a DBA to."""
    s = Scenario(pg, moto).setup(extension=False)
    sql_flavour.create_sql_flavour(pg, s.dbname)
    admin = s.ident(s.admin_role)
    sql = [f"GRANT USAGE ON SCHEMA rotate TO {admin}",
           "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text),"
           f" rotate.log_event(name, text, text, text, jsonb) TO {admin}"]
    if managed:
        sql.append("INSERT INTO rotate.managed_role (role_name) VALUES ('"
                   + s.app_role.replace("'", "''") + "')")
    pg.psql(";\n".join(sql) + ";", dbname=s.dbname)
    s.enable_auth()
    return s


def verifier_parts(pg, role):
    verifier = pg.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'").strip()
    assert verifier.startswith("SCRAM-SHA-256$")
    head, keys = verifier.split("$", 1)[1].split("$")
    return [verifier, head.split(":")[1]] + keys.split(":")


def test_full_rotation_with_the_client_and_no_secret_in_the_server_log(
        bare_pg, moto_clean, client_bin):
    s = sql_flavour_scenario(bare_pg, moto_clean)
    try:
        mark = bare_pg.log_mark()
        proc = s.run(client_bin, "rotate", "--secret-id", s.app_secret, "--json")
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.splitlines()[-1])
        assert result["outcome"] == "rotated"
        current = s.version_with("AWSCURRENT")
        new_password = s.password("AWSCURRENT")
        assert new_password != s.initial_password
        assert s.value("AWSPREVIOUS")["password"] == s.initial_password
        assert s.can_login(new_password) and not s.can_login(s.initial_password)

        events = {r["event"]: r for r in s.audit() if r["version_id"] == current}
        assert {"password_set", "tested", "finished"} <= set(events)
        assert events["password_set"]["detail"] == {"enforcement": "off"}
        assert events["password_set"]["actor"] == s.admin_role
        assert s.audit_chain_ok()

        log = bare_pg.log_since(mark)
        assert "rotate.set_password" in log          # log_statement = 'all' saw the call
        secrets = [new_password, s.initial_password, s.admin_password]
        secrets += verifier_parts(bare_pg, s.app_role)
        leakscan.assert_no_leaks(secrets, {"server log": log, "client stderr": proc.stderr})
        leakscan.assert_no_leaks(secrets, {"rotate.audit_log": json.dumps(s.audit(), default=str)})
    finally:
        s.teardown()


def test_refusal_reaches_the_client_but_leaves_no_audit_row(bare_pg, moto_clean, client_bin):
    """Documented difference: the SQL-only flavour cannot keep a denied row."""
    s = sql_flavour_scenario(bare_pg, moto_clean, managed=False)
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
