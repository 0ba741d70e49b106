"""What applications see during rotations (a benchmark, not a test).

APPS application processes each loop: read AWSCURRENT from Secrets Manager
(boto3, as applications do), log in with it (psycopg2, TLS, SCRAM), log
out, again, until told to stop.  Meanwhile pg_rotate rotates the secret
ROTATIONS times:

  rotate   the CLI's one-shot `pg_rotate rotate`, one process per rotation;
  lambda   `pg_rotate lambda` behind the loopback Runtime API stand-in,
           driven step by step as Secrets Manager drives a rotation
           function (RotateSecret's pending version, then createSecret,
           setSecret, testSecret and finishSecret, each its own invocation);
  none     no rotation for as long as the slower mode took: the noise floor
           (logins that fail for reasons of their own).

For each: logins, failed logins, failed logins per rotation, the longest
outage one application saw (first failed login to the next good one), the
logins still failed after the retry README.md recommends (re-read the
secret once and log in again), and
lag_ms (the client's own measure: password committed to AWSCURRENT moved),
side by side, with one UpdateSecretVersionStage round trip measured in the
same run.  Against moto_server with signature checks on and bench/run.sh's
cluster (PG_ROTATE_CLUSTER_STATE).

Environment: BENCH_APPS (default 2), BENCH_ROTATIONS (20), BENCH_PAUSE_MS
(pause between rotations, default 150).
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))

from harness.lambda_runtime import RuntimeAPI  # noqa: E402
from harness.motoserver import MotoServer  # noqa: E402
from harness.pgcluster import Cluster  # noqa: E402
from harness.reliability import STEPS  # noqa: E402
from harness.scenario import Scenario  # noqa: E402
from harness.util import REPO  # noqa: E402

CLIENT = os.path.join(REPO, "client", "pg_rotate")
APPS = int(os.environ.get("BENCH_APPS", "2"))
ROTATIONS = int(os.environ.get("BENCH_ROTATIONS", "20"))
PAUSE = int(os.environ.get("BENCH_PAUSE_MS", "150")) / 1000


# ----- one application (run as its own process: python3 apps.py --app) -----
def app_main(config_path):
    """Loop until SIGTERM: read AWSCURRENT, log in, log out (on a failure,
    read it again and retry once).  Prints one JSON line at the end:
    [[monotonic time, ok, ok after the retry], ...] for every login."""
    import boto3
    import psycopg2

    with open(config_path) as f:
        cfg = json.load(f)
    sm = boto3.client("secretsmanager", region_name=cfg["region"],
                      endpoint_url=cfg["endpoint"], aws_access_key_id=cfg["key"],
                      aws_secret_access_key=cfg["secret"])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    attempts = []
    print("ready", flush=True)
    def login():
        value = json.loads(sm.get_secret_value(SecretId=cfg["secret_id"],
                                               VersionStage="AWSCURRENT")["SecretString"])
        try:
            psycopg2.connect(host=value["host"], port=value["port"], dbname=value["dbname"],
                             user=value["username"], password=value["password"],
                             sslmode="verify-full", sslrootcert=cfg["ca"],
                             connect_timeout=5).close()
            return True
        except psycopg2.OperationalError:
            return False

    while not stop:
        ok = login()
        # the retry README.md recommends: on a failed login, re-read the
        # secret once and try again
        attempts.append((time.monotonic(), ok, ok or login()))
    print(json.dumps(attempts), flush=True)


class Apps:
    """APPS application processes against one scenario's secret."""

    def __init__(self, s, workdir):
        self.config = os.path.join(workdir, "app.json")
        with open(self.config, "w") as f:
            json.dump({"region": s.moto.region, "endpoint": s.moto.endpoint,
                       "key": s.creds[0], "secret": s.creds[1],
                       "secret_id": s.app_secret, "ca": s.pg.ca_cert}, f)
        os.chmod(self.config, 0o600)
        self.procs = []

    def start(self):
        self.procs = [subprocess.Popen(["/usr/bin/python3", os.path.abspath(__file__),
                                        "--app", self.config],
                                       stdout=subprocess.PIPE, text=True)
                      for _ in range(APPS)]
        for p in self.procs:
            assert p.stdout.readline().strip() == "ready"
        return self

    def stop(self):
        """Each application's attempts, [(t, ok), ...]."""
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        out = [json.loads(p.communicate(timeout=60)[0]) for p in self.procs]
        self.procs = []
        return out


def outage_ms(attempts):
    """Longest time one application went without a good login, measured
    from its first failed login to its next good one."""
    longest, since = 0.0, None
    for t, ok, _ in attempts:
        if not ok and since is None:
            since = t
        elif ok and since is not None:
            longest, since = max(longest, t - since), None
    if since is not None:
        longest = max(longest, attempts[-1][0] - since)
    return longest * 1000


# ----- the rotation drivers -------------------------------------------------
def rotate_cli(s):
    """ROTATIONS one-shot rotations; returns their lag_ms."""
    lags = []
    for _ in range(ROTATIONS):
        proc = s.run(CLIENT, "rotate", "--json", "--secret-id", s.app_secret)
        results = [json.loads(line) for line in proc.stdout.splitlines()
                   if line.startswith("{")]
        if proc.returncode != 0 or not results or results[0]["outcome"] != "rotated":
            sys.stderr.write(proc.stderr[-2000:])
            raise SystemExit("rotate failed: the figures would mean nothing")
        lags.append(results[0]["lag_ms"])
        time.sleep(PAUSE)
    return lags


def rotate_lambda(s):
    """ROTATIONS rotations through `pg_rotate lambda`, each step its own
    invocation; returns the lag_ms of the "finished" audit rows."""
    api = RuntimeAPI().start()
    proc = subprocess.Popen([CLIENT, "lambda"], env=s.env(AWS_LAMBDA_RUNTIME_API=api.address),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        before = {r["id"] for r in s.audit()}
        for _ in range(ROTATIONS):
            token = s.start_pending()
            for step in STEPS:
                kind, body, _ = api.wait_result(api.invoke(
                    {"Step": step, "SecretId": s.app_arn, "ClientRequestToken": token}))
                if kind != "response":
                    raise SystemExit(f"{step} failed: {body}")
            time.sleep(PAUSE)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        api.stop()
    return [float(r["detail"]["lag_ms"]) for r in s.audit()
            if r["id"] not in before and r["event"] == "finished"
            and r["detail"].get("lag_ms") is not None]


def stage_round_trip_ms(s):
    """Median of 30 UpdateSecretVersionStage calls (boto3, same moto)."""
    sm = s.moto.boto3_client(access_key=s.creds[0], secret_key=s.creds[1])
    current = s.version_with("AWSCURRENT")
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        sm.update_secret_version_stage(SecretId=s.app_secret, VersionStage="BENCH",
                                       MoveToVersionId=current)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(s, apps, driver):
    """Run the applications around driver(s) (or, when driver is a number,
    around a sleep of that many seconds); returns the figures."""
    apps.start()
    t0 = time.monotonic()
    lags = driver(s) if callable(driver) else time.sleep(driver) or []
    seconds = time.monotonic() - t0
    attempts = apps.stop()
    logins = sum(len(a) for a in attempts)
    failed = sum(1 for a in attempts for _, ok, _ in a if not ok)
    retried = sum(1 for a in attempts for _, _, ok in a if not ok)
    return {"seconds": seconds, "logins": logins, "failed": failed, "retried": retried,
            "outage_ms": max(outage_ms(a) for a in attempts), "lags": lags}


def main():
    with open(os.environ["PG_ROTATE_CLUSTER_STATE"]) as f:
        pg = Cluster.from_state(json.load(f))
    moto = MotoServer().start()
    s = None
    try:
        s = Scenario(pg, moto).setup()
        s.enable_auth()
        apps = Apps(s, moto.logdir)
        stage_ms = stage_round_trip_ms(s)
        runs = {"rotate": measure(s, apps, rotate_cli),
                "lambda": measure(s, apps, rotate_lambda)}
        runs["none"] = measure(s, apps, max(r["seconds"] for r in runs.values()))
        print(f"what applications see: {APPS} applications re-read AWSCURRENT (boto3) before "
              f"every login (psycopg2, TLS); {ROTATIONS} rotations per mode, "
              f"{PAUSE * 1000:.0f} ms apart; UpdateSecretVersionStage round trip "
              f"{stage_ms:.2f} ms (median of 30)")
        print(f"{'mode':<8} {'seconds':>8} {'logins':>7} {'failed':>7} {'failed/rot':>10} "
              f"{'longest outage':>15} {'after retry':>11} {'lag_ms med':>11} {'p95':>7} "
              f"{'lag/stage':>9}")
        for mode, r in runs.items():
            lags = sorted(r["lags"])
            per_rot = f"{r['failed'] / ROTATIONS:10.2f}" if mode != "none" else f"{'-':>10}"
            lag = (f"{statistics.median(lags):11.2f} {lags[int(0.95 * (len(lags) - 1))]:7.2f} "
                   f"{statistics.median(lags) / stage_ms:8.2f}x") if lags else f"{'-':>11}"
            print(f"{mode:<8} {r['seconds']:8.1f} {r['logins']:7d} {r['failed']:7d} {per_rot} "
                  f"{r['outage_ms']:12.1f} ms {r['retried']:11d} {lag}")
        return 0
    finally:
        if s:
            s.teardown()
        moto.stop()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--app":
        app_main(sys.argv[2])
    else:
        sys.exit(main())
