"""Rotation benchmark (not a test): prints figures, never fails on speed.

For one secret, and for 200 secrets at --parallel 1, 8 and 32: median and
p95 rotation time and lag_ms, rotations per second, Secrets Manager calls
per rotation and the client's peak RSS. In the same run, the floors: one
UpdateSecretVersionStage round trip and one SCRAM login over TLS. Runs
against moto_server with signature checks on, and the cluster of
bench/run.sh (PG_ROTATE_CLUSTER_STATE).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))

from harness.fleet import Fleet  # noqa: E402
from harness.motoserver import MotoServer  # noqa: E402
from harness.pgcluster import Cluster  # noqa: E402
from harness.util import REPO  # noqa: E402

CLIENT = os.path.join(REPO, "client", "pg_rotate")
FLEET_SIZE = int(os.environ.get("BENCH_FLEET", "200"))


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_measured(args, env):
    """Run pg_rotate; returns (results, wall seconds, peak RSS in KiB).

    The peak RSS comes from GNU time, which forks from itself: the rusage a
    fork of this interpreter reports would include the interpreter's own
    resident pages from before the exec (Linux keeps the high-water mark
    across exec)."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        t0 = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, CLIENT] + args,
                              env=env, capture_output=True, text=True)
        wall = time.monotonic() - t0
        rss = int(rss_file.read().split()[-1])
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-2000:])
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")], wall, rss


def floors(fleet, env_creds):
    """One UpdateSecretVersionStage round trip and one SCRAM login (medians)."""
    moto, pg = fleet.base.moto, fleet.base.pg
    sm = moto.boto3_client(access_key=env_creds[0], secret_key=env_creds[1])
    member = fleet.member(0)
    desc = sm.describe_secret(SecretId=member.app_secret)
    current = [v for v, s in desc["VersionIdsToStages"].items() if "AWSCURRENT" in s][0]
    stage_ms = []
    for _ in range(30):
        t0 = time.perf_counter()
        sm.update_secret_version_stage(SecretId=member.app_secret, VersionStage="BENCH",
                                       MoveToVersionId=current)
        stage_ms.append((time.perf_counter() - t0) * 1000)
    password = fleet.member(1).password("AWSCURRENT")
    login_ms = []
    for _ in range(30):
        t0 = time.perf_counter()
        pg.connect(user=fleet.member(1).app_role, password=password,
                   dbname=fleet.base.dbname).close()
        login_ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(stage_ms), statistics.median(login_ms)


def report(label, results, wall, rss):
    rotated = [r for r in results if r["outcome"] == "rotated"]
    totals = [r["total_ms"] for r in rotated]
    lags = [r["lag_ms"] for r in rotated if r["lag_ms"] is not None]
    calls = sorted({r["sm_calls"] for r in rotated})
    if not rotated:
        print(f"{label:<26} no rotation succeeded ({len(results)} results)")
        return None
    print(f"{label:<26} {len(rotated):>3}/{len(results):<3} "
          f"total med {statistics.median(totals):6.1f} p95 {pct(totals, 95):6.1f} ms | "
          f"lag med {statistics.median(lags):5.2f} p95 {pct(lags, 95):5.2f} ms | "
          f"{len(rotated) / wall:6.1f} rot/s | SM calls {calls} | peak RSS {rss / 1024:.1f} MiB")
    return statistics.median(lags)


def main():
    with open(os.environ["PG_ROTATE_CLUSTER_STATE"]) as f:
        pg = Cluster.from_state(json.load(f))
    moto = MotoServer().start()
    fleet = None
    try:
        fleet = Fleet(pg, moto, FLEET_SIZE).setup()
        creds = fleet.base.enable_auth()
        env = fleet.base.env()
        print(f"pg_rotate rotation benchmark: moto_server with signature checks, "
              f"PostgreSQL on 127.0.0.1 with TLS; {FLEET_SIZE} secrets")
        stage_ms, login_ms = floors(fleet, creds)
        print(f"{'floor':<26} UpdateSecretVersionStage round trip {stage_ms:.2f} ms, "
              f"SCRAM login over TLS {login_ms:.2f} ms (medians of 30)")
        _, _, idle_rss = run_measured(["--version"], env)
        print(f"{'':<26} peak RSS of \"pg_rotate --version\" (its shared libraries "
              f"loaded, nothing done) {idle_rss / 1024:.1f} MiB")

        # one secret, rotated 20 times in a row: one process per rotation
        single, rss_max, wall_sum = [], 0, 0.0
        for _ in range(20):
            results, wall, rss = run_measured(["rotate", "--json", "--secret-id",
                                               fleet.secret_ids[0]], env)
            single += results
            rss_max, wall_sum = max(rss_max, rss), wall_sum + wall
        lag = report("1 secret x20 (sequential)", single, wall_sum, rss_max)
        if lag is not None:
            print(f"{'':<26} median lag / stage round trip = {lag / stage_ms:.2f}x "
                  f"(target <= 1.5x); process wall time med "
                  f"{wall_sum / 20 * 1000:.1f} ms")
        for parallel in (1, 8, 32):
            args = ["rotate", "--json", "--parallel", str(parallel)]
            for secret_id in fleet.secret_ids:
                args += ["--secret-id", secret_id]
            results, wall, rss = run_measured(args, env)
            report(f"{FLEET_SIZE} secrets --parallel {parallel}", results, wall, rss)
    finally:
        moto.disable_auth()
        if fleet:
            fleet.teardown()
        moto.stop()


if __name__ == "__main__":
    main()
