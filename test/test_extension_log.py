"""With log_statement = 'all' and every duration logged, the server log
never holds a password, a verifier or any part of one - for set_password
over the extended protocol (parameters are logged in a DETAIL line), over
the simple protocol, after an error (STATEMENT line), and for a superuser's
bare ALTER ROLE ... PASSWORD.  Positive controls prove the scan would see
each of them if they were there."""

from harness import leakscan

from extension_util import Roles, random_password, scram_parts


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
        assert "set_password" in log and "SCRAM-SHA-256$<redacted>" in log
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
