"""Checks shared by the reliability tests (crashes, faults, races).

The invariant (client/rotation.c): at every instant the database password
equals the password of a version labelled AWSCURRENT or AWSPENDING. After a
re-run the rotation must have converged: AWSCURRENT moved and logs in, the
old password is refused, no AWSPENDING label is left, the audit chain holds.
Messages name versions and fingerprints, never a password.
"""

import json
import os
import re
import signal
import subprocess

from .leakscan import fingerprint
from .util import REPO, wait_until

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


def kill_points():
    """Every PGR_TEST_POINT name in client/rotation.c, so a new point is
    covered without touching the tests."""
    with open(os.path.join(REPO, "client", "rotation.c")) as f:
        return sorted(set(re.findall(r'PGR_TEST_POINT\("([a-z_]+)"\)', f.read())))


def hooked_bin(client_bin):
    path = client_bin + "-testhooks"
    if not os.access(path, os.X_OK):
        raise AssertionError("client/pg_rotate-testhooks is not built: run \"make\"")
    return path


def labelled_passwords(member):
    """{stage: (version, password)} for AWSCURRENT and AWSPENDING (a pending
    version without a value yet is left out)."""
    out = {}
    for version, stages in member.stages().items():
        for stage in ("AWSCURRENT", "AWSPENDING"):
            if stage in stages:
                try:
                    out[stage] = (version, member.value(version_id=version)["password"])
                except Exception:  # noqa: BLE001 - RotateSecret's empty version
                    pass
    return out


def assert_invariant(member, old_password=None, leaks=None, where=""):
    """The database password is that of the AWSCURRENT or the AWSPENDING
    version; the old password is refused only when AWSCURRENT has moved or
    the pending one (about to become current) logs in."""
    labelled = labelled_passwords(member)
    if leaks is not None:
        leaks.add_secret(*(pw for _, pw in labelled.values()))
    logs_in = {stage: member.can_login(pw) for stage, (_, pw) in labelled.items()}
    assert any(logs_in.values()), (
        f"{where}: neither AWSCURRENT nor AWSPENDING logs in for {member.app_secret}: "
        f"{ {s: (v, fingerprint(p)) for s, (v, p) in labelled.items()} } "
        f"stages {member.stages()}")
    if old_password is not None and not member.can_login(old_password):
        # booleans only: pytest prints the operands of a failed assert
        current_is_old = labelled["AWSCURRENT"][1] == old_password
        assert not current_is_old or logs_in.get("AWSPENDING"), (
            f"{where}: old password refused while AWSCURRENT still holds it and the "
            f"pending one does not log in; stages {member.stages()}")
    return labelled


def assert_converged(member, old_password, leaks=None, where="", audit=True):
    """The rotation finished: AWSCURRENT moved, logs in, old password refused,
    no AWSPENDING left, audit chain verifies."""
    stages = member.stages()
    assert not any("AWSPENDING" in s for s in stages.values()), f"{where}: {stages}"
    new_password = member.password("AWSCURRENT")
    if leaks is not None:
        leaks.add_secret(new_password)
        leaks.harvest_verifiers(member.pg, [member.app_role])
    moved = new_password != old_password
    new_ok = member.can_login(new_password)
    old_ok = member.can_login(old_password)
    assert moved, f"{where}: AWSCURRENT did not move"
    assert new_ok, f"{where}: AWSCURRENT does not log in"
    assert not old_ok, f"{where}: the old password still logs in"
    if audit:
        assert member.audit_chain_ok(), f"{where}: audit chain broken"
    return new_password


class LambdaProcess:
    """`pg_rotate lambda` on a harness.lambda_runtime.RuntimeAPI."""

    def __init__(self, binary, scenario, api, **env):
        self.env = scenario.env(AWS_LAMBDA_RUNTIME_API=api.address, **env)
        self.proc = subprocess.Popen([binary, "lambda"], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def died(self):
        return self.proc.poll() is not None

    def stop(self):
        """Stop it (SIGTERM); returns (stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.communicate(timeout=30)


def invoke_until_death(api, fn, events):
    """Deliver events in order to fn, as Secrets Manager does: stop at the
    first one fn died on or answered with an error (Secrets Manager then
    retries that step). Returns (answers, index of that event or None)."""
    answers = []
    for i, event in enumerate(events):
        request_id = api.invoke(event)
        wait_until(lambda: request_id in api.results or fn.died(), timeout=60,
                   what="an answer or the function's death")
        if request_id not in api.results:
            return answers, i
        answers.append(api.wait_result(request_id))
        if answers[-1][0] == "error":
            return answers, i
    return answers, None


def lambda_event(member, step, token):
    return {"Step": step, "SecretId": member.app_arn or member.app_secret,
            "ClientRequestToken": token, "RotationToken": "rt-" + token[:8]}


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
