"""A rotation scenario: one database, the rotated role and the admin role,
and their two secrets in Secrets Manager, as a DBA would set them up.

Used by the rotation, Lambda and reliability tests and by `make demo`, so they
all exercise the same set-up. Names carry a random suffix, so scenarios in one
cluster and one moto_server never collide.
"""

import json
import secrets
import subprocess
import uuid

from harness import util

# What the client needs in Secrets Manager (the shipped policy's actions).
SM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": [
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:GetRandomPassword"], "Resource": "*"}],
}
# The test's own view, for setting up and reading back.
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:*", "iam:*"],
                   "Resource": "*"}],
}


def new_password():
    return util.Secret(secrets.token_urlsafe(24))


def quiet_session(cur):
    """Keep this (superuser) session's statements out of the server log: the
    set-up passes initial passwords as plain SQL, and the leak scans prove
    no password ever reaches that log."""
    cur.execute("SET log_statement = 'none'; SET log_min_duration_statement = -1")


class Scenario:
    """Create with Scenario(pg, moto).setup(); everything is named self.*."""

    def __init__(self, pg, moto, app_role=None, suffix=None, names=None):
        """names may fix dbname, admin_role, app_secret and admin_secret."""
        self.pg = pg
        self.moto = moto
        self.suffix = suffix or uuid.uuid4().hex[:10]
        names = names or {}
        self.dbname = names.get("dbname", f"d_{self.suffix}")
        self.app_role = app_role or f"app_{self.suffix}"
        self.admin_role = names.get("admin_role", f"rotator_{self.suffix}")
        self.app_secret = names.get("app_secret", f"pgr/{self.suffix}/app")
        self.admin_secret = names.get("admin_secret", f"pgr/{self.suffix}/rotator")
        self.initial_password = new_password()
        self.admin_password = new_password()
        self.app_arn = self.admin_arn = None
        self.creds = None           # (key id, secret) once auth is on
        self.sm = moto.boto3_client()

    # ----- set-up -------------------------------------------------------
    def setup(self, extension=True, managed=True, app_secret_extra=None, prepare=None):
        """prepare(dbname), if given, runs between creating the database and
        creating the roles: where pg_tle requires password checks, the
        roles' passwords are refused until they are registered there."""
        pg = self.pg
        pg.psql(f'CREATE DATABASE "{self.dbname}"')
        if prepare is not None:
            prepare(self.dbname)
        conn = pg.connect(dbname=self.dbname)
        with conn.cursor() as cur:
            quiet_session(cur)
            cur.execute(f'CREATE ROLE {self.ident(self.app_role)} LOGIN PASSWORD %s',
                        (self.initial_password,))
            cur.execute(f'CREATE ROLE {self.ident(self.admin_role)} LOGIN PASSWORD %s',
                        (self.admin_password,))
            if extension:
                cur.execute("CREATE EXTENSION pg_rotate")
                cur.execute(f"GRANT USAGE ON SCHEMA rotate TO {self.ident(self.admin_role)}")
                cur.execute("GRANT EXECUTE ON FUNCTION "
                            "rotate.set_password(name, text, text, text), "
                            "rotate.log_event(name, text, text, text, jsonb) "
                            f"TO {self.ident(self.admin_role)}")
                if managed:
                    cur.execute("INSERT INTO rotate.managed_role (role_name) VALUES (%s)",
                                (self.app_role,))
        conn.close()
        admin = self.sm.create_secret(Name=self.admin_secret, SecretString=json.dumps(
            self.secret_value(self.admin_role, self.admin_password)))
        self.admin_arn = admin["ARN"]
        value = self.secret_value(self.app_role, self.initial_password)
        value["masterarn"] = self.admin_arn
        value.update(app_secret_extra or {})
        app = self.sm.create_secret(Name=self.app_secret, SecretString=json.dumps(value))
        self.app_arn = app["ARN"]
        return self

    def secret_value(self, user, password):
        return {"engine": "postgres", "host": "127.0.0.1", "port": self.pg.port,
                "dbname": self.dbname, "username": user, "password": password}

    @staticmethod
    def ident(name):
        return '"' + name.replace('"', '""') + '"'

    def enable_auth(self, policy=None, user=None):
        """An IAM user with `policy` (default: the client's actions), then
        signature and IAM checks on. The scenario's own calls use an admin user."""
        moto = self.moto
        admin = moto.create_iam_user(f"admin-{self.suffix}", ADMIN_POLICY)
        self.creds = moto.create_iam_user(user or f"client-{self.suffix}",
                                          policy or SM_POLICY)
        self.sm = moto.boto3_client(access_key=admin[0], secret_key=admin[1])
        moto.enable_auth()
        return self.creds

    def start_pending(self, token=None):
        """The state RotateSecret leaves before invoking the function."""
        token = token or str(uuid.uuid4())
        auth_was_on = self.creds is not None
        if auth_was_on:
            self.moto.disable_auth()
        try:
            self.moto.create_rotation_pending(self.app_secret, token)
        finally:
            if auth_was_on:
                self.moto.enable_auth()
        return token

    # ----- running the client -------------------------------------------
    def env(self, **extra):
        env = self.moto.aws_env(*(self.creds or (None, None)))
        env["PGSSLROOTCERT"] = self.pg.ca_cert
        env.update(extra)
        return env

    def run(self, client_bin, *args, env=None, check=False, timeout=120):
        """Run pg_rotate with the scenario's environment; returns CompletedProcess."""
        proc = subprocess.run([client_bin] + list(args), env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"pg_rotate {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stderr}")
        return proc

    # ----- reading back ---------------------------------------------------
    def stages(self):
        """{version id: [stages]} as Secrets Manager reports it."""
        return self.sm.describe_secret(SecretId=self.app_secret)["VersionIdsToStages"]

    def version_with(self, stage):
        found = [v for v, s in self.stages().items() if stage in s]
        return found[0] if found else None

    def value(self, stage="AWSCURRENT", version_id=None):
        kwargs = {"VersionId": version_id} if version_id else {"VersionStage": stage}
        return json.loads(self.sm.get_secret_value(SecretId=self.app_secret,
                                                   **kwargs)["SecretString"])

    def password(self, stage="AWSCURRENT"):
        return util.Secret(self.value(stage)["password"])

    def can_login(self, password, user=None):
        import psycopg2
        try:
            self.pg.connect(user=user or self.app_role, password=password,
                            dbname=self.dbname).close()
            return True
        except psycopg2.OperationalError:
            return False

    def audit(self):
        """Audit rows of this scenario's database, oldest first, as dicts."""
        conn = self.pg.connect(dbname=self.dbname)
        with conn.cursor() as cur:
            cur.execute("SELECT id, event, actor, target, secret_id, version_id, detail "
                        "FROM rotate.audit_log ORDER BY id")
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        conn.close()
        return rows

    def audit_chain_ok(self):
        out = self.pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=self.dbname)
        return out.strip() == "t"

    def teardown(self):
        if self.creds is not None:
            self.moto.disable_auth()
        self.pg.psql(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)', check=False)
        self.pg.psql(f"DROP ROLE IF EXISTS {self.ident(self.app_role)}", check=False)
        self.pg.psql(f"DROP ROLE IF EXISTS {self.ident(self.admin_role)}", check=False)
