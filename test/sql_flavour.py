"""Helpers for the tests of the SQL-only flavour (extension/sql/flavour_sql.sql):
installing it as an ordinary extension, a rotation scenario and one checked
rotation with the client, a stand-in for pg_tle's install_extension, running
the pg_regress suite, and a catalog snapshot of the extension's objects for
comparing two installs.  The same helpers serve the tests against the real
pg_tle (pgtle.py), given pgtle.create_pg_rotate as the way to create it.

The SQL-only flavour is installed as version "<default>-sql" of pg_rotate
(extension/pg_rotate--X.Y-sql.sql, the same text "make pg_tle" hands to
pg_tle), so the client finds extension "pg_rotate" as usual.  It is tested
on a cluster that does not preload the C library: preloaded, the library's
hooks act in every database (its self-change hook would audit the SQL
flavour's own ALTER ROLE as a superuser's direct change, and its log hook
would hide what the SQL flavour lets reach the log).
"""

import json
import os
import re
import subprocess

from harness import leakscan, util
from harness.scenario import Scenario


def default_version():
    with open(os.path.join(util.REPO, "extension", "pg_rotate.control")) as f:
        return re.search(r"^default_version = '([^']+)'", f.read(), re.M).group(1)


def sql_version():
    return default_version() + "-sql"


def create_sql_flavour(pg, dbname):
    """CREATE EXTENSION pg_rotate, SQL-only flavour, in dbname."""
    pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{sql_version()}'", dbname=dbname)


def scenario(pg, moto, managed=True, create=create_sql_flavour):
    """A Scenario whose database has the SQL-only flavour, created by
    create(pg, dbname) before the roles (pg_tle's password check must be
    registered before a role gets a password), and set up as the README
    tells a DBA to."""
    s = Scenario(pg, moto).setup(extension=False, prepare=lambda dbname: create(pg, dbname))
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
    """role's stored verifier and each of its parts."""
    verifier = pg.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'").strip()
    assert verifier.startswith("SCRAM-SHA-256$")
    head, keys = verifier.split("$", 1)[1].split("$")
    return [verifier, head.split(":")[1]] + keys.split(":")


def rotate_with_the_client(pg, s, client_bin, enforcement):
    """One rotation of scenario s with the client, checked: the new password
    works and the old one not, AWSCURRENT and AWSPREVIOUS moved, the audit
    rows (password_set saying "enforcement": enforcement) chain, and no
    secret is in the server log, the client's stderr or the audit log.
    Returns the new password."""
    mark = pg.log_mark()
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
    assert events["password_set"]["detail"] == {"enforcement": enforcement}
    assert events["password_set"]["actor"] == s.admin_role
    assert s.audit_chain_ok()

    log = pg.log_since(mark)
    assert "rotate.set_password" in log          # log_statement = 'all' saw the call
    secrets = [new_password, s.initial_password, s.admin_password]
    secrets += verifier_parts(pg, s.app_role)
    leakscan.assert_no_leaks(secrets, {"server log": log, "client stderr": proc.stderr})
    leakscan.assert_no_leaks(secrets, {"rotate.audit_log": json.dumps(s.audit(), default=str)})
    return new_password


def regress_tests():
    sqldir = os.path.join(util.REPO, "extension", "test", "sql")
    return sorted(f[:-4] for f in os.listdir(sqldir) if f.endswith(".sql"))


def run_regress(pg, outputdir, dbname="contrib_regression", create=create_sql_flavour):
    """The pg_regress suite against the SQL-only flavour in a fresh dbname,
    where create(pg, dbname) creates it.  Returns the CompletedProcess;
    diffs are in outputdir/regression.diffs."""
    pg.psql(f"DROP DATABASE IF EXISTS {dbname}")
    pg.psql(f"CREATE DATABASE {dbname}")
    create(pg, dbname)
    pgxs = util.run([os.environ.get("PG_CONFIG", "pg_config"), "--pgxs"]).stdout.strip()
    pg_regress = os.path.join(os.path.dirname(pgxs), "..", "test", "regress", "pg_regress")
    argv = [pg_regress, "--inputdir=test", f"--outputdir={outputdir}", "--use-existing",
            f"--dbname={dbname}", f"--host={pg.sockdir}", f"--port={pg.port}",
            f"--user={pg.superuser}", f"--bindir={pg.bindir}"] + regress_tests()
    return subprocess.run(argv, cwd=os.path.join(util.REPO, "extension"), capture_output=True,
                          text=True, timeout=300)


# A stand-in for pg_tle where it cannot be built: pgtle.install_extension
# with pg_tle 1.5's signature that records its arguments instead of
# registering anything, and no extension registered yet.
PGTLE_STANDIN = """
CREATE SCHEMA pgtle;
CREATE TABLE pgtle.captured (name text, version text, description text,
                             ext text, requires text[], schema text);
CREATE FUNCTION pgtle.install_extension(name text, version text, description text,
                                        ext text, requires text[] DEFAULT NULL,
                                        schema text DEFAULT NULL)
RETURNS boolean LANGUAGE sql AS $$
    INSERT INTO pgtle.captured VALUES (name, version, description, ext, requires, schema);
    SELECT true;
$$;
CREATE FUNCTION pgtle.available_extension_versions(OUT name name, OUT version text)
RETURNS SETOF record LANGUAGE sql AS $$ SELECT NULL::name, NULL::text WHERE false $$;
"""

# Everything an install creates in schema rotate and in the schemas it
# creates, one JSON object per line: functions with signature, result,
# security, settings, volatility, ACL and comment; tables and views with
# columns, constraints, indexes, triggers, view definitions and ACLs;
# sequences; schemas with their ACL and comment; event triggers; what
# pg_dump keeps.
SNAPSHOT = r"""
WITH ext AS (SELECT oid, extconfig, extnamespace FROM pg_extension WHERE extname = 'pg_rotate'),
ns AS (SELECT extnamespace AS oid FROM ext
       UNION SELECT d.objid FROM pg_depend d, ext
              WHERE d.classid = 'pg_namespace'::regclass AND d.deptype = 'e'
                AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid)
SELECT json_build_object('kind', 'function', 'name', p.oid::regprocedure::text,
         'returns', pg_get_function_result(p.oid), 'language', l.lanname,
         'secdef', p.prosecdef, 'config', p.proconfig, 'volatile', p.provolatile,
         'strict', p.proisstrict, 'acl', p.proacl::text[],
         'comment', obj_description(p.oid, 'pg_proc'))::text
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace IN (SELECT oid FROM ns)
UNION ALL
SELECT json_build_object('kind', 'relation', 'name', c.oid::regclass::text,
         'relkind', c.relkind, 'acl', c.relacl::text[],
         'comment', obj_description(c.oid, 'pg_class'),
         'view', CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END,
         'columns', (SELECT json_agg(json_build_object('name', a.attname,
                         'type', format_type(a.atttypid, a.atttypmod),
                         'notnull', a.attnotnull,
                         'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum)
                       FROM pg_attribute a
                       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
         'constraints', (SELECT json_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname)
                           FROM pg_constraint k WHERE k.conrelid = c.oid),
         'indexes', (SELECT json_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid::regclass::text)
                       FROM pg_index i WHERE i.indrelid = c.oid),
         'triggers', (SELECT json_agg(json_build_object('def', pg_get_triggerdef(t.oid),
                                                        'enabled', t.tgenabled) ORDER BY t.tgname)
                        FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal))::text
  FROM pg_class c
 WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind IN ('r', 'v', 'S')
UNION ALL
SELECT json_build_object('kind', 'schema', 'name', n.nspname, 'acl', n.nspacl::text[],
         'comment', obj_description(n.oid, 'pg_namespace'),
         'extension_schema', n.oid = (SELECT extnamespace FROM ext))::text
  FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns)
UNION ALL
SELECT json_build_object('kind', 'event_trigger', 'name', e.evtname, 'event', e.evtevent,
         'enabled', e.evtenabled, 'function', e.evtfoid::regprocedure::text,
         'member', EXISTS (SELECT FROM pg_depend d, ext
                            WHERE d.classid = 'pg_event_trigger'::regclass
                              AND d.objid = e.oid AND d.refobjid = ext.oid
                              AND d.deptype = 'e'))::text
  FROM pg_event_trigger e
UNION ALL
SELECT json_build_object('kind', 'config_dump',
         'tables', (SELECT array_agg(x::regclass::text ORDER BY x::regclass::text)
                      FROM ext, unnest(ext.extconfig) AS x))::text
ORDER BY 1
"""


def snapshot(pg, dbname):
    """{(kind, name): object} of the extension's objects in dbname; the
    owner is normalized out of ACLs (it differs between databases only in
    name, and here is the same superuser)."""
    import json
    out = pg.psql(SNAPSHOT, dbname=dbname)
    objects = {}
    for line in out.splitlines():
        if line.strip():
            obj = json.loads(line)
            objects[(obj["kind"], obj.get("name"))] = obj
    return objects
