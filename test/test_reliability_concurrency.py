"""Races: many `rotate` processes for one secret at once, and many secrets at
once against one database.

The processes are the test build, held at a barrier (PG_ROTATE_TEST_PAUSE_AT
at after_get_admin: each has read the secret it starts from and none has
taken the rotation lock yet), then let go together: the worst case, every
one of them sure it must rotate. Exactly one new version must win per
secret, the others report "already_current", nobody is locked out, the
audit chain verifies. The same then without a barrier, with the shipped
binary, started as fast as the OS allows.

Before the rotation lock (client/rotation.c), two racing clients both wrote
an AWSPENDING version and both set the password; the loser's failed move of
AWSCURRENT then rolled the database back to the old password while
AWSCURRENT named the winner's: the application was locked out.
"""

import collections
import os
import subprocess

import pytest

from harness.fleet import Fleet
from harness.reliability import assert_converged, hooked_bin, json_lines
from harness.scenario import Scenario
from harness.util import wait_until

LONG = os.environ.get("PG_ROTATE_LONG_TESTS") == "1"
BARRIER = "after_get_admin"
RACES = []      # (clients, secrets) of each race run, for the summary


@pytest.fixture
def scenario(pg, moto_clean, leaks):
    s = Scenario(pg, moto_clean).setup()
    try:
        yield s
    finally:
        leaks.harvest(s)
        s.teardown()


def start_racers(binary, env_of, secret_ids, tmp_path, barrier=True):
    """One `rotate` process per secret id (ids may repeat); with barrier, all
    stand at BARRIER before any goes on. Returns the finished processes."""
    procs = []
    for i, secret_id in enumerate(secret_ids):
        env = env_of()
        if barrier:
            d = tmp_path / f"racer-{i}"
            d.mkdir()
            env.update(PG_ROTATE_TEST_PAUSE_AT=BARRIER, PG_ROTATE_TEST_PAUSE_DIR=str(d))
        procs.append(subprocess.Popen([binary, "rotate", "--secret-id", secret_id, "--json"],
                                      env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    if barrier:
        wait_until(lambda: all((tmp_path / f"racer-{i}" / f"{BARRIER}.paused").exists()
                               or p.poll() is not None for i, p in enumerate(procs)),
                   timeout=60, what="every racer at the barrier")
        for i in range(len(procs)):
            (tmp_path / f"racer-{i}" / f"{BARRIER}.resume").touch()
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def check_race(member, before_versions, old_password, procs, leaks, exactly_one):
    outcomes = collections.Counter()
    for proc in procs:
        leaks.record("racer", proc)
        assert proc.returncode == 0, proc.stderr
        [result] = json_lines(proc.stdout)
        outcomes[result["outcome"]] += 1
    assert set(outcomes) <= {"rotated", "already_current"}, outcomes
    stages = member.stages()
    new_versions = set(stages) - before_versions
    # every "rotated" made exactly one version; nobody else made any
    assert len(new_versions) == outcomes["rotated"] >= 1, (outcomes, stages)
    if exactly_one:
        assert outcomes["rotated"] == 1, outcomes
        assert member.version_with("AWSCURRENT") in new_versions
    assert_converged(member, old_password, leaks, audit=False)
    return outcomes


@pytest.mark.parametrize("clients", [2, 4, 8])
def test_clients_rotating_one_secret_at_once(scenario, client_bin, leaks, tmp_path, clients):
    s = scenario
    for barrier, binary in ((True, hooked_bin(client_bin)), (False, client_bin)):
        for round_no in range(5 if LONG else 1):
            before = set(s.stages())
            old = s.password()
            sets_before = sum(r["event"] == "password_set" for r in s.audit())
            work = tmp_path / f"{barrier}-{round_no}"
            work.mkdir()
            procs = start_racers(binary, s.env, [s.app_secret] * clients, work, barrier)
            outcomes = check_race(s, before, old, procs, leaks, exactly_one=barrier)
            sets = sum(r["event"] == "password_set" for r in s.audit()) - sets_before
            assert sets == outcomes["rotated"], (sets, outcomes)
            RACES.append((clients, 1))
    assert s.audit_chain_ok()


def test_many_secrets_at_once_against_one_database(pg, moto_clean, client_bin, leaks,
                                                   tmp_path):
    secrets, per_secret = (16, 3) if LONG else (8, 2)
    fleet = Fleet(pg, moto_clean, secrets).setup()
    try:
        members = [fleet.member(i) for i in range(secrets)]
        before = [set(m.stages()) for m in members]
        old = [m.initial_password for m in members]
        ids = [sid for sid in fleet.secret_ids for _ in range(per_secret)]
        procs = start_racers(hooked_bin(client_bin), fleet.base.env, ids, tmp_path)
        by_secret = collections.defaultdict(list)
        for secret_id, proc in zip(ids, procs):
            by_secret[secret_id].append(proc)
        for i, m in enumerate(members):
            check_race(m, before[i], old[i], by_secret[m.app_secret], leaks, exactly_one=True)
        assert fleet.base.audit_chain_ok()
        RACES.append((len(ids), secrets))
        for m in members:
            leaks.harvest(m, secret_ids=[m.app_secret])
        leaks.harvest(fleet.base, roles=[r for r, _, _ in fleet.members])
    finally:
        fleet.teardown()
    print(f"\nraces: {len(RACES)} run, "
          + ", ".join(f"{c} clients on {n} secret(s)" for c, n in RACES))
