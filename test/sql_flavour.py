"""Helpers for the tests of the SQL-only flavour (extension/sql/flavour_sql.sql):
installing it as an ordinary extension, a stand-in for pg_tle's
install_extension, running the pg_regress suite, and a catalog snapshot of
the extension's objects for comparing two installs.

The SQL-only flavour is installed as version "<default>-sql" of pg_rotate
(extension/pg_rotate--X.Y-sql.sql, the same text "make pg_tle" hands to
pg_tle), so the client finds extension "pg_rotate" as usual.  It is tested
on a cluster that does not preload the C library: preloaded, the library's
hooks act in every database (its self-change hook would audit the SQL
flavour's own ALTER ROLE as a superuser's direct change, and its log hook
would hide what the SQL flavour lets reach the log).
"""

import os
import re
import subprocess

from harness import util


def default_version():
    with open(os.path.join(util.REPO, "extension", "pg_rotate.control")) as f:
        return re.search(r"^default_version = '([^']+)'", f.read(), re.M).group(1)


def sql_version():
    return default_version() + "-sql"


def create_sql_flavour(pg, dbname):
    """CREATE EXTENSION pg_rotate, SQL-only flavour, in dbname."""
    pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{sql_version()}'", dbname=dbname)


def regress_tests():
    sqldir = os.path.join(util.REPO, "extension", "test", "sql")
    return sorted(f[:-4] for f in os.listdir(sqldir) if f.endswith(".sql"))


def run_regress(pg, outputdir, dbname="contrib_regression"):
    """The pg_regress suite against the SQL-only flavour in a fresh dbname.
    Returns the CompletedProcess; diffs are in outputdir/regression.diffs."""
    pg.psql(f"DROP DATABASE IF EXISTS {dbname}")
    pg.psql(f"CREATE DATABASE {dbname}")
    create_sql_flavour(pg, dbname)
    pgxs = util.run([os.environ.get("PG_CONFIG", "pg_config"), "--pgxs"]).stdout.strip()
    pg_regress = os.path.join(os.path.dirname(pgxs), "..", "test", "regress", "pg_regress")
    argv = [pg_regress, "--inputdir=test", f"--outputdir={outputdir}", "--use-existing",
            f"--dbname={dbname}", f"--host={pg.sockdir}", f"--port={pg.port}",
            f"--user={pg.superuser}", f"--bindir={pg.bindir}"] + regress_tests()
    return subprocess.run(argv, cwd=os.path.join(util.REPO, "extension"), capture_output=True,
                          text=True, timeout=300)


# A stand-in for pg_tle: pgtle.install_extension with pg_tle 1.5's signature
# that records its arguments instead of registering anything.
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
"""

# Everything an install creates in schema rotate, one JSON object per line:
# functions with signature, result, security, settings, volatility, ACL and
# comment; tables and views with columns, constraints, indexes, triggers,
# view definitions and ACLs; sequences; event triggers; what pg_dump keeps.
SNAPSHOT = r"""
WITH ext AS (SELECT oid, extconfig, extnamespace FROM pg_extension WHERE extname = 'pg_rotate')
SELECT json_build_object('kind', 'function', 'name', p.oid::regprocedure::text,
         'returns', pg_get_function_result(p.oid), 'language', l.lanname,
         'secdef', p.prosecdef, 'config', p.proconfig, 'volatile', p.provolatile,
         'strict', p.proisstrict, 'acl', p.proacl::text[],
         'comment', obj_description(p.oid, 'pg_proc'))::text
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'rotate'::regnamespace
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
 WHERE c.relnamespace = 'rotate'::regnamespace AND c.relkind IN ('r', 'v', 'S')
UNION ALL
SELECT json_build_object('kind', 'schema', 'acl', n.nspacl::text[],
         'extension_schema', (SELECT extnamespace::regnamespace::text FROM ext))::text
  FROM pg_namespace n WHERE n.nspname = 'rotate'
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
