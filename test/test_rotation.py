"""The rotation itself (pg_rotate rotate / step / check) against a real
PostgreSQL cluster and moto_server with signature and IAM checks on."""

import json
import os
import threading

import pytest

from harness.fleet import Fleet
from harness.leakscan import assert_no_leaks, process_cmdlines
from harness.reliability import STEPS
from harness.scenario import Scenario


def rotate_json(scenario, client_bin, *extra):
    proc = scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret,
                        "--json", *extra)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc, lines


def assert_rotated(scenario, old_password):
    stages = scenario.stages()
    current = scenario.version_with("AWSCURRENT")
    previous = scenario.version_with("AWSPREVIOUS")
    assert current and previous and current != previous
    assert not any("AWSPENDING" in s for s in stages.values()), stages
    new_password = scenario.password("AWSCURRENT")
    assert new_password != old_password
    assert scenario.value("AWSPREVIOUS")["password"] == old_password
    assert scenario.can_login(new_password)
    assert not scenario.can_login(old_password)
    return current, new_password


def test_full_rotation_changes_password_stages_and_audit(scenario, client_bin):
    proc, results = rotate_json(scenario, client_bin)
    assert proc.returncode == 0, proc.stderr
    [result] = results
    assert result["outcome"] == "rotated"
    assert result["secret_id"] in (scenario.app_arn, scenario.app_secret)
    assert isinstance(result["lag_ms"], (int, float)) and result["lag_ms"] >= 0
    current, new_password = assert_rotated(scenario, scenario.initial_password)
    assert result["version_id"] == current

    # Read back independently with AWS's own CLI.
    cli = scenario.moto.aws_cli(["secretsmanager", "get-secret-value", "--secret-id",
                                 scenario.app_secret, "--version-stage", "AWSCURRENT"],
                                env=scenario.env())
    got = json.loads(cli.stdout)
    assert got["VersionId"] == current
    assert json.loads(got["SecretString"])["password"] == new_password
    # Unknown keys and the rest of the secret are kept.
    assert json.loads(got["SecretString"])["masterarn"] == scenario.admin_arn

    events = [(r["event"], r["version_id"]) for r in scenario.audit()
              if r["target"] == scenario.app_role]
    for event in ("password_set", "tested", "finished"):
        assert (event, current) in events, events
    finished = [r for r in scenario.audit() if r["event"] == "finished"][0]
    assert finished["secret_id"] == scenario.app_arn
    assert "lag_ms" in finished["detail"]
    assert scenario.audit_chain_ok()


def test_second_rotation_rotates_again(scenario, client_bin):
    scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret, check=True)
    first = scenario.password()
    scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret, check=True)
    assert_rotated(scenario, first)


def run_step(scenario, client_bin, step, token):
    return scenario.run(client_bin, "step", "--step", step, "--secret-id",
                        scenario.app_secret, "--token", token)


def test_every_step_run_twice_converges(scenario, client_bin):
    token = scenario.start_pending()
    for step in STEPS:
        for attempt in (1, 2):
            proc = run_step(scenario, client_bin, step, token)
            assert proc.returncode == 0, f"{step} attempt {attempt}: {proc.stderr}"
    current, _ = assert_rotated(scenario, scenario.initial_password)
    assert current == token
    # A finished token is AWSCURRENT: every step now returns at once.
    for step in STEPS:
        assert run_step(scenario, client_bin, step, token).returncode == 0


def test_snake_case_step_names_are_accepted(scenario, client_bin):
    token = scenario.start_pending()
    for step in ("create_secret", "set_secret", "test_secret", "finish_secret"):
        assert run_step(scenario, client_bin, step, token).returncode == 0
    assert_rotated(scenario, scenario.initial_password)


def test_steps_out_of_order_and_reruns_after_partial_failure_converge(scenario, client_bin):
    token = scenario.start_pending()
    # testSecret before createSecret: the pending version has no value yet
    early = run_step(scenario, client_bin, "testSecret", token)
    assert early.returncode == 1, early.stderr
    assert f'has no value yet' in early.stderr, early.stderr
    assert run_step(scenario, client_bin, "createSecret", token).returncode == 0
    # testSecret before setSecret: the pending password does not log in
    early = run_step(scenario, client_bin, "testSecret", token)
    assert early.returncode == 1, early.stderr
    assert "testSecret for secret" in early.stderr
    assert "the pending password does not log in" in early.stderr, early.stderr
    assert scenario.can_login(scenario.initial_password)
    # setSecret fails while the admin secret is unreadable, then succeeds
    bad_env = scenario.env(AWS_SECRET_ACCESS_KEY="not-the-key")
    failed = scenario.run(client_bin, "step", "--step", "setSecret", "--secret-id",
                          scenario.app_secret, "--token", token, env=bad_env)
    assert failed.returncode == 1, failed.stderr
    assert "setSecret for secret" in failed.stderr and "Signature" in failed.stderr, \
        failed.stderr
    assert scenario.can_login(scenario.initial_password)
    for step in STEPS[1:]:
        assert run_step(scenario, client_bin, step, token).returncode == 0, step
    assert_rotated(scenario, scenario.initial_password)


def test_step_refuses_a_token_that_is_not_pending(scenario, client_bin):
    token = scenario.start_pending()
    other = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    proc = run_step(scenario, client_bin, "createSecret", other)
    assert proc.returncode == 1, proc.stderr
    assert f'version "{other}" is not a version of secret' in proc.stderr, proc.stderr
    assert run_step(scenario, client_bin, "createSecret", token).returncode == 0


def test_check_reports_health_and_pending_rotation(scenario, client_bin):
    ok = scenario.run(client_bin, "check", "--secret-id", scenario.app_secret, "--json")
    assert ok.returncode == 0, ok.stderr
    token = scenario.start_pending()
    assert run_step(scenario, client_bin, "createSecret", token).returncode == 0
    pending = scenario.run(client_bin, "check", "--secret-id", scenario.app_secret)
    assert pending.returncode == 3, pending.stdout + pending.stderr
    assert "AWSPENDING" in pending.stdout + pending.stderr


def test_failed_test_step_rolls_back_to_the_current_password(scenario, client_bin):
    """The pending login is made to fail right after the password commit (a
    test-only fault point): the client must move AWSCURRENT back and restore
    the current password."""
    hooked = client_bin + "-testhooks"
    if not os.access(hooked, os.X_OK):
        pytest.fail("client/pg_rotate-testhooks is not built")
    env = scenario.env(PG_ROTATE_TEST_FAIL_AT="test_login")
    proc = scenario.run(hooked, "rotate", "--secret-id", scenario.app_secret, "--json",
                        env=env)
    assert proc.returncode == 4, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["outcome"] == "rolled_back"
    assert scenario.password("AWSCURRENT") == scenario.initial_password
    assert scenario.can_login(scenario.initial_password)
    assert "rolled_back" in [r["event"] for r in scenario.audit()]
    # and a later rotation goes through
    scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret, check=True)
    assert_rotated(scenario, scenario.initial_password)


@pytest.mark.parametrize("bad,message", [
    pytest.param("not json at all", "secret is not valid JSON", id="invalid-json"),
    pytest.param({"engine": "postgres", "host": "127.0.0.1", "password": "x"},
                 'secret has no "username" key', id="missing-username"),
    pytest.param({"engine": "mysql", "host": "127.0.0.1", "username": "u", "password": "x"},
                 "secret is not for PostgreSQL", id="wrong-engine"),
    pytest.param({"engine": "postgres", "host": "127.0.0.1", "username": ["u"],
                  "password": "x"}, 'secret key "username" must be a string',
                 id="username-not-a-string"),
    pytest.param({"engine": "postgres", "host": "127.0.0.1", "port": "fifty",
                  "username": "u", "password": "x"},
                 'secret key "port" is not a valid port number', id="port-not-a-number"),
])
def test_bad_secret_gives_clear_error_and_keeps_password(scenario, client_bin, bad, message):
    scenario.sm.put_secret_value(SecretId=scenario.app_secret,
                                 SecretString=bad if isinstance(bad, str) else json.dumps(bad))
    proc = scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret)
    assert proc.returncode == 1, proc.stderr
    [error] = [line for line in proc.stderr.splitlines() if line.startswith("pg_rotate: error:")]
    assert error == (f"pg_rotate: error: createSecret for secret \"{scenario.app_secret}\": "
                     f"the current version of secret \"{scenario.app_secret}\": {message}"), error
    assert scenario.can_login(scenario.initial_password)


def test_unreachable_host_gives_clear_error(scenario, client_bin):
    value = scenario.value()
    value["port"] = 1  # nothing listens there
    scenario.sm.put_secret_value(SecretId=scenario.app_secret, SecretString=json.dumps(value))
    proc = scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret,
                        "--connect-timeout", "2")
    assert proc.returncode == 1
    assert "127.0.0.1" in proc.stderr
    assert scenario.can_login(scenario.initial_password)


def test_denied_set_password_leaves_current_password(pg, moto_clean, client_bin):
    """A role not in rotate.managed_role: the extension refuses; nothing changes."""
    s = Scenario(pg, moto_clean).setup(managed=False)
    s.enable_auth()
    try:
        proc = s.run(client_bin, "rotate", "--secret-id", s.app_secret)
        assert proc.returncode == 1, proc.stderr
        assert "not managed" in proc.stderr
        assert s.can_login(s.initial_password)
        assert s.password("AWSCURRENT") == s.initial_password
        assert "denied" in [r["event"] for r in s.audit()]
    finally:
        s.teardown()


@pytest.mark.parametrize("role", ['app "quoted"', "app with space", "appé✓",
                                  "a" * 63], ids=["quotes", "space", "unicode", "63-bytes"])
def test_role_names_needing_quotes_rotate(pg, moto_clean, client_bin, role):
    s = Scenario(pg, moto_clean, app_role=role if len(role) < 63 else None)
    if len(role) == 63:
        s.app_role = s.suffix + "x" * (63 - len(s.suffix))
    s.setup()
    s.enable_auth()
    try:
        proc = s.run(client_bin, "rotate", "--secret-id", s.app_secret)
        assert proc.returncode == 0, proc.stderr
        assert_rotated(s, s.initial_password)
    finally:
        s.teardown()


def test_no_extension_refused_unless_asked(pg, moto_clean, client_bin):
    s = Scenario(pg, moto_clean).setup(extension=False)
    # without the extension the admin needs the right to alter the role
    pg.psql(f"ALTER ROLE {s.ident(s.admin_role)} CREATEROLE")
    s.enable_auth()
    try:
        refused = s.run(client_bin, "rotate", "--secret-id", s.app_secret)
        assert refused.returncode == 1, refused.stderr
        assert 'extension "pg_rotate" is not installed' in refused.stderr
        assert "CREATE EXTENSION pg_rotate" in refused.stderr
        assert s.can_login(s.initial_password)
        done = s.run(client_bin, "rotate", "--secret-id", s.app_secret, "--no-extension")
        assert done.returncode == 0, done.stderr
        assert_rotated(s, s.initial_password)
    finally:
        s.teardown()


def test_twenty_secrets_in_parallel(pg, moto_clean, client_bin):
    fleet = Fleet(pg, moto_clean, 20).setup()
    fleet.base.enable_auth()
    try:
        args = ["rotate", "--parallel", "8", "--json"]
        for secret_id in fleet.secret_ids:
            args += ["--secret-id", secret_id]
        proc = fleet.base.run(client_bin, *args, timeout=300)
        assert proc.returncode == 0, proc.stderr
        results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        assert len(results) == 20
        assert {r["outcome"] for r in results} == {"rotated"}
        for i in range(20):
            member = fleet.member(i)
            assert_rotated(member, member.initial_password)
        assert fleet.base.audit_chain_ok()
    finally:
        fleet.teardown()


def test_secrets_file_and_one_failure_do_not_stop_the_others(pg, moto_clean, client_bin,
                                                             tmp_path):
    fleet = Fleet(pg, moto_clean, 3).setup()
    fleet.base.enable_auth()
    try:
        listing = tmp_path / "secrets.txt"
        listing.write_text("# fleet\n" + "\n".join(fleet.secret_ids[:2]) +
                           "\npgr/does-not-exist\n\n" + fleet.secret_ids[2] + "\n")
        proc = fleet.base.run(client_bin, "rotate", "--secrets-file", str(listing),
                              "--parallel", "2", "--json")
        assert proc.returncode == 1
        results = {r["secret_id"]: r for r in
                   (json.loads(line) for line in proc.stdout.splitlines() if line.strip())}
        assert results["pgr/does-not-exist"]["outcome"] == "failed"
        assert results["pgr/does-not-exist"]["error"]["code"] == "ResourceNotFoundException"
        assert sum(r["outcome"] == "rotated" for r in results.values()) == 3
    finally:
        fleet.teardown()


def test_no_password_in_server_log_client_output_or_ps(scenario, client_bin):
    mark = scenario.pg.log_mark()
    cmdlines = {}
    stop = threading.Event()

    def watch_ps():
        while not stop.is_set():
            cmdlines.update(process_cmdlines())
            stop.wait(0.005)

    watcher = threading.Thread(target=watch_ps)
    watcher.start()
    try:
        proc = scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret,
                            "--verbose")
    finally:
        stop.set()
        watcher.join()
    assert proc.returncode == 0, proc.stderr
    new_password = scenario.password("AWSCURRENT")
    secrets = [scenario.initial_password, new_password, scenario.admin_password,
               scenario.creds[1]]
    assert_no_leaks(secrets, {"server log": scenario.pg.log_since(mark),
                              "stdout": proc.stdout, "stderr": proc.stderr, **cmdlines})
