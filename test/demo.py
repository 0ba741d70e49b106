"""make demo: one rotation, end to end, on throwaway servers.

Starts a PostgreSQL cluster and moto_server on loopback, creates the `app`
role (the one rotated) and the `rotator` role (the admin secret's user, which
holds nothing but EXECUTE on rotate.set_password/log_event), stores both
secrets in Secrets Manager, rotates the app secret with pg_rotate, and shows
what changed. Passwords are never printed: only fingerprints of them.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import util  # noqa: E402
from harness.motoserver import MotoServer  # noqa: E402
from harness.pgcluster import Cluster  # noqa: E402

CLIENT = os.path.join(util.REPO, "client", "pg_rotate")


def title(text):
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}")


def fp(password):
    return "sha256:" + hashlib.sha256(password.encode()).hexdigest()[:10]


def show_versions(moto, secret_id):
    desc = json.loads(moto.aws_cli(["secretsmanager", "describe-secret",
                                    "--secret-id", secret_id]).stdout)
    for version, stages in sorted(desc.get("VersionIdsToStages", {}).items(),
                                  key=lambda kv: kv[1]):
        value = json.loads(moto.aws_cli(
            ["secretsmanager", "get-secret-value", "--secret-id", secret_id,
             "--version-id", version]).stdout)["SecretString"]
        print(f"  {version}  {','.join(stages):<24} password {fp(json.loads(value)['password'])}")


def can_login(pg, user, password):
    try:
        pg.connect(user=user, password=password, dbname="app").close()
        return True
    except Exception:  # psycopg2.OperationalError: wrong password
        return False


def client_supports_rotate():
    if not os.access(CLIENT, os.X_OK):
        return False
    return subprocess.run([CLIENT, "rotate", "--help"], capture_output=True).returncode == 0


def main():
    pg = moto = None
    try:
        title("starting a throwaway PostgreSQL cluster and moto_server (127.0.0.1 only)")
        pg = Cluster().start()
        moto = MotoServer().start()
        print(f"  PostgreSQL {pg.psql('SHOW server_version').strip()} on port {pg.port}, "
              f"SSL {pg.psql('SHOW ssl').strip()}, preloaded: "
              f"{pg.psql('SHOW shared_preload_libraries').strip()}")
        print(f"  moto_server at {moto.endpoint}")

        title("setting up: roles app and rotator, the extension, two secrets")
        app_pw = secrets.token_urlsafe(24)
        rotator_pw = secrets.token_urlsafe(24)
        pg.psql("CREATE DATABASE app")
        conn = pg.connect(dbname="app")
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION pg_rotate")
            cur.execute("CREATE ROLE app LOGIN PASSWORD %s", (app_pw,))
            cur.execute("CREATE ROLE rotator LOGIN PASSWORD %s", (rotator_pw,))
            cur.execute("GRANT USAGE ON SCHEMA rotate TO rotator")
            cur.execute("GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text),"
                        " rotate.log_event(name, text, text, text, jsonb) TO rotator")
            cur.execute("INSERT INTO rotate.managed_role (role_name) VALUES ('app')")
        conn.close()
        sm = moto.boto3_client()
        admin = sm.create_secret(Name="demo/rotator", SecretString=json.dumps({
            "engine": "postgres", "host": "127.0.0.1", "port": pg.port, "dbname": "app",
            "username": "rotator", "password": rotator_pw}))
        sm.create_secret(Name="demo/app", SecretString=json.dumps({
            "engine": "postgres", "host": "127.0.0.1", "port": pg.port, "dbname": "app",
            "username": "app", "password": app_pw, "masterarn": admin["ARN"],
            "sslrootcert": pg.ca_cert}))
        print("  CREATE ROLE app, rotator (no CREATEROLE: it can only EXECUTE "
              "rotate.set_password)")
        print("  secrets demo/app (masterarn -> demo/rotator) and demo/rotator")

        title("demo/app before rotation")
        show_versions(moto, "demo/app")

        if not client_supports_rotate():
            print("\npg_rotate rotate: not built yet (the rotation issue adds it); "
                  "the servers and secrets above are what it will rotate.")
            return 0

        title("pg_rotate rotate --secret-id demo/app")
        env = moto.aws_env()
        env["PGSSLROOTCERT"] = pg.ca_cert
        proc = subprocess.run([CLIENT, "rotate", "--secret-id", "demo/app", "--json"],
                              env=env, capture_output=True, text=True, timeout=120)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            print(f"  rotation failed (exit {proc.returncode})")
            return 1
        result = json.loads(proc.stdout.splitlines()[-1])
        print("  " + json.dumps(result, indent=None))

        title("demo/app after rotation")
        show_versions(moto, "demo/app")
        current = json.loads(json.loads(moto.aws_cli(
            ["secretsmanager", "get-secret-value", "--secret-id", "demo/app",
             "--version-stage", "AWSCURRENT"]).stdout)["SecretString"])["password"]

        title("who can log in")
        print(f"  app with the new password (AWSCURRENT):  "
              f"{'yes' if can_login(pg, 'app', current) else 'NO'}")
        print(f"  app with the old password (AWSPREVIOUS): "
              f"{'yes' if can_login(pg, 'app', app_pw) else 'no'}")

        title("rotate.audit_log (what an auditor reads)")
        print(pg.psql("SELECT id, event, actor, target, version_id, detail "
                      "FROM rotate.audit_log ORDER BY id", dbname="app").rstrip()
              .replace("\n", "\n  ").join(["  ", ""]))
        print("  chain: " + pg.psql("SELECT * FROM rotate.verify_audit_log()",
                                    dbname="app").strip())

        title("the lag window (old password refused, AWSCURRENT not yet moved)")
        print(f"  lag_ms = {result.get('lag_ms')}")
        return 0
    finally:
        title("tearing down")
        if moto:
            moto.stop()
        if pg:
            pg.stop()
        print("  stopped moto_server and PostgreSQL; removed their directories")


if __name__ == "__main__":
    sys.exit(main())
