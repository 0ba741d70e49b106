"""No secret in any field of the audit log (issue 17, class 7, the audit
writer's part), in both flavours: a verifier (in any letter case), its keys
or an MD5 hash in secret_id, version_id, detail, event, target or
application_name is refused, and neither the ERROR, the server log nor the
audit log holds the value. The values travel as the client sends a
verifier, through COPY into a temporary table, so that no statement text
holds them (log_statement = 'all' logs every statement)."""

import io
import uuid

import psycopg2
import pytest

from extension_util import Roles, random_password, scram_parts
from harness import leakscan

CALLS = [
    ("secret_id", "SELECT rotate.log_event(%s, 'tested', s.v, 'v1') FROM pg_temp.stash s"),
    ("version_id", "SELECT rotate.log_event(%s, 'tested', 'arn:s', s.v) FROM pg_temp.stash s"),
    ("detail", "SELECT rotate.log_event(%s, 'tested', 'arn:s', 'v1',"
               " jsonb_build_object('note', s.v)) FROM pg_temp.stash s"),
    ("event", "SELECT rotate.log_event(%s, s.v, 'arn:s', 'v1') FROM pg_temp.stash s"),
    ("version_id", "SELECT rotate.set_password(%s, 'x', 'arn:s', s.v) FROM pg_temp.stash s"),
]


def check_secret_fields_are_refused(pg, db, c_flavour):
    roles = Roles(pg, db, targets=1)
    target = roles.targets[0]
    verifier, salt, stored_key, server_key = scram_parts(random_password())
    md5 = "md5" + uuid.uuid4().hex
    key_pair = f"{stored_key}:{server_key}"
    values = [verifier.lower(), key_pair, md5.upper()]
    secrets = [verifier, verifier.lower(), stored_key, server_key, md5, md5.upper()]
    errors = []
    try:
        conn = pg.connect(user=roles.rotator, dbname=db, password=roles.rotator_password)
        mark = pg.log_mark()
        for value in values:
            with conn.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS pg_temp.stash;"
                            "CREATE TEMP TABLE stash (v text)")
                cur.copy_expert("COPY pg_temp.stash FROM STDIN", io.StringIO(value + "\n"))
            for field, sql in CALLS:
                with pytest.raises(psycopg2.Error) as err:
                    with conn.cursor() as cur:
                        cur.execute(sql, (target,))
                assert err.value.pgcode == "22023", err.value.pgerror
                assert f'audit field "{field}" must not contain a password verifier' \
                    in err.value.pgerror
                errors.append(err.value.pgerror)
            # ... and as application_name, which keeps 63 bytes: a verifier's
            # prefix or an MD5 hash, not a key pair (89 characters)
            if value is key_pair:
                continue
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('application_name', s.v, false) IS NOT NULL"
                            " FROM pg_temp.stash s")
            with pytest.raises(psycopg2.Error) as err:
                with conn.cursor() as cur:
                    cur.execute("SELECT rotate.log_event(%s, 'failed', 'arn:s', 'v1')", (target,))
            assert 'audit field "application_name"' in err.value.pgerror
            errors.append(err.value.pgerror)
            with conn.cursor() as cur:
                cur.execute("RESET application_name")
        conn.close()

        audit = pg.psql("SELECT a::text FROM rotate.audit_log a", dbname=db)
        leakscan.assert_no_leaks(secrets + [v[:63] for v in values], {
            "server log": pg.log_since(mark), "errors": "\n".join(errors),
            "rotate.audit_log": audit})
        denied = pg.psql("SELECT count(*) FROM rotate.audit_log WHERE event = 'denied'"
                         " AND detail->>'reason' = 'secret_in_field'", dbname=db).strip()
        # C keeps every refusal (the value redacted); SQL-only cannot keep one
        assert denied == (str(len(values) * (len(CALLS) + 1) - 1) if c_flavour else "0")
        if c_flavour:
            assert pg.psql("SELECT count(*) FROM rotate.audit_log"
                           " WHERE detail->'redacted' IS NOT NULL", dbname=db).strip() \
                == str(len(values) * 4 - 1)
        assert pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=db).strip() == "t"
    finally:
        roles.drop(db)


def test_secret_fields_are_refused_c_flavour(pg, fresh_db):
    check_secret_fields_are_refused(pg, fresh_db, c_flavour=True)


def test_secret_fields_are_refused_sql_flavour(bare_pg, sql_db):
    check_secret_fields_are_refused(bare_pg, sql_db, c_flavour=False)
