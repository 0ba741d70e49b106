"""The SQL-only flavour through the real pg_tle (see pgtle.py), as README.md
tells an RDS user to run it: make pg_tle's installer, CREATE EXTENSION, the
pg_regress suite with the password check registered, a full rotation with
the client, the update from the released 1.0 through pg_tle's update path,
and DROP EXTENSION."""

import os
import shutil
import subprocess
import sys
import uuid

import psycopg2
import pytest

from harness import util

import pgtle
import sql_flavour
from extension_util import Roles, random_password, scram_verifier


def new_db(pg):
    name = "t_tle_" + uuid.uuid4().hex[:10]
    pgtle.create_database(pg, name)
    return name


def drop_db(pg, name):
    pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def registered(pg, dbname):
    return pg.psql("SELECT schema_name || '.' || proname FROM pgtle.feature_info"
                   " WHERE feature = 'passcheck'", dbname=dbname).split()


def audit_rows(pg, dbname):
    return pg.psql("SELECT id, event, target, detail, row_hash FROM rotate.audit_log ORDER BY id",
                   dbname=dbname).splitlines()


def chain_ok(pg, dbname):
    return pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=dbname).strip() == "t"


def test_regress_suite_passes_with_the_password_check_registered(tle_pg, tmp_path):
    """extension/test/sql/*.sql, the expected *_2.out being this flavour's:
    the audit rows say enforcement is on and 06_self_change's attacks are
    refused but for the known gaps."""
    proc = sql_flavour.run_regress(tle_pg, str(tmp_path), create=pgtle.create_pg_rotate)
    diffs = tmp_path / "regression.diffs"
    assert proc.returncode == 0, (proc.stdout + proc.stderr +
                                  (diffs.read_text()[:6000] if diffs.exists() else ""))
    with open(tmp_path / "results" / "06_self_change.out") as f:
        out = f.read()
    assert "pg_tle passcheck hook" in out and "cannot change its own password" in out
    tle_pg.psql("DROP DATABASE IF EXISTS contrib_regression WITH (FORCE)")


def test_full_rotation_with_the_client(pgtle_install, tle_pg, moto_clean, client_bin):
    """The client's rotation against the pg_tle flavour: the audit row says
    enforcement is on, the rotated role still cannot change its password,
    and no secret reaches the server log.  (pgtle_install first: without
    pg_tle, skip before moto_server starts.)"""
    s = sql_flavour.scenario(tle_pg, moto_clean, create=pgtle.create_pg_rotate)
    try:
        new_password = sql_flavour.rotate_with_the_client(tle_pg, s, client_bin, enforcement="on")
        conn = tle_pg.connect(user=s.app_role, password=new_password, dbname=s.dbname)
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.Error) as err:
                cur.execute(f"ALTER ROLE {s.ident(s.app_role)} PASSWORD %s",
                            (scram_verifier(random_password()),))
        conn.close()
        assert err.value.pgcode == "42501", err.value.pgerror
        assert "cannot change its own password" in err.value.pgerror
        assert s.can_login(new_password)
    finally:
        s.teardown()


def test_update_from_released_1_0_through_pg_tle(tle_pg):
    """An RDS database on 1.0 (registered by 1.0's installer, without a
    password check): the new installer adds 1.1 and the update path, ALTER
    EXTENSION pg_rotate UPDATE keeps every audit row and a verifying chain,
    registers the password check, and ends where a fresh install does."""
    pg = tle_pg
    db, fresh = new_db(pg), new_db(pg)
    roles = None
    # 1.0 registers no password check: with require, no password could change
    pgtle.set_password_check(pg, mode="off")
    try:
        pgtle.register_released(pg, db, "1.0")
        pg.psql("CREATE EXTENSION pg_rotate", dbname=db)
        assert pg.psql("SELECT extversion FROM pg_extension WHERE extname = 'pg_rotate'",
                       dbname=db).strip() == "1.0"
        roles = Roles(pg, db)
        pg.psql(f"SET ROLE {roles.rotator}; SELECT rotate.set_password("
                f"'{roles.targets[0]}', '{scram_verifier(random_password())}', 'arn:x', 'v1')",
                dbname=db)
        before = audit_rows(pg, db)
        assert [r.split("|")[1] for r in before] == ["role_added", "password_set"]

        pgtle.run_installer(pg, db)
        pg.psql("ALTER EXTENSION pg_rotate UPDATE", dbname=db)
        pgtle.set_password_check(pg, mode="require")

        assert pg.psql("SELECT extversion FROM pg_extension WHERE extname = 'pg_rotate'",
                       dbname=db).strip() == sql_flavour.default_version()
        assert audit_rows(pg, db) == before
        assert chain_ok(pg, db)
        assert registered(pg, db) == ["rotate_hook.passcheck"]

        pgtle.create_pg_rotate(pg, fresh)
        roles.grant(fresh)
        want, got = sql_flavour.snapshot(pg, fresh), sql_flavour.snapshot(pg, db)
        assert sorted(got) == sorted(want)
        for key in want:
            assert got[key] == want[key], key

        pg.psql(f"SET ROLE {roles.rotator}; SELECT rotate.set_password("
                f"'{roles.targets[0]}', '{scram_verifier(random_password())}', 'arn:x', 'v2')",
                dbname=db)
        assert audit_rows(pg, db)[-1].split("|")[1:4] == [
            "password_set", roles.targets[0], '{"enforcement": "on"}']
        assert chain_ok(pg, db)

        # the installer registers each version once
        proc = pgtle.run_installer(pg, db, check=False)
        assert proc.returncode == 3
        assert "pg_rotate 1.1 is already registered with pg_tle" in proc.stderr
    finally:
        pgtle.set_password_check(pg, mode="require")
        if roles:
            pg.psql(f"DROP OWNED BY {roles.rotator}", dbname=fresh, check=False)
            roles.drop(db)
        drop_db(pg, db)
        drop_db(pg, fresh)


def test_drop_extension_unregisters_the_password_check(tle_pg):
    """Else, with require, every password change in the database would fail
    on a function that no longer exists."""
    pg = tle_pg
    db = new_db(pg)
    try:
        pgtle.create_pg_rotate(pg, db)
        assert registered(pg, db) == ["rotate_hook.passcheck"]
        pg.psql("DROP EXTENSION pg_rotate", dbname=db)
        assert registered(pg, db) == []
        assert pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'rotate_hook'",
                       dbname=db).strip() == "0"
    finally:
        drop_db(pg, db)


def test_flavour_switches_register_and_unregister_the_password_check(pgtle_install):
    """A self-managed server with pg_tle and pg_rotate's files: the SQL-only
    flavour from its file registers the password check; switching to the C
    flavour unregisters it (pg_tle refuses to drop a registered function)
    and drops its schema; switching back registers it again.  The C
    flavour registers none, so with require (and the library not
    preloaded) pg_tle refuses its set_password's change too."""
    install = pgtle.build_install(keep_pg_rotate=True)
    pg = install.cluster().start()
    db = "t_switch"
    try:
        pgtle.create_database(pg, db)
        version = sql_flavour.default_version()
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{version}-sql'", dbname=db)
        roles = Roles(pg, db)
        assert registered(pg, db) == ["rotate_hook.passcheck"]

        pg.psql(f"ALTER EXTENSION pg_rotate UPDATE TO '{version}'", dbname=db)
        assert registered(pg, db) == []
        assert pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'rotate_hook'",
                       dbname=db).strip() == "0"
        assert pg.psql("SELECT rotate.enforcement()->>'flavour'", dbname=db).strip() == "C"
        proc = pg.psql(f"SET ROLE {roles.rotator}; SELECT rotate.set_password("
                       f"'{roles.targets[0]}', '{scram_verifier(random_password())}')",
                       dbname=db, check=False)
        assert proc.returncode == 3
        assert 'no entries exist in "pgtle.feature_info"' in proc.stderr

        pg.psql(f"ALTER EXTENSION pg_rotate UPDATE TO '{version}-sql'", dbname=db)
        assert registered(pg, db) == ["rotate_hook.passcheck"]
        assert chain_ok(pg, db)
        roles.drop(db)
    finally:
        pg.stop()
        install.remove()


def test_without_pg_tle_source_the_tests_skip_and_say_why(tmp_path):
    """In a checkout with no ../shared beside it (a user's clone), the pg_tle
    tests are skipped with a one-line reason; they start nothing."""
    checkout = tmp_path / "pg_rotate"
    shutil.copytree(os.path.join(util.REPO, "test"), checkout / "test",
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "test/test_pgtle_passcheck.py"], cwd=checkout,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    missing = tmp_path / "shared" / "pg_tle" / "pg_tle-1.5.2.tar.gz"
    reason = (f"pg_tle's source is not here ({missing}: ../shared/pg_tle beside the checkout)")
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped and all(line.endswith(reason) for line in skipped), proc.stdout
    with open(checkout / "test" / "test_pgtle_passcheck.py") as f:
        tests = sum(line.startswith("def test_") for line in f)
    assert f"{tests} skipped" in proc.stdout, proc.stdout
