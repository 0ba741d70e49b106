"""With log_statement = 'all' and every duration logged, the server log
never holds a password, a verifier or any part of one - for set_password
over the extended protocol (parameters are logged in a DETAIL line), over
the simple protocol, after an error (STATEMENT line), and for a superuser's
bare ALTER ROLE ... PASSWORD.  Positive controls prove the scan would see
each of them if they were there."""

import psycopg2
import pytest

from harness import leakscan

from extension_util import Roles, random_password, scram_parts, scram_verifier


def test_server_log_never_holds_a_password_or_verifier(pg, fresh_db):
    roles = Roles(pg, fresh_db, targets=1)
    target = roles.targets[0]
    password = random_password()                 # the planted, known password
    verifier, salt, stored_key, server_key = scram_parts(password)
    secrets = [password, verifier, salt, stored_key, server_key]
    mark = pg.log_mark()
    try:
        # extended protocol with parameters (psycopg2 sends them inline,
        # so also exercise a server-side PREPARE/EXECUTE)
        conn = pg.connect(user=roles.rotator, dbname=fresh_db, password=roles.rotator_password)
        with conn.cursor() as cur:
            cur.execute("SELECT rotate.set_password(%s, %s, 'arn:log', 'v1')", (target, verifier))
            cur.execute("PREPARE p(name, text) AS SELECT rotate.set_password($1, $2)")
            cur.execute("EXECUTE p(%s, %s)", (target, verifier))
            # an error: the statement is logged again in a STATEMENT line
            try:
                cur.execute("SELECT rotate.set_password(%s, %s)", (roles.unmanaged, verifier))
            except Exception:
                pass
        conn.close()
        # a superuser's bare ALTER ROLE, the bench's baseline
        pg.psql(f"ALTER ROLE {target} PASSWORD '{verifier}'", dbname=fresh_db)

        # the password works: the verifier really is that password's
        login = pg.connect(user=target, dbname=fresh_db, password=password)
        login.close()

        log = pg.log_since(mark)
        # the calls were logged, their literals replaced
        assert "rotate.set_password('<redacted>', '<redacted>'" in log
        assert f"ALTER ROLE {target} PASSWORD '<redacted>'" in log
        leakscan.assert_no_leaks(secrets, {"server log": log})
        # ... nor in the audit rows
        audit = pg.psql("SELECT * FROM rotate.audit_log", dbname=fresh_db)
        leakscan.assert_no_leaks(secrets, {"rotate.audit_log": audit})

        # positive control 1: a key that reaches the log is found
        control = pg.log_mark()
        pg.psql(f"SELECT '{stored_key}' AS control", dbname=fresh_db)
        assert leakscan.find_leaks([stored_key], {"server log": pg.log_since(control)})

        # positive control 2: with redaction off, the very same call leaks
        # the verifier: the redaction is what keeps it out
        control = pg.log_mark()
        conn = pg.connect(dbname=fresh_db)
        with conn.cursor() as cur:
            cur.execute("SET pg_rotate.redact_log = off")
            cur.execute("SELECT rotate.set_password(%s, %s)", (target, verifier))
        conn.close()
        assert leakscan.find_leaks([verifier], {"server log": pg.log_since(control)})
    finally:
        roles.drop(fresh_db)


def test_refused_statement_with_a_plaintext_password_is_not_logged(pg, fresh_db):
    """A refusal is an ERROR, and log_min_error_statement (default: error)
    would log the statement with it: a managed role's own ALTER ROLE ...
    PASSWORD 'plaintext', or set_password given a plaintext password. The
    extension hides the statement, so even with log_statement off nothing
    of those passwords reaches the log."""
    roles = Roles(pg, fresh_db, targets=1)
    target = roles.targets[0]
    own, given = random_password(), random_password()
    quiet = "SET log_statement = 'none'; SET log_min_duration_statement = -1;"
    mark = pg.log_mark()
    try:
        refused = [
            pg.psql(f"{quiet} SET SESSION AUTHORIZATION {target};"
                    f"ALTER ROLE {target} PASSWORD '{own}';", dbname=fresh_db, check=False),
            pg.psql(f"{quiet} SET SESSION AUTHORIZATION {roles.rotator};"
                    f"SELECT rotate.set_password('{target}', '{given}');",
                    dbname=fresh_db, check=False),
        ]
        assert [proc.returncode for proc in refused] == [3, 3]  # psql: error, ON_ERROR_STOP
        log = pg.log_since(mark)
        assert "cannot change its own password" in log
        assert "invalid password verifier" in log
        leakscan.assert_no_leaks([own, given], {"server log": log})
    finally:
        roles.drop(fresh_db)


def test_log_hides_verifiers_pattern_matching_alone_would_miss(pg, fresh_db):
    """PostgreSQL reads the iteration count with strtol, which skips leading
    blanks: "SCRAM-SHA-256$ 4096:..." is a verifier it accepts (the login
    below proves it), so the log must not show it either.  A verifier put
    together inside the statement ('SCRAM-SHA-256$' || '4096:...') has no
    verifier in its text at all: every literal of a statement that calls
    set_password is hidden instead."""
    roles = Roles(pg, fresh_db, targets=1)
    target = roles.targets[0]
    password = random_password()
    verifier, salt, stored_key, server_key = scram_parts(password)
    blank = verifier.replace("$", "$ ", 1)
    head, tail = verifier.split("$", 1)
    secrets = [password, verifier, blank, salt, stored_key, server_key, tail]
    mark = pg.log_mark()
    try:
        pg.psql(f"ALTER ROLE {target} PASSWORD '{blank}'", dbname=fresh_db)
        assert pg.psql(f"SELECT rolpassword = '{blank}' FROM pg_authid"
                       f" WHERE rolname = '{target}'").strip() == "t"
        pg.connect(user=target, dbname=fresh_db, password=password).close()

        conn = pg.connect(user=roles.rotator, dbname=fresh_db, password=roles.rotator_password)
        with conn.cursor() as cur:
            cur.execute(f"SELECT rotate.set_password('{target}', '{head}$' || '{tail}')")
            # a prepared call: EXECUTE's text does not name set_password
            cur.execute("PREPARE q(name, text) AS SELECT rotate.set_password($1, $2)")
            cur.execute(f"EXECUTE q('{target}', '{head}$' || '{tail}')")
            with pytest.raises(psycopg2.Error) as err:
                cur.execute(f"SELECT rotate.set_password('{target}', '{blank}')")
            assert err.value.pgcode == "22023"
        conn.close()
        pg.connect(user=target, dbname=fresh_db, password=password).close()

        log = pg.log_since(mark)
        assert "rotate.set_password" in log
        leakscan.assert_no_leaks(secrets, {"server log": log})
    finally:
        roles.drop(fresh_db)


def test_log_hides_a_plaintext_password_given_to_alter_role(pg, fresh_db):
    """log_statement = 'all' logs a statement before it runs, so a managed
    role's refused ALTER ROLE ... PASSWORD 'plaintext' reached the log ahead
    of the refusal; so did a superuser's.  The literal after PASSWORD is
    replaced in every log entry; with pg_rotate.redact_log off it is not
    (the control)."""
    roles = Roles(pg, fresh_db, targets=1)
    target = roles.targets[0]
    own, given, created, control = (random_password() for _ in range(4))
    own_login = random_password()
    pg.psql(f"ALTER ROLE {target} PASSWORD '{scram_verifier(own_login)}'")
    clone = f"{roles.unmanaged}_c"
    mark = pg.log_mark()
    try:
        conn = pg.connect(user=target, dbname=fresh_db, password=own_login)
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.Error) as err:
                cur.execute(f"ALTER ROLE {target} WITH PASSWORD\n  '{own}'")
            assert err.value.pgcode == "42501"
        conn.close()
        pg.psql(f"ALTER ROLE {target} ENCRYPTED PASSWORD /* c */ E'{given}';"
                f"CREATE ROLE {clone} LOGIN PASSWORD $p${created}$p$", dbname=fresh_db)
        log = pg.log_since(mark)
        assert "cannot change its own password" in log
        assert f"ALTER ROLE {target} ENCRYPTED PASSWORD" in log
        leakscan.assert_no_leaks([own, given, created], {"server log": log})

        mark = pg.log_mark()
        pg.psql(f"SET pg_rotate.redact_log = off; ALTER ROLE {clone} PASSWORD '{control}'")
        assert leakscan.find_leaks([control], {"server log": pg.log_since(mark)})
    finally:
        pg.psql(f"DROP ROLE IF EXISTS {clone}")
        roles.drop(fresh_db)
