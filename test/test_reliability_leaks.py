"""Leak scan: no password the reliability tests made (every version of every
secret, the admin and IAM secrets), nor the StoredKey/ServerKey of a SCRAM
verifier the server stored, appears in the PostgreSQL server log, the
client's stdout/stderr, the Lambda log lines (its CloudWatch metrics
documents included), any process's argv sampled
while the tests ran, or rotate.audit_log.

The material comes from the session's leakscan.Collector (the `leaks`
fixture), which the crash, concurrency and fault tests fill; pytest runs
this file after them. Run alone, it makes its own rotations first. The scan
is proven not vacuous: a value planted in each kind of source is found.
"""

import subprocess
import sys

from harness.leakscan import assert_no_leaks, find_leaks
from harness.reliability import STEPS, LambdaProcess, lambda_event
from harness.lambda_runtime import RuntimeAPI
from harness.scenario import Scenario, new_password
from harness.util import wait_until


def rotate_for_material(pg, moto, client_bin, leaks):
    """A rotation with each client mode, when no other test filled the
    collector (this file run alone)."""
    s = Scenario(pg, moto).setup()
    s.enable_auth()
    api = RuntimeAPI().start()
    try:
        leaks.record("rotate", s.run(client_bin, "rotate", "--secret-id", s.app_secret,
                                     "--verbose", check=True))
        token = s.start_pending()
        fn = LambdaProcess(client_bin, s, api)
        try:
            for step in STEPS:
                api.wait_result(api.invoke(lambda_event(s, step, token)))
        finally:
            out, err = fn.stop()
            leaks.add_text("lambda stdout", out)
            leaks.add_text("lambda stderr", err)
        leaks.harvest(s)
    finally:
        api.stop()
        s.teardown()


def has_metrics(sources):
    """Do the Lambda outputs gathered hold EMF documents (emf.h)?"""
    return any('"_aws":{"Timestamp":' in text for name, text in sources.items()
               if "lambda" in name and "stdout" in name)


def test_no_secret_in_logs_output_argv_or_audit_table(pg, moto_clean, client_bin, leaks):
    if len(leaks.secrets) < 6 or not has_metrics(leaks.sources()):
        rotate_for_material(pg, moto_clean, client_bin, leaks)
    sources = leaks.sources()
    # the Lambda runtime's metrics lines are among what is scanned
    assert has_metrics(sources)
    sources["PostgreSQL server log"] = pg.log_text()
    secrets = sorted(leaks.secrets)
    how_many = len(secrets)     # never the list: pytest would print it
    assert how_many >= 6
    assert_no_leaks(secrets, sources)
    kinds = ("stdout", "stderr", "lambda", "rotate.audit_log", "cmdline", "server log")
    counts = {k: sum(k in name for name in sources) for k in kinds}
    assert all(counts.values()), counts
    print(f"\nleak scan: {len(secrets)} secrets (passwords and SCRAM keys) against "
          f"{len(sources)} texts, {sum(len(t) for t in sources.values())} bytes; "
          f"{len(leaks.cmdlines)} distinct command lines sampled")


def test_the_scan_finds_a_planted_secret_in_every_kind_of_source(pg, fresh_db, client_bin,
                                                                  leaks, moto_clean):
    planted = new_password()
    # the server log: a statement holding it (the cluster logs every statement)
    pg.psql(f"SELECT length('{planted}')", dbname=fresh_db)
    # the audit table: a refused set_password records the secret id it was given
    pg.psql("CREATE ROLE regress_leak_probe", dbname=fresh_db)
    try:
        pg.psql(f"SELECT rotate.set_password('regress_leak_probe', 'x', '{planted}')",
                dbname=fresh_db, check=False)
        audit = pg.psql("SELECT a::text FROM rotate.audit_log a", dbname=fresh_db)
        # a verifier's keys, as harvested from pg_authid
        pg.psql(f"ALTER ROLE regress_leak_probe PASSWORD '{planted}'")
        probe_keys = type(leaks)()
        probe_keys.harvest_verifiers(pg, ["regress_leak_probe"])
        authid = pg.psql("SELECT rolpassword FROM pg_authid "
                         "WHERE rolname = 'regress_leak_probe'")
    finally:
        pg.psql("DROP ROLE IF EXISTS regress_leak_probe")
    # the client's output: it names the secret id it could not find
    proc = subprocess.run([client_bin, "rotate", "--secret-id", planted],
                          env=moto_clean.aws_env(), capture_output=True, text=True)
    # argv: a process holding it, seen by the running sampler
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)", planted])
    try:
        wait_until(lambda: any(planted in c for c in list(leaks.cmdlines)), timeout=10,
                   what="the sampler to see the planted argv")
    finally:
        holder.kill()
        holder.wait()
    sources = {"server log": pg.log_text(), "audit": audit, "client stderr": proc.stderr,
               "argv": "\n".join(list(leaks.cmdlines))}
    found = sorted(f.split(" holds ")[0] for f in find_leaks([planted], sources))
    assert found == sorted(sources)
    keys = len(probe_keys.secrets)
    assert keys == 2
    keys_found = len(find_leaks(sorted(probe_keys.secrets), {"pg_authid": authid}))
    assert keys_found == 2
    # the planted value is not a real secret; keep it out of the session's scan
    with leaks.lock:
        leaks.cmdlines = {c for c in leaks.cmdlines if planted not in c}
