"""Without shared_preload_libraries: set_password and the audit trail work,
the server log says the self-change ban is off, and (as documented) a
managed role can then change its own password."""

from extension_util import random_password, scram_verifier


def test_works_without_preload_and_says_enforcement_is_off(bare_pg):
    pg = bare_pg
    pg.psql("CREATE EXTENSION pg_rotate")
    pg.psql("CREATE ROLE regress_rotator LOGIN; CREATE ROLE regress_app LOGIN;"
            "GRANT USAGE ON SCHEMA rotate TO regress_rotator;"
            "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text)"
            " TO regress_rotator;"
            "INSERT INTO rotate.managed_role (role_name) VALUES ('regress_app');")
    mark = pg.log_mark()
    out = pg.psql("SET SESSION AUTHORIZATION regress_rotator;"
                  f"SELECT rotate.set_password('regress_app', '{scram_verifier(random_password())}');")
    assert out.strip().isdigit()
    assert "pg_rotate is not in shared_preload_libraries" in pg.log_since(mark)
    assert pg.psql("SELECT detail->>'enforcement' FROM rotate.audit_log"
                   " WHERE event = 'password_set'").strip() == "off"
    # and so does rotate.enforcement(), for an auditor
    assert pg.psql("SELECT e->>'flavour', e->>'state', e->>'why' FROM rotate.enforcement() e"
                   ).strip() == ("C|off|pg_rotate is not in shared_preload_libraries:"
                                 " add it and restart the server.")
    # denials are still recorded past the rollback
    pg.psql("SET SESSION AUTHORIZATION regress_rotator;"
            "SELECT rotate.set_password('regress_app', 'plaintext');", check=False)
    assert pg.psql("SELECT count(*) FROM rotate.audit_log WHERE event = 'denied'").strip() == "1"
    # no hook: the role's own change goes through
    pg.psql("SET SESSION AUTHORIZATION regress_app; ALTER ROLE regress_app PASSWORD NULL;")
    assert pg.psql("SELECT ok FROM rotate.verify_audit_log()").strip() == "t"
