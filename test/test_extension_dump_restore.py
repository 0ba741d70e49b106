"""pg_dump / pg_restore keep the audit trail of pg_rotate: the allow-list,
every audit row byte for byte, the id sequence, and a chain that still
verifies and keeps growing after the restore."""

import os
import subprocess
import tempfile
import uuid

from extension_util import Roles, random_password, scram_verifier


AUDIT_COLUMNS = ("id, logged_at, actor, target, event, secret_id, version_id, "
                 "client_addr, application_name, detail, prev_hash, row_hash")


def audit_rows(pg, db):
    return pg.psql(f"SELECT {AUDIT_COLUMNS} FROM rotate.audit_log ORDER BY id", dbname=db)


def verify(pg, db):
    return pg.psql("SELECT ok, first_bad_id FROM rotate.verify_audit_log()", dbname=db).strip()


def test_dump_restore_keeps_a_verifiable_chain(pg, fresh_db):
    roles = Roles(pg, fresh_db, targets=2)
    restored = "t_" + uuid.uuid4().hex[:12]
    try:
        conn = pg.connect(user=roles.rotator, dbname=fresh_db, password=roles.rotator_password)
        with conn.cursor() as cur:
            for i, target in enumerate(roles.targets):
                cur.execute("SELECT rotate.set_password(%s, %s, %s, %s)",
                            (target, scram_verifier(random_password()), "arn:dump", f"v{i}"))
                cur.execute("SELECT rotate.log_event(%s, 'finished', 'arn:dump', %s, "
                            "'{\"lag_ms\": 7}')", (target, f"v{i}"))
            try:
                cur.execute("SELECT rotate.set_password(%s, 'not a verifier')",
                            (roles.unmanaged,))
            except Exception:
                pass
        conn.close()
        before = audit_rows(pg, fresh_db)
        assert verify(pg, fresh_db) == "t|"
        assert before.count("|denied|") == 1

        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)
            dump = os.path.join(tmp, "db.dump")
            sock = ["-h", pg.sockdir, "-p", str(pg.port), "-U", "postgres"]
            subprocess.run([f"{pg.bindir}/pg_dump", "-Fc", "-f", dump] + sock + [fresh_db],
                           check=True, capture_output=True)
            pg.psql(f"CREATE DATABASE {restored}")
            subprocess.run([f"{pg.bindir}/pg_restore", "--exit-on-error", "-d", restored]
                           + sock + [dump], check=True, capture_output=True, text=True)

        after = audit_rows(pg, restored)
        # every original row is there unchanged, in order, at the start
        assert after.startswith(before)
        assert verify(pg, restored) == "t|"
        assert sorted(pg.psql("SELECT role_name FROM rotate.managed_role", dbname=restored)
                      .split()) == sorted(roles.targets)

        # the restored chain keeps growing: the sequence was restored too
        roles.grant_db = restored
        pg.psql(f"GRANT USAGE ON SCHEMA rotate TO {roles.rotator}", dbname=restored)
        conn = pg.connect(user=roles.rotator, dbname=restored, password=roles.rotator_password)
        with conn.cursor() as cur:
            cur.execute("SELECT rotate.set_password(%s, %s)",
                        (roles.targets[0], scram_verifier(random_password())))
            new_id = cur.fetchone()[0]
        conn.close()
        max_before = int(before.strip().splitlines()[-1].split("|")[0])
        assert new_id > max_before
        assert verify(pg, restored) == "t|"
        assert pg.psql("SELECT rotations.outcome FROM rotate.rotations "
                       "WHERE version_id = 'v0'", dbname=restored).strip() == "finished"
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")
        roles.drop(fresh_db, restored)
