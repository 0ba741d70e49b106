"""The ban on self-change on Amazon RDS's terms: the SQL-only flavour
installed through the real pg_tle (built from ../shared/pg_tle, see
pgtle.py), its password check registered, pgtle.enable_password_check =
require.  The self-change attacks of the C flavour's tests
(extension/test/sql/06_self_change.sql, test_extension_cross_database.py,
test_extension_log.py), in the pg_rotate database and in others; attempts
to pass for rotate.set_password; the enforcement an audit row records; and
the known gaps, each shown happening (README.md lists them with the
reason)."""

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
    # gives no way to commit one (see README.md)
    assert audit(pg, db, mark) == []

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

    # never a plaintext password, not even from a superuser
    err = run_as(pg, db, pg.superuser, f"ALTER ROLE {app} PASSWORD 'plain text'")
    assert_refused(err, "22023", f'password of role "{app}" must be a SCRAM-SHA-256 verifier')
    assert rolpassword(pg, app) == verifier


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
    assert audit(pg, db, mark) == [
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
