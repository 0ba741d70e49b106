"""Crash at every point: the test build of the client (pg_rotate-testhooks)
is SIGKILLed at each PGR_TEST_POINT of client/rotation.c that a run reaches,
in each way a rotation runs: the one-shot `rotate`, `rotate` rolling back a
failed test, the four single `step`s, and the Lambda runtime with its
collapsed setSecret (also rolling back). After each kill the invariant must
hold (the database password is that of the AWSCURRENT or AWSPENDING
version); the normal binary, re-run as Secrets Manager or an operator would,
must finish the rotation: AWSCURRENT moved and logs in, the old password
refused, no AWSPENDING left, the audit chain intact.

Which points a run reaches comes from a first, traced run
(PG_ROTATE_TEST_TRACE), and the list of all points from the source, so a new
PGR_TEST_POINT is covered without touching this file.
"""

import os

import pytest

from harness.lambda_runtime import RuntimeAPI
from harness.scenario import Scenario
from harness.reliability import (STEPS, LambdaProcess, assert_converged, assert_invariant,
                                 hooked_bin, invoke_until_death, kill_points, lambda_event)

# make check kills the Lambda at the points of its collapsed setSecret and
# after (createSecret is the steps' code); `make stress` at every point
LONG = os.environ.get("PG_ROTATE_LONG_TESTS") == "1"

# mode -> points killed at (for the summary and the coverage check)
TRIED = {}
MODES = ("rotate", "rotate-rollback", "steps", "lambda", "lambda-rollback")


def unique(seq):
    seen = []
    for x in seq:
        if x not in seen:
            seen.append(x)
    return seen


def read_trace(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def traced_points(trace, first=None):
    """The distinct points a traced run reached, from the first occurrence
    of `first` on when it is given."""
    points = unique(read_trace(trace))
    if first:
        points = points[points.index(first):] if first in points else []
    assert points, "the traced run reached no test point"
    return points


@pytest.fixture
def scenario(pg, moto_clean):
    """Signature checks off here (the rotation tests prove them): these
    tests make thousands of calls."""
    s = Scenario(pg, moto_clean).setup()
    try:
        yield s
    finally:
        s.teardown()


class Function:
    """A Lambda function process on its own Runtime API stand-in (a stand-in
    whose poller died keeps taking events, so each process gets a new one)."""

    def __init__(self, binary, scenario, leaks, what, **env):
        self.api = RuntimeAPI().start()
        self.fn = LambdaProcess(binary, scenario, self.api, **env)
        self.leaks = leaks
        self.what = what

    def deliver(self, events):
        return invoke_until_death(self.api, self.fn, events)

    def stop(self):
        try:
            out, err = self.fn.stop()
            self.leaks.add_text(f"{self.what} stdout", out)
            self.leaks.add_text(f"{self.what} stderr", err)
        finally:
            self.api.stop()


# ----- rotate ----------------------------------------------------------------

def rotate_kills(scenario, client_bin, leaks, tmp_path, fail_at=None, first=None):
    hooked = hooked_bin(client_bin)
    args = ["rotate", "--secret-id", scenario.app_secret]
    extra = {"PG_ROTATE_TEST_FAIL_AT": fail_at} if fail_at else {}
    trace = tmp_path / "trace"
    leaks.record("traced rotate", scenario.run(
        hooked, *args, env=scenario.env(PG_ROTATE_TEST_TRACE=str(trace), **extra)))
    points = traced_points(trace, first)
    for point in points:
        old = scenario.password()
        proc = leaks.record(f"rotate killed at {point}", scenario.run(
            hooked, *args, env=scenario.env(PG_ROTATE_TEST_KILL_AT=point, **extra)))
        assert proc.returncode == -9, f"{point}: exited {proc.returncode}: {proc.stderr}"
        assert_invariant(scenario, old, leaks, where=f"rotate killed at {point}")
        rerun = leaks.record(f"rotate after {point}", scenario.run(client_bin, *args))
        assert rerun.returncode == 0, f"re-run after {point}: {rerun.stderr}"
        assert_converged(scenario, old, leaks, where=f"rotate killed at {point}")
    leaks.harvest(scenario)
    return points


def test_kill_rotate_at_every_point_then_rerun_converges(scenario, client_bin, leaks,
                                                          tmp_path):
    TRIED["rotate"] = rotate_kills(scenario, client_bin, leaks, tmp_path)


def test_kill_rotate_while_rolling_back_then_rerun_converges(scenario, client_bin, leaks,
                                                             tmp_path):
    """The pending login fails (fault point), so rotate rolls back; it is
    killed at each point of the rollback."""
    TRIED["rotate-rollback"] = rotate_kills(scenario, client_bin, leaks, tmp_path,
                                            fail_at="test_login",
                                            first="rollback_before_move_back")


# ----- single steps -----------------------------------------------------------

def run_step(scenario, binary, step, token, env=None):
    return scenario.run(binary, "step", "--step", step, "--secret-id", scenario.app_secret,
                        "--token", token, env=env)


def test_kill_each_step_at_every_point_then_rerun_converges(scenario, client_bin, leaks,
                                                            tmp_path):
    hooked = hooked_bin(client_bin)
    pairs = []
    token = scenario.start_pending()
    for i, step in enumerate(STEPS):
        trace = tmp_path / f"trace-{step}"
        proc = leaks.record(f"traced {step}", run_step(
            scenario, hooked, step, token, env=scenario.env(PG_ROTATE_TEST_TRACE=str(trace))))
        assert proc.returncode == 0, proc.stderr
        pairs += [(i, point) for point in unique(read_trace(trace))]
    assert pairs
    for i, point in pairs:
        old = scenario.password()
        token = scenario.start_pending()
        for step in STEPS[:i]:
            proc = leaks.record(step, run_step(scenario, client_bin, step, token))
            assert proc.returncode == 0, f"{step}: {proc.stderr}"
        proc = leaks.record(f"{STEPS[i]} killed at {point}", run_step(
            scenario, hooked, STEPS[i], token, env=scenario.env(PG_ROTATE_TEST_KILL_AT=point)))
        where = f"{STEPS[i]} killed at {point}"
        assert proc.returncode == -9, f"{where}: exited {proc.returncode}: {proc.stderr}"
        assert_invariant(scenario, old, leaks, where=where)
        # Secrets Manager retries the step, then goes on
        for step in STEPS[i:]:
            proc = leaks.record(f"{step} after {where}", run_step(scenario, client_bin, step,
                                                                  token))
            assert proc.returncode == 0, f"{step} after {where}: {proc.stderr}"
        assert_converged(scenario, old, leaks, where=where)
        assert scenario.version_with("AWSCURRENT") == token
    TRIED["steps"] = [f"{STEPS[i]}:{p}" for i, p in pairs]
    leaks.harvest(scenario)


# ----- the Lambda runtime (setSecret collapses the lag) -----------------------

def lambda_kills(scenario, client_bin, leaks, tmp_path, fail_at=None, first=None):
    hooked = hooked_bin(client_bin)
    extra = {"PG_ROTATE_TEST_FAIL_AT": fail_at} if fail_at else {}
    trace = tmp_path / "trace"
    token = scenario.start_pending()
    events = [lambda_event(scenario, s, token) for s in STEPS]
    fn = Function(hooked, scenario, leaks, "traced lambda", PG_ROTATE_TEST_TRACE=str(trace),
                  **extra)
    try:
        fn.deliver(events)
    finally:
        fn.stop()
    # finish what the traced run left (after a failed setSecret: a retry)
    fn = Function(client_bin, scenario, leaks, "lambda")
    try:
        fn.deliver(events)
    finally:
        fn.stop()
    points = traced_points(trace, first)

    for point in points:
        old = scenario.password()
        token = scenario.start_pending()
        events = [lambda_event(scenario, s, token) for s in STEPS]
        where = f"lambda killed at {point}"
        fn = Function(hooked, scenario, leaks, where, PG_ROTATE_TEST_KILL_AT=point, **extra)
        try:
            _, died_at = fn.deliver(events)
        finally:
            fn.stop()
        assert died_at is not None, f"{where}: the function never reached the point"
        assert_invariant(scenario, old, leaks, where=where)
        # Secrets Manager redelivers the event, then sends the rest
        fn = Function(client_bin, scenario, leaks, f"lambda after {point}")
        try:
            answers, _ = fn.deliver(events[died_at:])
        finally:
            fn.stop()
        for kind, body, _ in answers:
            assert kind == "response", f"after {where}: {body}"
        assert_converged(scenario, old, leaks, where=where)
        assert scenario.version_with("AWSCURRENT") == token
    leaks.harvest(scenario)
    return points


def test_kill_lambda_at_every_point_then_redelivery_converges(scenario, client_bin, leaks,
                                                              tmp_path):
    TRIED["lambda"] = lambda_kills(scenario, client_bin, leaks, tmp_path,
                                   first=None if LONG else "before_set_password")


def test_kill_lambda_while_restoring_then_redelivery_converges(scenario, client_bin, leaks,
                                                               tmp_path):
    """The collapsed setSecret's proof fails (fault point) after it moved
    AWSCURRENT: it moves the label back and restores the current password,
    keeping AWSPENDING for Secrets Manager's retry; it is killed at each
    point from there on."""
    TRIED["lambda-rollback"] = lambda_kills(scenario, client_bin, leaks, tmp_path,
                                            fail_at="test_login",
                                            first="rollback_before_move_back")


def test_every_point_in_the_source_was_killed_at():
    if set(TRIED) != set(MODES):
        pytest.skip("runs only after every kill test of this file")
    tried = set()
    for mode, points in TRIED.items():
        tried |= {p.split(":")[-1] for p in points}
    missing = sorted(set(kill_points()) - tried)
    assert not missing, f"test points no run reaches: {missing}"
    total = sum(len(p) for p in TRIED.values())
    print(f"\nkill points: {len(kill_points())} in the source, {total} kills "
          + ", ".join(f"{m} {len(p)}" for m, p in TRIED.items()))


def test_finish_secret_before_set_secret_is_refused_and_locks_nobody_out(scenario,
                                                                         client_bin):
    """Found by the Lambda rollback kills: a finishSecret delivered after a
    setSecret that restored the old password moved AWSCURRENT to a password
    the database did not have. finishSecret now proves the pending password
    logs in first."""
    token = scenario.start_pending()
    assert run_step(scenario, client_bin, "createSecret", token).returncode == 0
    proc = run_step(scenario, client_bin, "finishSecret", token)
    assert proc.returncode == 1
    assert "pending password does not log in" in proc.stderr
    assert scenario.version_with("AWSCURRENT") != token
    ok = scenario.can_login(scenario.password("AWSCURRENT"))    # a bool: pytest prints operands
    assert ok
    for step in STEPS[1:]:
        assert run_step(scenario, client_bin, step, token).returncode == 0
    assert_converged(scenario, scenario.initial_password)
