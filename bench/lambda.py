"""Lambda-mode benchmark (not a test): cold start (process start to the
first Runtime API request), per-event handling time, and peak RSS of
`pg_rotate lambda` serving whole rotations, against the loopback Runtime API
stand-in, moto_server with signature checks on, and bench/run.sh's cluster."""

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
from harness.util import REPO, wait_until  # noqa: E402

CLIENT = os.path.join(REPO, "client", "pg_rotate")
ROTATIONS = 10


def cold_starts(env, runs=20):
    """Milliseconds from exec to the first GET .../invocation/next."""
    times = []
    for _ in range(runs):
        api = RuntimeAPI().start()
        env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
        t0 = time.monotonic()
        proc = subprocess.Popen([CLIENT, "lambda"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        wait_until(lambda: api.polls, timeout=10, interval=0.0005, what="first poll")
        times.append((api.polls[0] - t0) * 1000)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        api.stop()
    return times


def main():
    with open(os.environ["PG_ROTATE_CLUSTER_STATE"]) as f:
        pg = Cluster.from_state(json.load(f))
    moto = MotoServer().start()
    s = None
    try:
        s = Scenario(pg, moto).setup()
        s.enable_auth()
        cold = cold_starts(s.env())
        api = RuntimeAPI().start()
        proc = subprocess.Popen([CLIENT, "lambda"],
                                env=s.env(AWS_LAMBDA_RUNTIME_API=api.address),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        per_step = {step: [] for step in STEPS}
        lags = []
        for _ in range(ROTATIONS):
            token = s.start_pending()
            for step in STEPS:
                rid = api.invoke({"Step": step, "SecretId": s.app_arn,
                                  "ClientRequestToken": token})
                kind, body, _ = api.wait_result(rid)
                if kind != "response":
                    print(f"{step} failed: {body}")
                    return 1
                per_step[step].append((api.answered_at[rid] - api.served_at[rid]) * 1000)
        with open(f"/proc/{proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        api.stop()
        audit = s.audit()
        lags = [r["detail"].get("lag_ms") for r in audit
                if r["event"] == "finished" and r["detail"].get("lag_ms") is not None]
        print("pg_rotate lambda benchmark (loopback Runtime API, moto_server with auth)")
        print(f"cold start to first Runtime API request: median {statistics.median(cold):.1f} ms, "
              f"max {max(cold):.1f} ms over {len(cold)} starts (target < 20 ms)")
        for step in STEPS:
            print(f"  {step:<13} median {statistics.median(per_step[step]):6.1f} ms, "
                  f"max {max(per_step[step]):6.1f} ms over {ROTATIONS} rotations")
        if lags:
            print(f"lag (setSecret commit to AWSCURRENT moved, collapsed): median "
                  f"{statistics.median(lags):.2f} ms")
        # VmHWM, not the rusage of a fork of this interpreter: that would
        # count the interpreter's pages from before the exec
        print(f"peak RSS in lambda mode after {ROTATIONS} rotations: "
              f"{int(status['VmHWM'].split()[0]) / 1024:.1f} MiB (target < 10 MiB); at the end: "
              f"anonymous {status['RssAnon'].strip()}, shared library pages "
              f"{status['RssFile'].strip()}")
        return 0
    finally:
        moto.disable_auth()
        if s:
            s.teardown()
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
