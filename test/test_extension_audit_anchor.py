"""The audit log's anchor and DDL guard (issue 17, class 5), in both flavours.

A superuser can rewrite the log and re-chain it, or drop and re-create the
extension with a fresh log; the chain verifies either way. The anchor
(rotate.audit_anchor(), kept outside the database) does not: here the
restart by DROP EXTENSION and CREATE EXTENSION, before and after the new log
grows past the anchor's row. The regression suite (test/sql/03_audit.sql)
covers a deleted newest row, a re-chained log, the DDL guard and a trigger
that drops rows.
"""

import os
import re
import uuid

import sql_flavour
from extension_util import Roles, random_password, scram_verifier
from harness import util


def anchor(pg, db):
    return pg.psql("SELECT rotate.audit_anchor()", dbname=db).strip()


def verify(pg, db, anchor_text):
    out = pg.psql(f"SELECT ok, first_bad_id, problem FROM rotate.verify_audit_log('{anchor_text}')",
                  dbname=db).strip()
    return tuple(out.split("|"))


def rotate(pg, db, roles, n):
    for i in range(n):
        pg.psql(f"SET ROLE {roles.rotator};"
                f"SELECT rotate.set_password('{roles.targets[0]}',"
                f" '{scram_verifier(random_password())}', 'arn:anchor', 'v{i}')", dbname=db)


def check_restart_is_detected(pg, db, create):
    roles = Roles(pg, db, targets=1)
    try:
        rotate(pg, db, roles, 3)
        kept = anchor(pg, db)
        anchor_id = kept.split(":")[0]
        assert verify(pg, db, kept) == ("t", "", "")

        pg.psql("DROP EXTENSION pg_rotate", dbname=db)
        pg.psql(create, dbname=db)
        roles.grant(db)
        assert pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=db).strip() == "t"
        ok, bad, problem = verify(pg, db, kept)
        assert (ok, bad) == ("f", anchor_id)
        assert problem.startswith(f"the log ends at row 1, before the anchor's row {anchor_id}")
        assert "restarted (DROP EXTENSION and CREATE EXTENSION)" in problem

        # grown past the anchor's row, the new log still does not match it
        rotate(pg, db, roles, int(anchor_id))
        ok, bad, problem = verify(pg, db, kept)
        assert (ok, bad) == ("f", anchor_id)
        assert problem.startswith(f"row {anchor_id} no longer has the anchor's hash")
        assert "restarted (DROP EXTENSION and CREATE EXTENSION)" in problem
    finally:
        roles.drop(db)


def test_restarted_log_fails_the_anchor_c_flavour(pg, fresh_db):
    check_restart_is_detected(pg, fresh_db, "CREATE EXTENSION pg_rotate")


def test_restarted_log_fails_the_anchor_sql_flavour(bare_pg, sql_db):
    check_restart_is_detected(
        bare_pg, sql_db, f"CREATE EXTENSION pg_rotate VERSION '{sql_flavour.sql_version()}'")


def test_anchor_of_an_empty_log_is_null_and_any_log_extends_it(pg, fresh_db):
    assert pg.psql("SELECT rotate.audit_anchor() IS NULL", dbname=fresh_db).strip() == "t"
    assert pg.psql("SELECT ok FROM rotate.verify_audit_log(NULL)", dbname=fresh_db).strip() == "t"


def test_guard_lifted_and_restored_as_the_readme_says_for_rds_upgrades(bare_pg, sql_db):
    """README, "Amazon RDS and Aurora": the master user takes the guard's
    event triggers out for a major version upgrade and puts them back."""
    pg = bare_pg
    with open(os.path.join(util.REPO, "README.md")) as f:
        steps = re.search(r"switch it off first, as the master\nuser, and put it back after "
                          r"the upgrade:\n\n```sql\n(.*?)```", f.read(), re.S).group(1)
    lift, restore = steps.split("-- ... the upgrade, then:\n")
    pg.psql(lift, dbname=sql_db)
    assert pg.psql("SELECT count(*) FROM pg_event_trigger", dbname=sql_db).strip() == "0"
    pg.psql(restore, dbname=sql_db)
    assert pg.psql("SELECT string_agg(e.evtname || ':' || e.evtenabled::text, ',' ORDER BY e.evtname)"
                   "  FROM pg_event_trigger e JOIN pg_depend d ON d.objid = e.oid"
                   " WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_rotate')"
                   "   AND d.deptype = 'e'", dbname=sql_db).strip() \
        == "pg_rotate_audit_log_guard:A,pg_rotate_audit_log_guard_drop:A"
    proc = pg.psql("ALTER TABLE rotate.audit_log DISABLE TRIGGER audit_log_append_only",
                   dbname=sql_db, check=False)
    assert proc.returncode == 3
    assert "pg_rotate does not allow ALTER TABLE rotate.audit_log" in proc.stderr


def check_created_beside_another_event_trigger(pg, db, create):
    """CREATE EXTENSION creates schema rotate outside its script; with an
    event trigger already in the database (pg_tle has one), the guard sees
    that creation, and must let it through.  It still guards the schema."""
    pg.psql("CREATE FUNCTION public.regress_noop() RETURNS event_trigger LANGUAGE plpgsql"
            " AS $$ BEGIN END $$;"
            "CREATE EVENT TRIGGER regress_other ON ddl_command_end"
            " EXECUTE FUNCTION public.regress_noop()", dbname=db)
    pg.psql(create, dbname=db)
    proc = pg.psql("ALTER SCHEMA rotate RENAME TO regress_rotate", dbname=db, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "pg_rotate does not allow ALTER SCHEMA regress_rotate" in proc.stderr


def test_created_beside_another_event_trigger_c_flavour(pg, plain_db):
    check_created_beside_another_event_trigger(pg, plain_db, "CREATE EXTENSION pg_rotate")


def test_created_beside_another_event_trigger_sql_flavour(bare_pg):
    db = "t_evt_" + uuid.uuid4().hex[:12]
    bare_pg.psql(f"CREATE DATABASE {db}")
    try:
        check_created_beside_another_event_trigger(
            bare_pg, db, f"CREATE EXTENSION pg_rotate VERSION '{sql_flavour.sql_version()}'")
    finally:
        bare_pg.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
