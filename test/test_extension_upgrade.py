"""Upgrades and flavour switches keep the audit log and end where a fresh
install of the target version would.

1.0's scripts are the released ones (extension/pg_rotate--1.0.sql and
pg_rotate--1.0-sql.sql, committed and never edited); the others are built
from extension/sql/ (see extension/Makefile).  Each test writes audit rows
on the old version, updates, and checks that every row is still there,
that the chain verifies, that the catalog matches a fresh install of the
new version (sql_flavour.snapshot: functions, settings, ACLs, comments,
columns, constraints, triggers, what pg_dump keeps), and that the new
version appends to the same chain.

Run on a cluster without shared_preload_libraries: the SQL-only flavour is
tested there (see sql_flavour.py), and the C flavour loads on demand."""

import hashlib
import os
import subprocess
import uuid

import pytest

from harness import util

import sql_flavour
from extension_util import Roles, scram_verifier, random_password

DEFAULT = sql_flavour.default_version()


def new_db(pg):
    name = "t_upg_" + uuid.uuid4().hex[:10]
    pg.psql(f"CREATE DATABASE {name}")
    return name


def drop_db(pg, name):
    pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def ext_version(pg, db):
    return pg.psql("SELECT extversion FROM pg_extension WHERE extname = 'pg_rotate'",
                   dbname=db).strip()


def flavour_language(pg, db):
    return pg.psql("SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                   " WHERE p.oid = 'rotate.set_password(name, text, text, text)'::regprocedure",
                   dbname=db).strip()


def audit_rows(pg, db):
    return pg.psql("SELECT id, event, target, row_hash FROM rotate.audit_log ORDER BY id",
                   dbname=db).splitlines()


def assert_chain_verifies(pg, db):
    out = pg.psql("SELECT ok, rows_checked, first_bad_id, problem"
                  " FROM rotate.verify_audit_log()", dbname=db).strip()
    assert out.startswith("t|"), out


def rotate_once(pg, db, roles):
    """One password_set row and one finished row, as the rotation role."""
    verifier = scram_verifier(random_password())
    version = f"v-{uuid.uuid4().hex[:6]}"
    pg.psql(f"SET ROLE {roles.rotator};"
            f"SELECT rotate.set_password('{roles.targets[0]}', '{verifier}', 'secret-x', '{version}');"
            f"SELECT rotate.log_event('{roles.targets[0]}', 'finished', 'secret-x', '{version}', '{{\"lag_ms\": 3}}')",
            dbname=db)


def assert_same_as_fresh(pg, db, version, roles):
    """db's extension objects equal a fresh CREATE EXTENSION ... VERSION
    given the same grants."""
    fresh = new_db(pg)
    try:
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{version}'", dbname=fresh)
        roles.grant(fresh)
        want = sql_flavour.snapshot(pg, fresh)
        got = sql_flavour.snapshot(pg, db)
        assert sorted(got) == sorted(want), "objects differ from a fresh install"
        for key in want:
            assert got[key] == want[key], f"{key} differs from a fresh install of {version}"
    finally:
        pg.psql(f"DROP OWNED BY {roles.rotator}", dbname=fresh, check=False)
        drop_db(pg, fresh)


@pytest.mark.parametrize("old,new", [("1.0", DEFAULT), ("1.0-sql", DEFAULT + "-sql")],
                         ids=["c", "sql"])
def test_update_from_released_1_0_keeps_the_chain_and_matches_a_fresh_install(bare_pg, old, new):
    pg = bare_pg
    db = new_db(pg)
    roles = None
    try:
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{old}'", dbname=db)
        roles = Roles(pg, db)
        rotate_once(pg, db, roles)
        before = audit_rows(pg, db)
        assert len(before) == 3  # role_added, password_set, finished

        pg.psql(f"ALTER EXTENSION pg_rotate UPDATE TO '{new}'", dbname=db)

        assert ext_version(pg, db) == new
        assert audit_rows(pg, db) == before
        assert_chain_verifies(pg, db)
        assert_same_as_fresh(pg, db, new, roles)
        rotate_once(pg, db, roles)
        assert len(audit_rows(pg, db)) == 5
        assert_chain_verifies(pg, db)
    finally:
        if roles:
            roles.drop(db)
        drop_db(pg, db)


def test_plain_update_from_1_0_reaches_the_default_version(bare_pg):
    """ALTER EXTENSION pg_rotate UPDATE, with no version, from the C 1.0."""
    pg = bare_pg
    db = new_db(pg)
    try:
        pg.psql("CREATE EXTENSION pg_rotate VERSION '1.0'", dbname=db)
        pg.psql("ALTER EXTENSION pg_rotate UPDATE", dbname=db)
        assert ext_version(pg, db) == DEFAULT
        assert flavour_language(pg, db) == "c"
    finally:
        drop_db(pg, db)


def test_switching_flavours_keeps_the_audit_log(bare_pg):
    """C -> SQL-only -> C within the default version: every row kept, the
    chain verifies, each flavour appends to it and the catalog matches a
    fresh install of that flavour."""
    pg = bare_pg
    db = new_db(pg)
    roles = None
    try:
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{DEFAULT}'", dbname=db)
        roles = Roles(pg, db)
        rotate_once(pg, db, roles)
        for version, language in ((DEFAULT + "-sql", "plpgsql"), (DEFAULT, "c")):
            before = audit_rows(pg, db)
            pg.psql(f"ALTER EXTENSION pg_rotate UPDATE TO '{version}'", dbname=db)
            assert ext_version(pg, db) == version
            assert flavour_language(pg, db) == language
            assert audit_rows(pg, db) == before
            assert_chain_verifies(pg, db)
            assert_same_as_fresh(pg, db, version, roles)
            rotate_once(pg, db, roles)
            assert len(audit_rows(pg, db)) == len(before) + 2
            assert_chain_verifies(pg, db)
    finally:
        if roles:
            roles.drop(db)
        drop_db(pg, db)


# The released scripts' SHA-256, taken when each was released.  A new
# release adds its own; none of these may ever change.
RELEASED = {
    "pg_rotate--1.0.sql": "372f6f78c2357ca803d894f8fa7da19576ba7fc8f8b18f3fa59e749a534ad196",
    "pg_rotate--1.0-sql.sql": "3caa443b15defe4b7862cca1657578c19f3e3acb4108f401fb6d6a45e983a41f",
}


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_released_scripts_are_committed_and_never_edited(name):
    """Released scripts are files of the repository, not built from the
    pieces in extension/sql/, and keep the bytes they were released with."""
    path = os.path.join(util.REPO, "extension", name)
    tracked = subprocess.run(["git", "-C", util.REPO, "ls-files", "--error-unmatch",
                              f"extension/{name}"], capture_output=True)
    assert tracked.returncode == 0, f"extension/{name} must be committed"
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == RELEASED[name], \
            f"extension/{name} is released: never edit it, add an update script instead"


def marks_of(pg, role):
    """Where role is marked: database names, '-' for 1.0's cluster-wide mark."""
    return pg.psql("SELECT coalesce(string_agg(coalesce(d.datname, '-'), ','"
                   " ORDER BY coalesce(d.datname, '-')), '')"
                   " FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase,"
                   f" unnest(s.setconfig) c WHERE s.setrole = '{role}'::regrole"
                   " AND c = 'pg_rotate.managed=on'").strip()


@pytest.mark.parametrize("old,new", [("1.0", DEFAULT), ("1.0-sql", DEFAULT + "-sql")],
                         ids=["c", "sql"])
def test_update_binds_1_0_entries_to_their_roles_and_marks_them(bare_pg, old, new):
    """1.0 listed names, marked roles cluster-wide, and let a name be listed
    before its role existed.  The update binds each entry to the role its
    name names (role_oid), marks it for this database and keeps 1.0's mark
    until the role leaves the list; an entry without a role stays unbound,
    and set_password refuses a role created under it until it is listed
    again."""
    pg = bare_pg
    db = new_db(pg)
    roles = None
    ghost = "regress_ghost_" + uuid.uuid4().hex[:6]
    try:
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{old}'", dbname=db)
        roles = Roles(pg, db, targets=0)
        app = roles.unmanaged
        # rows as 1.0 wrote them (its triggers held off: the 1.1 library's
        # would already mark by database and refuse the unknown name)
        pg.psql("SET session_replication_role = replica;"
                f"INSERT INTO rotate.managed_role (role_name) VALUES ('{app}'), ('{ghost}');"
                f"ALTER ROLE {app} SET pg_rotate.managed = on", dbname=db)
        before = audit_rows(pg, db)

        pg.psql(f"ALTER EXTENSION pg_rotate UPDATE TO '{new}'", dbname=db)

        assert audit_rows(pg, db) == before        # binding is no change to the list
        bound = pg.psql("SELECT role_name, role_oid = to_regrole(role_name)::oid,"
                        " role_oid IS NULL FROM rotate.managed_role ORDER BY 1", dbname=db)
        assert bound.split() == sorted([f"{app}|t|f", f"{ghost}||t"])
        assert marks_of(pg, app) == ",".join(sorted(["-", db]))

        verifier = scram_verifier(random_password())
        call = (f"SET ROLE {roles.rotator};"
                f"SELECT rotate.set_password('{{}}', '{verifier}')")
        assert pg.psql(call.format(app), dbname=db).strip().isdigit()
        pg.psql(f"CREATE ROLE {ghost} LOGIN")
        proc = pg.psql(call.format(ghost), dbname=db, check=False)
        assert proc.returncode == 3
        assert f'role "{ghost}" is not managed by pg_rotate' in proc.stderr
        assert "SET role_name = role_name" in proc.stderr
        pg.psql(f"UPDATE rotate.managed_role SET role_name = role_name"
                f" WHERE role_name = '{ghost}'", dbname=db)
        assert pg.psql(call.format(ghost), dbname=db).strip().isdigit()

        # leaving the list clears this database's mark and 1.0's with it
        pg.psql(f"DELETE FROM rotate.managed_role WHERE role_name = '{app}'", dbname=db)
        assert marks_of(pg, app) == ""
        assert_chain_verifies(pg, db)
    finally:
        if roles:
            roles.drop(db)
        pg.psql(f"DROP ROLE IF EXISTS {ghost}")
        drop_db(pg, db)
