"""The ban on self-change on Amazon RDS's terms: the SQL-only flavour
installed through the real pg_tle (built from ../shared/pg_tle, see
pgtle.py), its password check registered, pgtle.enable_password_check =
require.  The self-change attacks of the C flavour's tests
(extension/test/sql/06_self_change.sql, test_extension_cross_database.py,
test_extension_log.py), in the pg_rotate database and in others; attempts
to pass for rotate.set_password; the enforcement an audit row records; and
the known gaps, each shown happening (README.md lists them with the
reason)."""

import json
import os
import uuid

import psycopg2
import pytest

import pgtle
from extension_util import Roles, random_password, scram_verifier
from harness import leakscan


def new_db(pg, prefix="t_tle_"):
    name = prefix + uuid.uuid4().hex[:10]
    pgtle.create_database(pg, name)
    return name


def drop_db(pg, name):
    pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def tle_db(tle_pg):
    """A database with pg_rotate from make pg_tle's installer."""
    name = new_db(tle_pg)
    pgtle.create_pg_rotate(tle_pg, name)
    try:
        yield name
    finally:
        drop_db(tle_pg, name)


@pytest.fixture
def roles(tle_pg, tle_db):
    r = Roles(tle_pg, tle_db, targets=1)
    r.app = r.targets[0]
    r.creator = r.unmanaged.replace("unmanaged", "creator")
    r.member = r.unmanaged.replace("unmanaged", "member")
    tle_pg.psql(f"CREATE ROLE {r.creator} CREATEROLE; CREATE ROLE {r.member} LOGIN;"
                f"GRANT {r.app} TO {r.member}", dbname=tle_db)
    try:
        yield r
    finally:
        for extra in (r.creator, r.member):
            tle_pg.psql(f"DROP OWNED BY {extra}", dbname=tle_db, check=False)
            tle_pg.psql(f"DROP ROLE IF EXISTS {extra}", check=False)
        tle_pg.psql(f"DROP OWNED BY {r.app}", dbname=tle_db, check=False)
        r.drop(tle_db)


def run_as(pg, dbname, user, sql, params=None):
    """Run sql as user (over the socket: trust); the psycopg2 error, or None."""
    conn = pg.connect(user=user, dbname=dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        return None
    except psycopg2.Error as e:
        return e
    finally:
        conn.close()


def rolpassword(pg, role):
    return pg.psql(f"SELECT coalesce(rolpassword, '<null>') FROM pg_authid"
                   f" WHERE rolname = '{role}'").strip()


def audit(pg, dbname, since=0):
    out = pg.psql("SELECT event || '|' || coalesce(target, '') || '|' || detail::text"
                  f" FROM rotate.audit_log WHERE id > {since} ORDER BY id", dbname=dbname)
    return [line for line in out.splitlines() if line]


def last_id(pg, dbname):
    return int(pg.psql("SELECT coalesce(max(id), 0) FROM rotate.audit_log", dbname=dbname))


def counted_then(pg, dbname, since):
    """The rows after id since, the refusals_unrecorded row (which the
    password check's refusals lead to at the next write) as its count."""
    rows = []
    for row in audit(pg, dbname, since):
        event, _, detail = row.split("|", 2)
        rows.append(f"counted {json.loads(detail)['count']}" if event == "refusals_unrecorded"
                    else row)
    return rows


def set_by_rotator(pg, dbname, roles, verifier):
    pg.psql(f"SET ROLE {roles.rotator};"
            f"SELECT rotate.set_password('{roles.app}', '{verifier}', 'arn:tle', 'v-tle')",
            dbname=dbname)


def pg_literal(text):
    return "'" + text.replace("'", "''") + "'"


def assert_refused(err, code, message, what="the change"):
    assert err is not None, f"{what}: accepted"
    assert err.pgcode == code, f"{what}: {err.pgerror}"
    assert message in err.pgerror, f"{what}: {err.pgerror}"


SELF = 'role "{app}" cannot change its own password'
OTHER = 'permission denied to change the password of role "{app}"'


def test_self_change_attacks_are_refused_in_the_pg_rotate_database(tle_pg, tle_db, roles):
    """06_self_change.sql's attacks, the role connected as itself, and the
    ways to act as it without being its session user."""
    pg, db, app = tle_pg, tle_db, roles.app
    set_by_rotator(pg, db, roles, scram_verifier(random_password()))
    before = rolpassword(pg, app)
    mark = last_id(pg, db)
    own = scram_verifier(random_password())
    self_msg = SELF.format(app=app)
    attacks = [
        ("plaintext", f"ALTER ROLE {app} PASSWORD 'my own choice'"),
        ("ALTER USER ... ENCRYPTED", f"ALTER USER {app} WITH ENCRYPTED PASSWORD 'my own choice'"),
        ("a verifier, as psql's \\password sends it", f"ALTER USER CURRENT_USER PASSWORD '{own}'"),
        ("SESSION_USER", f"ALTER ROLE SESSION_USER PASSWORD '{own}'"),
        ("md5", f"ALTER ROLE {app} PASSWORD 'md5{'0' * 32}'"),
        ("from PL/pgSQL", f"DO $$ BEGIN EXECUTE 'ALTER ROLE {app} PASSWORD ''from plpgsql'''; END $$"),
    ]
    for what, sql in attacks:
        assert_refused(run_as(pg, db, app, sql), "42501", self_msg, what)
    # with other attributes, PostgreSQL itself refuses first (a role without
    # CREATEROLE may change nothing but its own password)
    err = run_as(pg, db, app, f"ALTER ROLE {app} LOGIN PASSWORD 'x' VALID UNTIL 'infinity'")
    assert_refused(err, "42501", "permission denied")

    # a member of the role, after SET ROLE
    err = run_as(pg, db, roles.member, f"SET ROLE {app}; ALTER ROLE {app} PASSWORD '{own}'")
    assert_refused(err, "42501", self_msg)
    # a SECURITY DEFINER function of the role's, run by a superuser
    pg.psql(f"GRANT CREATE ON SCHEMA public TO {app}", dbname=db)
    assert run_as(pg, db, app, "CREATE FUNCTION public.trojan() RETURNS void LANGUAGE plpgsql"
                  f" SECURITY DEFINER AS $$ BEGIN EXECUTE 'ALTER ROLE {app} PASSWORD ''{own}''';"
                  " END $$") is None
    err = run_as(pg, db, pg.superuser, "SELECT public.trojan()")
    assert_refused(err, "42501", self_msg)

    # a CREATEROLE role may not change it either
    err = run_as(pg, db, pg.superuser,
                 f"SET SESSION AUTHORIZATION {roles.creator}; ALTER ROLE {app} PASSWORD '{own}'")
    assert_refused(err, "42501", OTHER.format(app=app))
    # ... but may change other things
    assert run_as(pg, db, pg.superuser, f"SET SESSION AUTHORIZATION {roles.creator};"
                  f"ALTER ROLE {app} CONNECTION LIMIT 5") is None

    assert rolpassword(pg, app) == before
    # refusals leave no row: the ERROR rolls back the transaction, and pg_tle
    # gives no way to commit one (see README.md) ...
    assert audit(pg, db, mark) == []
    # ... but each is counted, and the next write says how many: the nine
    # above but the one PostgreSQL refused first
    set_by_rotator(pg, db, roles, scram_verifier(random_password()))
    assert counted_then(pg, db, mark) == [
        "counted 9", f'password_set|{app}|{{"enforcement": "on"}}']

    # an unmanaged role changes its own password as usual
    assert run_as(pg, db, roles.unmanaged,
                  f"ALTER ROLE {roles.unmanaged} PASSWORD '{own}'") is None


def test_superuser_direct_change_is_audited_and_only_a_verifier(tle_pg, tle_db, roles):
    pg, db, app = tle_pg, tle_db, roles.app
    mark = last_id(pg, db)
    verifier = scram_verifier(random_password())
    pg.psql(f"ALTER ROLE {app} PASSWORD '{verifier}'", dbname=db)
    assert rolpassword(pg, app) == verifier
    assert audit(pg, db, mark) == [
        f'direct_change|{app}|{{"statement": "ALTER ROLE", "current_user": "postgres"}}']

    # rolled back: neither the password nor the row
    pg.psql(f"BEGIN; ALTER ROLE {app} PASSWORD '{scram_verifier(random_password())}'; ROLLBACK",
            dbname=db)
    assert rolpassword(pg, app) == verifier
    assert len(audit(pg, db, mark)) == 1

    # never a plaintext password, not even from a superuser (a refusal,
    # counted as the others)
    mark = last_id(pg, db)
    err = run_as(pg, db, pg.superuser, f"ALTER ROLE {app} PASSWORD 'plain text'")
    assert_refused(err, "22023", f'password of role "{app}" must be a SCRAM-SHA-256 verifier')
    assert rolpassword(pg, app) == verifier
    pg.psql(f"ALTER ROLE {app} PASSWORD '{verifier}'", dbname=db)
    assert counted_then(pg, db, mark) == [
        "counted 1",
        f'direct_change|{app}|{{"statement": "ALTER ROLE", "current_user": "postgres"}}']


def test_password_null_is_not_seen(tle_pg, tle_db, roles):
    """Known gap: PostgreSQL calls the password check hook only for a
    password that is not NULL, so a managed role can remove its own password
    (locking itself out of password logins), unrecorded."""
    pg, db, app = tle_pg, tle_db, roles.app
    set_by_rotator(pg, db, roles, scram_verifier(random_password()))
    mark = last_id(pg, db)
    assert run_as(pg, db, app, "ALTER USER SESSION_USER PASSWORD NULL") is None
    assert rolpassword(pg, app) == "<null>"
    assert audit(pg, db, mark) == []


def test_no_one_can_pass_for_set_password(tle_pg, tle_db, roles):
    """What a forger can control: its own settings, its own statements'
    text (comments included), its own functions' names.  None of them makes
    a change pass for rotate.set_password's, which the password check lets
    through without a row; a superuser's forged change is recorded as the
    direct change it is."""
    pg, db, app = tle_pg, tle_db, roles.app
    set_by_rotator(pg, db, roles, scram_verifier(random_password()))
    before = rolpassword(pg, app)
    own = scram_verifier(random_password())
    self_msg = SELF.format(app=app)
    frame = "PL/pgSQL function rotate.set_password(name,text,text,text) line 1 at EXECUTE"
    # the statement set_password runs, with fake stack frames in a comment
    forged = (f"ALTER ROLE {app} PASSWORD '{own}' /*\"\n{frame}\n*/")

    # settings a naive design would trust
    err = run_as(pg, db, app, "SET pg_rotate.set_password = 'on';"
                 "SET rotate_hook.caller = 'rotate.set_password';"
                 f"ALTER ROLE {app} PASSWORD '{own}'")
    assert_refused(err, "42501", self_msg)
    # fake frames
    err = run_as(pg, db, app, "DO $$ BEGIN EXECUTE %s; END $$", (forged,))
    assert_refused(err, "42501", self_msg)
    # a function of its own by the same name, running the same statement
    pg.psql(f"CREATE SCHEMA forger AUTHORIZATION {app}", dbname=db)
    body = ("CREATE FUNCTION forger.set_password(target name, verifier text,"
            " secret_id text DEFAULT NULL, version_id text DEFAULT NULL) RETURNS bigint"
            " LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ BEGIN"
            " EXECUTE format('ALTER ROLE %I PASSWORD %L', target, verifier); RETURN 0; END $$")
    assert run_as(pg, db, app, body) is None
    err = run_as(pg, db, app, "SET search_path = forger, public;"
                 f"SELECT set_password('{app}', '{own}')")
    assert_refused(err, "42501", self_msg)
    assert rolpassword(pg, app) == before

    # the same two tricks from the superuser who owns set_password: the
    # stack is all that tells them apart, and each is a direct change
    mark = last_id(pg, db)
    pg.psql(f"DO $d$ BEGIN EXECUTE {pg_literal(forged)}; END $d$", dbname=db)
    pg.psql(f"ALTER FUNCTION forger.set_password(name, text, text, text) OWNER TO {pg.superuser};"
            f"SET search_path = forger, public; SELECT set_password('{app}', '{own}')", dbname=db)
    assert counted_then(pg, db, mark) == ["counted 3"] + [
        f'direct_change|{app}|{{"statement": "ALTER ROLE", "current_user": "postgres"}}'] * 2
    # while set_password's own change writes its password_set row, and no
    # other; also with a verifier longer than the 255 bytes pg_tle passes on
    for salt in (None, os.urandom(200)):
        mark = last_id(pg, db)
        verifier = scram_verifier(random_password(), salt=salt)
        set_by_rotator(pg, db, roles, verifier)
        assert audit(pg, db, mark) == [f'password_set|{app}|{{"enforcement": "on"}}']
        assert rolpassword(pg, app) == verifier
    assert len(verifier) > 255


def test_other_databases_refuse_password_changes_under_require(tle_pg, tle_db, roles):
    """A role belongs to the whole cluster.  With require, a database
    without pg_tle, or with no password check registered, refuses every
    password change.  Known gaps: a database whose pg_tle has another
    password check registered, and the setting "on"."""
    pg, app = tle_pg, roles.app
    own = scram_verifier(random_password())
    change = f"ALTER ROLE {app} PASSWORD '{own}'"
    set_by_rotator(pg, tle_db, roles, scram_verifier(random_password()))
    before = rolpassword(pg, app)

    for user in (app, pg.superuser):
        err = run_as(pg, "postgres", user, change)
        assert_refused(err, "XX000",
                       'feature is set to require but extension "pg_tle" is not installed')
    other = new_db(pg, "t_other_")
    try:
        err = run_as(pg, other, app, change)
        assert_refused(err, "XX000", 'no entries exist in "pgtle.feature_info"')
        assert rolpassword(pg, app) == before

        # gap: another registered password check knows nothing of pg_rotate
        pg.psql("CREATE FUNCTION public.strength(text, text, pgtle.password_types,"
                " timestamptz, boolean) RETURNS void LANGUAGE plpgsql AS 'BEGIN END';"
                "SELECT pgtle.register_feature('public.strength', 'passcheck')", dbname=other)
        assert run_as(pg, other, app, change) is None
        assert rolpassword(pg, app) == own

        # gap: with "on", a database without a registered check checks nothing
        pgtle.set_password_check(pg, mode="on")
        try:
            again = scram_verifier(random_password())
            assert run_as(pg, "postgres", app, f"ALTER ROLE {app} PASSWORD '{again}'") is None
            assert rolpassword(pg, app) == again
            # while the pg_rotate database still refuses
            err = run_as(pg, tle_db, app, change)
            assert_refused(err, "42501", SELF.format(app=app))
        finally:
            pgtle.set_password_check(pg, mode="require")
    finally:
        drop_db(pg, other)


def test_marks_carry_the_ban_to_other_pg_rotate_databases(tle_pg, tle_db, roles):
    """Where the extension's owner is a superuser (a self-managed server),
    listing a role marks it for its database (pg_db_role_setting, shared by
    the cluster), and the password check of any pg_rotate database honours
    any database's mark, as the C flavour's hook does; the role cannot
    clear its mark.  (On RDS there are no marks: the next test.)"""
    pg, app = tle_pg, roles.app
    other = new_db(pg, "t_other_")
    try:
        pgtle.create_pg_rotate(pg, other)
        assert pg.psql("SELECT count(*) FROM rotate.managed_role", dbname=other).strip() == "0"
        own = scram_verifier(random_password())
        err = run_as(pg, other, app, f"ALTER ROLE {app} PASSWORD '{own}'")
        assert_refused(err, "42501", SELF.format(app=app))
        err = run_as(pg, other, app,
                     f"ALTER ROLE {app} IN DATABASE {tle_db} RESET pg_rotate.managed")
        assert_refused(err, "42501", 'permission denied to set parameter "pg_rotate.managed"')
        assert pg.psql(f"SELECT count(*) FROM rotate.marks() m JOIN pg_roles r ON r.oid = m.role"
                       f" WHERE r.rolname = '{app}'", dbname=other).strip() == "1"

        # unlisted where it was listed: no mark, none of pg_rotate's business
        pg.psql(f"DELETE FROM rotate.managed_role WHERE role_name = '{app}'", dbname=tle_db)
        assert run_as(pg, other, app, f"ALTER ROLE {app} PASSWORD '{own}'") is None
        assert rolpassword(pg, app) == own
    finally:
        drop_db(pg, other)


@pytest.fixture
def rds(tle_pg):
    """Two databases set up as on Amazon RDS: the extension created by a
    "master user" that is no superuser (CREATEROLE, a member of
    pgtle_admin), so pg_rotate keeps no marks (and, without a superuser,
    no DDL guard: a WARNING); the first lists the app role."""
    pg = tle_pg
    tag = uuid.uuid4().hex[:8]
    master, app, rotator = f"master_{tag}", f"app_{tag}", f"rotator_{tag}"
    dbs = [f"t_rds_{tag}_{i}" for i in range(2)]
    pg.psql(f"CREATE ROLE {master} LOGIN CREATEROLE CREATEDB")
    pg.psql(f"GRANT pgtle_admin TO {master}")
    try:
        for db in dbs:
            pg.psql(f"CREATE DATABASE {db} OWNER {master}")
            pg.psql("CREATE EXTENSION pg_tle", dbname=db)    # rds_superuser's part
            pgtle.run_installer(pg, db, user=master)
            assert run_as(pg, db, master, "CREATE EXTENSION pg_rotate") is None
        assert run_as(pg, dbs[0], master,
                      f"CREATE ROLE {app} LOGIN; CREATE ROLE {rotator} LOGIN;"
                      f"GRANT USAGE ON SCHEMA rotate TO {rotator};"
                      "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text)"
                      f" TO {rotator};"
                      f"INSERT INTO rotate.managed_role (role_name) VALUES ('{app}')") is None
        yield {"master": master, "app": app, "rotator": rotator, "dbs": dbs}
    finally:
        for db in dbs:
            drop_db(pg, db)
        for role in (app, rotator, master):
            pg.psql(f"DROP ROLE IF EXISTS {role}", check=False)


def test_on_rds_the_ban_holds_where_the_role_is_listed(tle_pg, rds):
    """The master user owns set_password, whose changes the check lets
    through, and is refused like any non-superuser.  Known gap: with no
    marks, another pg_rotate database whose list does not name the role
    lets it change its own password (README.md)."""
    pg, app, master = tle_pg, rds["app"], rds["master"]
    listed, unlisted = rds["dbs"]
    assert run_as(pg, listed, rds["rotator"], "SELECT rotate.set_password(%s, %s)",
                  (app, scram_verifier(random_password()))) is None
    assert audit(pg, listed)[-1] == f'password_set|{app}|{{"enforcement": "on"}}'
    assert pg.psql("SELECT count(*) FROM rotate.marks()", dbname=listed).strip() == "0"

    own = scram_verifier(random_password())
    err = run_as(pg, listed, app, f"ALTER ROLE {app} PASSWORD '{own}'")
    assert_refused(err, "42501", SELF.format(app=app))
    err = run_as(pg, listed, master, f"ALTER ROLE {app} PASSWORD '{own}'")
    assert_refused(err, "42501", OTHER.format(app=app))
    # the gap
    assert run_as(pg, unlisted, app, f"ALTER ROLE {app} PASSWORD '{own}'") is None
    assert rolpassword(pg, app) == own


def test_set_password_changed_by_its_owner_is_recognised_only_unchanged(tle_pg, rds):
    """The check knows set_password's change by its statement's exact text
    and its frame in the call stack, whatever line that is on: a
    set_password whose lines moved still passes; one that runs another
    statement (ALTER ROLE ... WITH PASSWORD, the same change) is refused,
    where its owner is no superuser (on RDS), and leaves the password."""
    pg, app, master, db = tle_pg, rds["app"], rds["master"], rds["dbs"][0]
    definition = pg.psql("SELECT pg_get_functiondef("
                         "'rotate.set_password(name, text, text, text)'::regprocedure)",
                         dbname=db)
    statement = "EXECUTE format('ALTER ROLE %I PASSWORD %L', target, verifier);"
    assert definition.count(statement) == 1
    assert definition.count("\nBEGIN\n") == 1

    def rotate():
        verifier = scram_verifier(random_password())
        return verifier, run_as(pg, db, rds["rotator"], "SELECT rotate.set_password(%s, %s)",
                                (app, verifier))

    moved = definition.replace("\nBEGIN\n", "\nBEGIN\n\t-- a line more, and\n\t-- another\n")
    assert run_as(pg, db, master, moved) is None
    verifier, err = rotate()
    assert err is None and rolpassword(pg, app) == verifier

    changed = definition.replace(statement, statement.replace("%I PASSWORD", "%I WITH PASSWORD"))
    assert run_as(pg, db, master, changed) is None
    before = rolpassword(pg, app)
    _, err = rotate()
    assert_refused(err, "42501", OTHER.format(app=app))
    assert rolpassword(pg, app) == before


def enforcement(pg, dbname):
    return pg.psql("SELECT e->>'flavour', e->>'state', e->>'why' FROM rotate.enforcement() e",
                   dbname=dbname).strip().split("|")


def test_audit_rows_record_the_enforcement_in_force(tle_pg, tle_db, roles):
    """on with require (and with on); off when the setting is off, when
    pg_tle would run the check in a background worker, and when the check
    is not registered - and then the attack goes through (known gaps)."""
    pg, db, app = tle_pg, tle_db, roles.app
    own = scram_verifier(random_password())
    assert enforcement(pg, db)[:2] == ["SQL-only", "on"]
    mark = last_id(pg, db)
    set_by_rotator(pg, db, roles, scram_verifier(random_password()))
    assert audit(pg, db, mark) == [f'password_set|{app}|{{"enforcement": "on"}}']

    try:
        pgtle.set_password_check(pg, mode="off")
        flavour, state, why = enforcement(pg, db)
        assert (state, why) == ("off", "pgtle.enable_password_check is off: set it to require.")
        mark = last_id(pg, db)
        set_by_rotator(pg, db, roles, scram_verifier(random_password()))
        assert audit(pg, db, mark) == [f'password_set|{app}|{{"enforcement": "off"}}']
        assert run_as(pg, db, app, f"ALTER ROLE {app} PASSWORD '{own}'") is None
        assert rolpassword(pg, app) == own

        pgtle.set_password_check(pg, mode="on")
        assert enforcement(pg, db)[1] == "on"

        pgtle.set_password_check(pg, mode="require", db_name=db)
        flavour, state, why = enforcement(pg, db)
        assert state == "off" and why.startswith("pgtle.passcheck_db_name is set")
        mark = last_id(pg, db)
        set_by_rotator(pg, db, roles, scram_verifier(random_password()))
        assert audit(pg, db, mark) == [f'password_set|{app}|{{"enforcement": "off"}}']
        # known gap: the check, in pg_tle's worker, cannot tell the role from the rotator
        again = scram_verifier(random_password())
        assert run_as(pg, db, app, f"ALTER ROLE {app} PASSWORD '{again}'") is None
        assert rolpassword(pg, app) == again
        pgtle.set_password_check(pg, db_name="")
    finally:
        pgtle.set_password_check(pg, mode="require", db_name="")

    pg.psql("SELECT pgtle.unregister_feature('rotate_hook.passcheck', 'passcheck')", dbname=db)
    flavour, state, why = enforcement(pg, db)
    assert state == "off" and why.startswith("rotate_hook.passcheck is not registered")
    pg.psql("SELECT pgtle.register_feature('rotate_hook.passcheck', 'passcheck')", dbname=db)
    assert enforcement(pg, db)[1] == "on"


def test_refused_plaintext_never_reaches_the_server_log(tle_pg, tle_db, roles):
    """pg_tle hides the statement and the context of a refusal, so neither a
    managed role's plaintext nor its verifier reaches the log, even from
    PL/pgSQL (whose context would quote the statement)."""
    pg, db, app = tle_pg, tle_db, roles.app
    plain, other = random_password(), random_password()
    verifier = scram_verifier(other)
    quiet = "SET log_statement = 'none'; SET log_min_duration_statement = -1;"
    mark = pg.log_mark()
    procs = [pg.psql(f"{quiet} SET SESSION AUTHORIZATION {app}; {sql}", dbname=db, check=False)
             for sql in (f"ALTER ROLE {app} PASSWORD '{plain}';",
                         f"DO $$ BEGIN EXECUTE 'ALTER ROLE {app} PASSWORD ''{verifier}'''; END $$;")]
    assert [p.returncode for p in procs] == [3, 3]
    log = pg.log_since(mark)
    assert log.count(SELF.format(app=app)) == 2
    leakscan.assert_no_leaks([plain, other, verifier], {"server log": log})


def test_faked_settings_do_not_turn_enforcement_on(tle_pg, tle_db, roles):
    """pg_tle installed and its check registered, but the library no longer
    preloaded: pgtle.* are then placeholders anyone may SET in a session,
    and the rotation role setting them does not make its rows say that the
    ban is on.  (Last in this module: it restarts the cluster twice.)"""
    pg, db = tle_pg, tle_db
    fake = "SET pgtle.enable_password_check = 'require'; SET pgtle.passcheck_db_name = '';"
    pg.psql("ALTER SYSTEM RESET shared_preload_libraries")
    pg.restart()
    try:
        mark = last_id(pg, db)
        out = pg.psql(f"SET ROLE {roles.rotator}; {fake}"
                      "SELECT e->>'state', e->>'why' FROM rotate.enforcement() e;"
                      f"SELECT rotate.set_password('{roles.app}',"
                      f" '{scram_verifier(random_password())}')", dbname=db)
        assert out.splitlines()[0] == ("off|pg_tle is not loaded: add it to shared_preload_libraries"
                                       " (the parameter group on RDS) and restart.")
        assert audit(pg, db, mark) == [f'password_set|{roles.app}|{{"enforcement": "off"}}']
    finally:
        pg.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_tle'")
        pg.restart()
    assert enforcement(pg, db)[1] == "on"
