"""make demo: one rotation, end to end, on throwaway servers.

Starts a PostgreSQL cluster and moto_server on loopback, creates the `app`
role (the one rotated) and the `rotator` role (the admin secret's user, which
holds nothing but EXECUTE on rotate.set_password/log_event), stores both
secrets in Secrets Manager, turns on moto's signature and IAM checks, rotates
the app secret with pg_rotate, and shows what changed. Passwords are never
printed: only fingerprints of them.

    demo.py [--client PATH]

The client is the build tree's (client/pg_rotate) unless --client names
another, e.g. an installed /usr/bin/pg_rotate; the server and the extension
are those of the PostgreSQL that pg_config ($PG_CONFIG) names.
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import util  # noqa: E402
from harness.motoserver import MotoServer  # noqa: E402
from harness.pgcluster import Cluster  # noqa: E402
from harness.scenario import Scenario  # noqa: E402

BUILT_CLIENT = os.path.join(util.REPO, "client", "pg_rotate")


def title(text):
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}")


def fp(password):
    return "sha256:" + hashlib.sha256(password.encode()).hexdigest()[:10]


def show_versions(s):
    for version, stages in sorted(s.stages().items(), key=lambda kv: kv[1]):
        password = s.value(version_id=version)["password"]
        print(f"  {version}  {','.join(stages) or '-':<12} password {fp(password)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="One rotation, end to end, on throwaway servers.")
    parser.add_argument("--client", default=BUILT_CLIENT,
                        help="the pg_rotate program to run (default: the build tree's)")
    client = parser.parse_args(argv).client
    pg = moto = None
    try:
        title("starting a throwaway PostgreSQL cluster and moto_server (127.0.0.1 only)")
        pg = Cluster().start()
        moto = MotoServer().start()
        print(f"  PostgreSQL {pg.psql('SHOW server_version').strip()} on port {pg.port} "
              f"(server programs in {pg.bindir}), SSL {pg.psql('SHOW ssl').strip()}, "
              f"shared_preload_libraries = {pg.psql('SHOW shared_preload_libraries').strip()}")
        print(f"  moto_server (Secrets Manager) at {moto.endpoint}")
        print(f"  client: {client}")

        title("a DBA sets up roles app and rotator, the extension, and two secrets")
        s = Scenario(pg, moto, app_role="app", names={
            "dbname": "app", "admin_role": "rotator",
            "app_secret": "demo/app", "admin_secret": "demo/rotator"}).setup()
        print("  CREATE EXTENSION pg_rotate; CREATE ROLE app, rotator  (rotator: no CREATEROLE,")
        print("  only EXECUTE on rotate.set_password and rotate.log_event)")
        print("  INSERT INTO rotate.managed_role VALUES ('app')")
        print("  secrets demo/app (its masterarn names demo/rotator) and demo/rotator")
        pg_config = os.environ.get("PG_CONFIG", "pg_config")
        version = pg.psql("SELECT extversion FROM pg_extension WHERE extname = 'pg_rotate'",
                          dbname="app").strip()
        sharedir, pkglibdir = (util.run([pg_config, option]).stdout.strip()
                               for option in ("--sharedir", "--pkglibdir"))
        print(f"  pg_rotate {version} from {sharedir}/extension, library in {pkglibdir}")
        s.enable_auth()
        print("  moto now checks every request's SigV4 signature and IAM policy")

        title("demo/app before the rotation")
        show_versions(s)

        title("pg_rotate rotate --secret-id demo/app --json")
        proc = s.run(client, "rotate", "--secret-id", "demo/app", "--json")
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            print(f"  rotation failed (exit {proc.returncode})")
            return 1
        result = json.loads(proc.stdout.splitlines()[-1])
        print(f"  outcome {result['outcome']}, version {result['version_id']}, "
              f"{result['sm_calls']} Secrets Manager calls, {result['total_ms']:.0f} ms in all")
        print("  steps: " + ", ".join(f"{k} {v:.1f} ms" for k, v in result["steps_ms"].items()))

        title("demo/app after the rotation")
        show_versions(s)

        title("who can log in as app")
        new = s.password("AWSCURRENT")
        print(f"  with the new password (AWSCURRENT):  {'yes' if s.can_login(new) else 'NO'}")
        print(f"  with the old password (AWSPREVIOUS): "
              f"{'yes' if s.can_login(s.initial_password) else 'no, refused'}")

        title("rotate.audit_log: what an auditor reads (SQL, no verifier in it)")
        print(pg.psql("SELECT id, event, actor, target, left(version_id, 8) AS version, detail "
                      "FROM rotate.audit_log ORDER BY id", dbname="app").rstrip()
              .replace("|", "  ").replace("\n", "\n  ").join(["  ", ""]))
        print("  rotate.verify_audit_log(): " + pg.psql(
            "SELECT CASE WHEN ok THEN 'chain intact, ' || rows_checked || ' rows' "
            "ELSE 'BROKEN at ' || first_bad_id END FROM rotate.verify_audit_log()",
            dbname="app").strip())

        title("the lag window: old password refused, AWSCURRENT not yet moved")
        print(f"  lag_ms = {result['lag_ms']:.2f} (one UpdateSecretVersionStage round trip)")
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
