"""Faults outside the client: a Secrets Manager that fails (through
harness.fault_proxy) and a PostgreSQL server that stops, restarts, refuses
connections or refuses the new login mid-rotation (on a throwaway cluster of
its own, so the session cluster is never disturbed).

Every run must end rotated or fail cleanly (exit 1, or 4 after a rollback,
with a message saying what failed), must never leave the database and the
secret disagreeing, and a re-run without the fault must converge.
"""

import collections
import json
import os
import subprocess
import uuid

import pytest

from harness.fault_proxy import KINDS, FaultProxy
from harness.fleet import Fleet
from harness.pgcluster import Cluster
from harness.reliability import (assert_converged, assert_invariant, hooked_bin,
                                 json_lines)
from harness.scenario import Scenario, new_password, quiet_session
from harness.util import wait_until

LONG = os.environ.get("PG_ROTATE_LONG_TESTS") == "1"
FAULT_SECRETS = 10
FAULT_ROUNDS = 50 if LONG else 10          # rotations = secrets * rounds
FAULT_RATE = 0.3
FAULT_SEED = int(os.environ.get("PG_ROTATE_FAULT_SEED", "20240607"))


def assert_clean_failure(result, proc):
    """A failed rotation says which step failed and why, in one message."""
    error = result.get("error") or {}
    assert error.get("message"), f"no error message: {result}"
    assert "Traceback" not in proc.stderr and "Segmentation" not in proc.stderr
    assert any(step in error["message"] for step in
               ("createSecret", "setSecret", "testSecret", "finishSecret")), error


def fleet_rotate_args(fleet, *options):
    """`rotate` of every secret of the fleet in one run, JSON results."""
    args = ["rotate", "--json", "--parallel", str(fleet.count), *options]
    for secret_id in fleet.secret_ids:
        args += ["--secret-id", secret_id]
    return args


def assert_rerun_converges(fleet, client_bin, leaks, what):
    """One run against a healthy Secrets Manager (no proxy, the default
    timeout) rotates every secret of the fleet, whatever state it was left
    in, and leaves no AWSPENDING label behind."""
    proc = leaks.record(what, fleet.base.run(client_bin, *fleet_rotate_args(fleet),
                                             timeout=300))
    assert proc.returncode == 0, proc.stderr
    results = json_lines(proc.stdout)
    assert [r["outcome"] for r in results] == ["rotated"] * fleet.count, \
        proc.stdout + proc.stderr
    for i in range(fleet.count):
        member = fleet.member(i)
        assert_converged(member, member.initial_password, leaks=leaks,
                         where=f"{what}, secret {i}", audit=False)
    assert fleet.base.audit_chain_ok()


def test_hundred_rotations_through_a_faulty_secrets_manager(pg, moto_clean, client_bin,
                                                            leaks):
    fleet = Fleet(pg, moto_clean, FAULT_SECRETS).setup()
    proxy = FaultProxy(moto_clean.port, rate=FAULT_RATE, seed=FAULT_SEED).start()
    outcomes = collections.Counter()
    exits = collections.Counter()
    try:
        # a timeout shorter than the proxy's slow answers
        args = fleet_rotate_args(fleet, "--timeout", "1")
        env = fleet.base.env(AWS_ENDPOINT_URL=proxy.endpoint,
                             PG_ROTATE_TEST_RETRY_BASE_MS="5")
        for round_no in range(FAULT_ROUNDS):
            proc = leaks.record(f"faulty round {round_no}",
                                fleet.base.run(client_bin, *args, env=env, timeout=300))
            exits[proc.returncode] += 1
            assert proc.returncode in (0, 1, 4), f"exit {proc.returncode}: {proc.stderr}"
            results = json_lines(proc.stdout)
            assert len(results) == FAULT_SECRETS, proc.stdout + proc.stderr
            for result in results:
                outcomes[result["outcome"]] += 1
                if result["outcome"] in ("failed", "rolled_back"):
                    assert_clean_failure(result, proc)
            for i in range(FAULT_SECRETS):
                assert_invariant(fleet.member(i), leaks=leaks,
                                 where=f"round {round_no}, secret {i}")

        proxy.enabled = False
        assert_rerun_converges(fleet, client_bin, leaks, "rotate after the faults")
        for i in range(FAULT_SECRETS):
            leaks.harvest(fleet.member(i), secret_ids=[fleet.member(i).app_secret])
        leaks.harvest(fleet.base, roles=[r for r, _, _ in fleet.members])
    finally:
        proxy.stop()
        fleet.teardown()
    injected = ", ".join(f"{k} {proxy.counts[k]}" for k in KINDS)
    print(f"\nfaulty Secrets Manager: {FAULT_SECRETS * FAULT_ROUNDS} rotations, "
          f"{proxy.requests} requests, {proxy.total_faults()} faults ({injected}); "
          f"outcomes {dict(outcomes)}; exit codes {dict(exits)}")
    assert all(proxy.counts[k] > 0 for k in KINDS), proxy.counts
    assert outcomes["rotated"] > 0


def set_role_password(member, password):
    """What a committed setSecret leaves: the role's password changed (as
    the superuser, out of the server log)."""
    conn = member.pg.connect(dbname=member.dbname)
    conn.autocommit = True
    with conn.cursor() as cur:
        quiet_session(cur)
        cur.execute(f"ALTER ROLE {member.ident(member.app_role)} PASSWORD %s", (password,))
    conn.close()


def put_pending(member, password):
    """What an applied createSecret leaves: a version labelled AWSPENDING,
    the current value with a new password; returns its id."""
    token = str(uuid.uuid4())
    value = member.value()
    value["password"] = password
    member.sm.put_secret_value(SecretId=member.app_secret, ClientRequestToken=token,
                               SecretString=json.dumps(value), VersionStages=["AWSPENDING"])
    return token


# What a faulty round can leave when an answer is lost after the request was
# applied and the retries and the DescribeSecret after them fail too (each
# keeps the invariant), plus RotateSecret's start: how to get there.
LEFT_BEHIND = {
    "RotateSecret's pending version, without a value": ("rotate_secret",),
    "pending, password not set (PutSecretValue's answer lost)": ("put",),
    "pending, password set, the move of AWSCURRENT unknown": ("put", "set"),
    "rolled back, AWSPENDING left on the token": ("put", "move", "move_back"),
    "AWSCURRENT moved, AWSPENDING left on it": ("put", "set", "move"),
}


def leave_state(member, state):
    """Put member in one of LEFT_BEHIND's states, with boto3 and SQL."""
    password = new_password()
    old = member.version_with("AWSCURRENT")
    token = None
    for action in LEFT_BEHIND[state]:
        if action == "rotate_secret":
            member.start_pending()
        elif action == "put":
            token = put_pending(member, password)
        elif action == "set":
            set_role_password(member, password)
        else:
            frm, to = (old, token) if action == "move" else (token, old)
            member.sm.update_secret_version_stage(
                SecretId=member.app_secret, VersionStage="AWSCURRENT",
                MoveToVersionId=to, RemoveFromVersionId=frm)


def test_one_rerun_converges_a_fleet_left_in_every_state(pg, moto_clean, client_bin, leaks):
    """The end of the faulty test, made deterministic: each state a faulty
    round can leave, twice; the last secret in the one CI saw left on
    "secret 9" when the re-run skipped the last secret. One fault-free run
    must rotate them all and leave no AWSPENDING label."""
    states = list(LEFT_BEHIND) * 2
    fleet = Fleet(pg, moto_clean, len(states)).setup()
    try:
        for i, state in enumerate(states):
            member = fleet.member(i)
            leave_state(member, state)
            assert_invariant(member, leaks=leaks, where=state)
        last = fleet.member(fleet.count - 1)
        assert sorted(last.stages()[last.version_with("AWSCURRENT")]) == ["AWSCURRENT",
                                                                  "AWSPENDING"]
        assert_rerun_converges(fleet, client_bin, leaks, "rotate after every state")
    finally:
        fleet.teardown()


# ----- a faulty PostgreSQL -------------------------------------------------

def pg_ctl(cluster, *args):
    cluster._ctl(*args)


@pytest.fixture(scope="module")
def own_pg():
    """A throwaway cluster these tests may stop, restart and reconfigure."""
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_scenario(own_pg, moto_clean, leaks):
    s = Scenario(own_pg, moto_clean).setup()
    try:
        yield s
    finally:
        if not own_pg_running(own_pg):
            start(own_pg)
        leaks.harvest(s)
        leaks.add_text("throwaway server log", own_pg.log_text())
        s.teardown()


def own_pg_running(cluster):
    return os.path.exists(os.path.join(cluster.datadir, "postmaster.pid"))


def stop(cluster):
    pg_ctl(cluster, "-m", "fast", "-w", "-t", "30", "stop")


def start(cluster):
    pg_ctl(cluster, "-l", cluster.logfile, "-w", "-t", "60", "-o", f"-p {cluster.port}",
           "start")


class Paused:
    """The test build run with PG_ROTATE_TEST_PAUSE_AT=point: wait() returns
    once it stands at the point; resume() lets it go on; finish() collects it."""

    def __init__(self, scenario, binary, point, tmp_path, *args):
        self.point = point
        self.dir = tmp_path
        env = scenario.env(PG_ROTATE_TEST_PAUSE_AT=point, PG_ROTATE_TEST_PAUSE_DIR=str(tmp_path))
        self.proc = subprocess.Popen([binary] + list(args), env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait(self):
        wait_until(lambda: (self.dir / f"{self.point}.paused").exists() or
                   self.proc.poll() is not None, timeout=60, what=f"a pause at {self.point}")
        assert self.proc.poll() is None, self.proc.communicate()

    def resume(self):
        (self.dir / f"{self.point}.resume").touch()

    def finish(self, leaks):
        out, err = self.proc.communicate(timeout=120)
        proc = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)
        return leaks.record(f"paused at {self.point}", proc)


def rotate_args(s):
    return ["rotate", "--secret-id", s.app_secret, "--json", "--connect-timeout", "3"]


def test_server_down_connection_refused_then_rerun_converges(own_pg, own_scenario,
                                                             client_bin, leaks):
    s = own_scenario
    stop(own_pg)
    proc = leaks.record("rotate, server down", s.run(client_bin, *rotate_args(s)))
    assert proc.returncode == 1
    [result] = json_lines(proc.stdout)
    assert "admin connection" in result["error"]["message"]
    assert "127.0.0.1" in proc.stderr and "refused" in proc.stderr.lower(), proc.stderr
    start(own_pg)
    assert_invariant(s, s.initial_password, leaks)
    ok = s.password() == s.initial_password    # a bool: pytest prints operands
    assert ok
    rerun = leaks.record("rotate, server back", s.run(client_bin, *rotate_args(s)))
    assert rerun.returncode == 0, rerun.stderr
    assert_converged(s, s.initial_password, leaks)


def test_server_stopped_before_the_commit_then_rerun_converges(own_pg, own_scenario,
                                                               client_bin, leaks, tmp_path):
    """The server goes away with the password change prepared but not
    committed: the change is lost with the session, the old password stays,
    the error says the commit failed."""
    s = own_scenario
    run = Paused(s, hooked_bin(client_bin), "before_commit", tmp_path, *rotate_args(s))
    run.wait()
    stop(own_pg)
    run.resume()
    proc = run.finish(leaks)
    start(own_pg)
    assert proc.returncode == 1, proc.stderr
    [result] = json_lines(proc.stdout)
    assert "setSecret" in result["error"]["message"]
    ok = s.can_login(s.initial_password)    # a bool: pytest prints operands
    assert ok
    assert_invariant(s, s.initial_password, leaks)
    rerun = leaks.record("rotate after the stop", s.run(client_bin, *rotate_args(s)))
    assert rerun.returncode == 0, rerun.stderr
    assert_converged(s, s.initial_password, leaks)


def test_server_restarted_after_the_commit_rotation_completes(own_pg, own_scenario,
                                                              client_bin, leaks, tmp_path):
    """A restart between the commit and the move of AWSCURRENT: the move and
    the new login still work; the audit rows after it cannot be written on
    the dead admin session, which the client reports as a warning."""
    s = own_scenario
    run = Paused(s, hooked_bin(client_bin), "after_set_password", tmp_path, *rotate_args(s))
    run.wait()
    ok = not s.can_login(s.initial_password)    # committed (a bool: see below)
    assert ok
    assert_invariant(s, s.initial_password, leaks)
    own_pg.restart()
    run.resume()
    proc = run.finish(leaks)
    assert proc.returncode == 0, proc.stderr
    assert "could not record" in proc.stderr
    assert_converged(s, s.initial_password, leaks)


def reject_app_role(cluster, role):
    hba = os.path.join(cluster.datadir, "pg_hba.conf")
    with open(hba) as f:
        original = f.read()
    with open(hba, "w") as f:
        f.write(f'host all "{role}" 127.0.0.1/32 reject\n' + original)
    pg_ctl(cluster, "reload")
    return original


def restore_hba(cluster, original):
    with open(os.path.join(cluster.datadir, "pg_hba.conf"), "w") as f:
        f.write(original)
    pg_ctl(cluster, "reload")


def test_pg_hba_refusing_the_new_login_rolls_back(own_pg, own_scenario, client_bin, leaks,
                                                  tmp_path):
    """pg_hba.conf starts rejecting the rotated role after the current login
    was proven and before the commit: the new login is refused, so rotate
    moves AWSCURRENT back, restores the old password, records rolled_back
    and exits 4 with the server's reason."""
    s = own_scenario
    run = Paused(s, hooked_bin(client_bin), "before_commit", tmp_path, *rotate_args(s))
    run.wait()
    original = reject_app_role(own_pg, s.app_role)
    try:
        # the reload has taken effect once the role is refused
        wait_until(lambda: not s.can_login(s.initial_password), what="pg_hba.conf reload")
        run.resume()
        proc = run.finish(leaks)
    finally:
        restore_hba(own_pg, original)
    wait_until(lambda: s.can_login(s.initial_password), what="pg_hba.conf restored")
    assert proc.returncode == 4, proc.stderr
    [result] = json_lines(proc.stdout)
    assert result["outcome"] == "rolled_back"
    assert "pg_hba.conf" in result["error"]["detail"], result
    assert "the new password does not log in" in result["error"]["message"]
    ok = s.password() == s.initial_password    # a bool: pytest prints operands
    assert ok
    assert not any("AWSPENDING" in st for st in s.stages().values())
    assert "rolled_back" in [r["event"] for r in s.audit()]
    rerun = leaks.record("rotate after the rollback", s.run(client_bin, *rotate_args(s)))
    assert rerun.returncode == 0, rerun.stderr
    assert_converged(s, s.initial_password, leaks)
