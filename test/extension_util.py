"""Helpers for the extension's pytest tests: SCRAM verifiers computed here
(as the client does, so no plaintext reaches the server) and a rotation role
set up the way the README tells a DBA to."""

import base64
import hashlib
import hmac
import os
import uuid

from harness.util import Secret


def scram_parts(password, salt=None, iterations=4096):
    """(verifier, salt_b64, stored_key_b64, server_key_b64) for password."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    verifier = f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
    return verifier, b64(salt), b64(stored_key), b64(server_key)


def scram_verifier(password, salt=None, iterations=4096):
    return scram_parts(password, salt, iterations)[0]


def random_password():
    return Secret("pw-" + base64.urlsafe_b64encode(os.urandom(18)).decode())


class Roles:
    """regress_* roles for one test: a rotator and managed targets, created
    in the cluster and dropped by drop().  They are created from dbname:
    where pg_tle requires password checks, a database without them (such
    as postgres) refuses the rotator's password."""

    def __init__(self, pg, dbname, targets=1):
        tag = uuid.uuid4().hex[:8]
        self.pg = pg
        self.dbname = dbname
        self.rotator = f"regress_rotator_{tag}"
        self.targets = [f"regress_app_{tag}_{i}" for i in range(targets)]
        self.unmanaged = f"regress_unmanaged_{tag}"
        self.rotator_password = random_password()
        sql = [f"CREATE ROLE {self.rotator} LOGIN PASSWORD "
               f"'{scram_verifier(self.rotator_password)}'",
               f"CREATE ROLE {self.unmanaged} LOGIN"]
        sql += [f"CREATE ROLE {t} LOGIN" for t in self.targets]
        pg.psql(";\n".join(sql) + ";", dbname=dbname)
        self.grant(dbname)

    def grant(self, dbname):
        """What the README's setup grants, in dbname."""
        sql = [f"GRANT USAGE ON SCHEMA rotate TO {self.rotator}",
               "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text),"
               " rotate.log_event(name, text, text, text, jsonb) TO " + self.rotator]
        sql += [f"INSERT INTO rotate.managed_role (role_name) VALUES ('{t}')"
                for t in self.targets]
        self.pg.psql(";\n".join(sql) + ";", dbname=dbname)

    def drop(self, *dbnames):
        for db in dbnames:
            self.pg.psql(f"DROP OWNED BY {self.rotator}", dbname=db, check=False)
        for r in [self.rotator, self.unmanaged] + self.targets:
            self.pg.psql(f"DROP ROLE IF EXISTS {r}", check=False)
