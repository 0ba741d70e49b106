"""pg_rotate as a Lambda custom runtime, driven by a loopback stand-in for
the Runtime API, against PostgreSQL and moto_server with signature and IAM
checks on; and the shipped IAM policy, proven least-privilege."""

import copy
import json
import os
import signal
import subprocess
import threading

import pytest

from aws_standin import StandIn, sm_ok
from harness.lambda_runtime import RuntimeAPI
from harness.leakscan import assert_no_leaks
from harness.reliability import STEPS, LambdaProcess
from harness.scenario import Scenario
from harness.util import REPO, wait_until

def stop_and_read_logs(fn):
    """Stop fn; returns (its stdout, every line of which must be JSON, parsed;
    its stderr)."""
    out, err = fn.stop()
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


# CloudWatch's units (MetricDatum), as the EMF specification refers to them
EMF_UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
             "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
             "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
             "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
             "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def assert_emf(doc):
    """doc follows CloudWatch's "Specification: Embedded metric format":
    the _aws metadata object (Timestamp in integer milliseconds,
    CloudWatchMetrics), MetricDirectives with Namespace, Dimensions (sets of
    at most 9 keys) and Metrics (at most 100 {Name, Unit}), no members the
    specification does not define in its own objects, and every reference a
    member of the root: a string for a dimension, a number for a metric."""
    aws = doc["_aws"]
    assert set(aws) == {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 0
    assert isinstance(aws["CloudWatchMetrics"], list) and aws["CloudWatchMetrics"]
    for directive in aws["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
        assert isinstance(directive["Dimensions"], list) and directive["Dimensions"]
        for dimension_set in directive["Dimensions"]:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 9
            for key in dimension_set:
                assert isinstance(doc[key], str) and 1 <= len(doc[key]) <= 1024, key
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert set(metric) <= {"Name", "Unit"} and 1 <= len(metric["Name"]) <= 255
            assert metric.get("Unit", "None") in EMF_UNITS
            value = doc[metric["Name"]]
            assert isinstance(value, (int, float)) and not isinstance(value, bool), metric


def metrics_of(logs):
    """The EMF documents among the log lines, each checked against the spec."""
    docs = [line for line in logs if "_aws" in line]
    for doc in docs:
        assert_emf(doc)
    return docs


def metric_names(doc):
    return [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


@pytest.fixture
def api():
    server = RuntimeAPI().start()
    try:
        yield server
    finally:
        server.stop()


def event(scenario, step, token, secret_id=None):
    return {"Step": step, "SecretId": secret_id or scenario.app_arn,
            "ClientRequestToken": token, "RotationToken": "rotation-token-" + token[:8]}


def run_events(api, events):
    return [api.wait_result(api.invoke(e)) for e in events]


def test_four_events_rotate_and_redelivery_is_idempotent(scenario, client_bin, api):
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin, scenario, api)
    try:
        first = run_events(api, [event(scenario, s, token) for s in STEPS])
        # Secrets Manager retries: every event delivered a second time
        again = run_events(api, [event(scenario, s, token) for s in STEPS])
    finally:
        logs, stderr = stop_and_read_logs(fn)
    for kind, body, _ in first + again:
        assert kind == "response", body
    assert scenario.version_with("AWSCURRENT") == token
    new_password = scenario.password("AWSCURRENT")
    assert scenario.can_login(new_password)
    assert not scenario.can_login(scenario.initial_password)
    assert scenario.value("AWSPREVIOUS")["password"] == scenario.initial_password

    # setSecret collapsed the lag: it moved AWSCURRENT itself and logged it
    by_step = {}
    for line in logs:
        if "step" in line:
            by_step.setdefault(line["step"], []).append(line)
    set_line = by_step["setSecret"][0]
    assert set_line["outcome"] == "rotated" and set_line["lag_ms"] is not None
    assert set_line["secret_id"] == scenario.app_arn and set_line["version_id"] == token
    assert all(line["outcome"] == "already_current"
               for line in by_step["testSecret"] + by_step["finishSecret"])
    events = [r["event"] for r in scenario.audit() if r["version_id"] == token]
    assert {"password_set", "tested", "finished"} <= set(events)
    assert scenario.audit_chain_ok()
    # the anchor after setSecret's "finished", the rotation's last write
    tip = scenario.pg.psql("SELECT rotate.audit_anchor()", dbname=scenario.dbname).strip()
    assert set_line["audit_anchor"] == tip
    assert [line["audit_anchor"] for line in by_step["finishSecret"]] == [None, None]

    # one EMF document per invocation, after its log line
    docs = metrics_of(logs)
    assert [d["Step"] for d in docs] == STEPS + STEPS
    assert all(logs[logs.index(d) - 1]["request_id"] == d["RequestId"] for d in docs)
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in docs} == {"pg_rotate"}
    assert {d["SecretName"] for d in docs} == {scenario.app_secret}
    assert [d["Rotated"] for d in docs] == [0, 1, 0, 0] + [0, 0, 0, 0]
    assert [d["Failed"] for d in docs] == [0] * 8
    set_doc = docs[1]
    assert set_doc["LagMs"] == set_line["lag_ms"] and "LagMs" in metric_names(set_doc)
    assert not any("LagMs" in d for d in docs if d is not set_doc)
    assert set_doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["SecretName"], []]
    assert all(d["DurationMs"] >= 0 for d in docs)
    assert_no_leaks([scenario.initial_password, new_password, scenario.admin_password,
                     scenario.creds[1]],
                    {"lambda stdout": json.dumps(logs), "lambda stderr": stderr,
                     "EMF documents": json.dumps(docs)})


def test_metrics_namespace_is_set_by_the_environment_and_the_alarm_matches(scenario,
                                                                           client_bin, api):
    """PG_ROTATE_METRICS_NAMESPACE names the namespace; the SAM template's
    alarm watches the metric and the namespace the function writes."""
    from test_deploy import load_template
    template = load_template()
    alarm = template["Resources"]["RotationFailureAlarm"]["Properties"]
    assert template["Parameters"]["MetricsNamespace"]["Default"] == "pg_rotate"
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin, scenario, api, PG_ROTATE_METRICS_NAMESPACE="Prod/Rotation")
    try:
        run_events(api, [event(scenario, "createSecret", token)])
    finally:
        logs, _ = stop_and_read_logs(fn)
    [doc] = metrics_of(logs)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Prod/Rotation"
    assert alarm["MetricName"] in metric_names(doc)
    assert alarm["Namespace"] == {"Ref": "MetricsNamespace"}


def test_metrics_off_and_a_bad_namespace(scenario, client_bin, api):
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin, scenario, api, PG_ROTATE_METRICS_NAMESPACE="")
    try:
        [(kind, _, _)] = run_events(api, [event(scenario, "createSecret", token)])
    finally:
        logs, _ = stop_and_read_logs(fn)
    assert kind == "response" and logs and metrics_of(logs) == []
    bad = LambdaProcess(client_bin, scenario, api, PG_ROTATE_METRICS_NAMESPACE="AWS/Lambda")
    body, _ = api.wait_init_error()
    assert bad.proc.wait(timeout=30) == 1
    assert body["errorType"] == "Runtime.InitError"
    assert body["errorMessage"] == ("invalid CloudWatch namespace in PG_ROTATE_METRICS_NAMESPACE: "
                                    "A namespace has 1 to 255 printable ASCII characters, does "
                                    "not start with \":\" and is not under \"AWS/\".")


def test_collapsed_set_secret_moves_awscurrent_while_the_proof_runs(scenario, client_bin,
                                                                    api, tmp_path):
    """The one-shot's order in Lambda mode: with the proof of the new
    password held at its start (a pause point of the test build), setSecret
    has already moved AWSCURRENT to the token; the lag is the move alone,
    not a login plus the move."""
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin + "-testhooks", scenario, api,
                       PG_ROTATE_TEST_PAUSE_AT="before_proof",
                       PG_ROTATE_TEST_PAUSE_DIR=str(tmp_path))
    try:
        assert run_events(api, [event(scenario, "createSecret", token)])[0][0] == "response"
        request = api.invoke(event(scenario, "setSecret", token))
        wait_until(lambda: (tmp_path / "before_proof.paused").exists(), timeout=60,
                   what="the proof to start")
        wait_until(lambda: scenario.version_with("AWSCURRENT") == token, timeout=30,
                   what="AWSCURRENT to move while the proof is held")
        (tmp_path / "before_proof.resume").touch()
        kind, body, _ = api.wait_result(request)
    finally:
        logs, _ = stop_and_read_logs(fn)
    assert kind == "response", body
    set_line = [line for line in logs if line.get("step") == "setSecret"][0]
    assert set_line["outcome"] == "rotated" and set_line["lag_ms"] is not None


def test_collapsed_set_secret_whose_proof_fails_moves_back_and_keeps_pending(
        scenario, client_bin, api):
    """setSecret commits, moves AWSCURRENT at once and proves the login
    alongside (the one-shot's order). When the proof fails (a fault point of
    the test build), AWSCURRENT goes back to the old version, the old
    password is restored, AWSPENDING stays on the token, the invocation
    fails (so Secrets Manager retries it), and the retry finishes."""
    hooked = client_bin + "-testhooks"
    token = scenario.start_pending()
    old_version = scenario.version_with("AWSCURRENT")
    fn = LambdaProcess(hooked, scenario, api, PG_ROTATE_TEST_FAIL_AT="test_login")
    try:
        created, failed = run_events(api, [event(scenario, s, token) for s in STEPS[:2]])
    finally:
        logs, stderr = stop_and_read_logs(fn)
    assert created[0] == "response", created[1]
    kind, body, _ = failed
    assert kind == "error"
    assert body["errorType"] == "PgRotate.DatabaseError", body
    assert body["errorMessage"].startswith(
        f'setSecret for secret "{scenario.app_arn}": the new password does not log in: '), body
    assert scenario.version_with("AWSCURRENT") == old_version
    assert scenario.version_with("AWSPENDING") == token
    assert scenario.can_login(scenario.initial_password)
    set_line = [line for line in logs if line.get("step") == "setSecret"][0]
    assert set_line["outcome"] == "rolled_back" and set_line["level"] == "error"
    events = [r["event"] for r in scenario.audit() if r["version_id"] == token]
    assert events[-1] == "rolled_back", events

    fn = LambdaProcess(client_bin, scenario, api)   # Secrets Manager's retry
    try:
        results = run_events(api, [event(scenario, s, token) for s in STEPS[1:]])
    finally:
        stop_and_read_logs(fn)
    assert [k for k, _, _ in results] == ["response"] * 3, results
    assert scenario.version_with("AWSCURRENT") == token
    assert not any("AWSPENDING" in s for s in scenario.stages().values())
    assert not scenario.can_login(scenario.initial_password)
    assert scenario.audit_chain_ok()


def test_without_lag_collapsing_the_steps_run_in_order(scenario, client_bin, api):
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin, scenario, api, PG_ROTATE_COLLAPSE_LAG="false")
    try:
        results = []
        for step in STEPS:
            results.append(api.wait_result(api.invoke(event(scenario, step, token))))
            if step == "setSecret":
                # the password changed, AWSCURRENT not yet: the scheduler's lag
                assert scenario.version_with("AWSCURRENT") != token
    finally:
        logs, _ = stop_and_read_logs(fn)
    assert [k for k, _, _ in results] == ["response"] * 4
    assert scenario.version_with("AWSCURRENT") == token
    assert not any("AWSPENDING" in s for s in scenario.stages().values())


def test_bad_event_gets_an_error_and_the_loop_goes_on(scenario, client_bin, api):
    token = scenario.start_pending()
    fn = LambdaProcess(client_bin, scenario, api)
    try:
        missing = api.wait_result(api.invoke(event(scenario, "createSecret", token,
                                                   secret_id="pgr/no-such-secret")))
        bad_step = api.wait_result(api.invoke(event(scenario, "explodeSecret", token)))
        not_json = api.wait_result(api.invoke(["not", "an", "object"]))
        ok = api.wait_result(api.invoke(event(scenario, "createSecret", token)))
    finally:
        logs, _ = stop_and_read_logs(fn)
    kind, body, headers = missing
    assert kind == "error"
    assert body["errorType"] == "ResourceNotFoundException"
    assert "pgr/no-such-secret" in body["errorMessage"]
    assert headers["Lambda-Runtime-Function-Error-Type"] == "ResourceNotFoundException"
    assert bad_step[0] == "error" and bad_step[1]["errorType"] == "PgRotate.InvalidInput"
    assert "explodeSecret" in bad_step[1]["errorMessage"]
    assert not_json[0] == "error"
    assert ok[0] == "response"
    assert scenario.value("AWSPENDING")["username"] == scenario.app_role
    # each failed invocation counts as Failed, in the secret's name or "-"
    docs = metrics_of(logs)
    assert [(d["Failed"], d["Rotated"]) for d in docs] == [(1, 0), (1, 0), (1, 0), (0, 0)]
    assert [d["SecretName"] for d in docs] == ["pgr/no-such-secret", scenario.app_secret, "-",
                                               scenario.app_secret]
    assert [d["Outcome"] for d in docs] == ["failed", "failed", "failed", "rotated"]


def test_the_invocation_deadline_bounds_a_hanging_secrets_manager(scenario, client_bin):
    """Secrets Manager stops answering: the step gives up before Lambda's
    deadline (the session's deadline clamps every call's timeouts) and
    posts an error, instead of being killed by Lambda without one."""
    release = threading.Event()

    def hang(req):
        release.wait(120)
        return sm_ok({})
    api = RuntimeAPI(deadline_ms=3000).start()
    try:
        with StandIn(hang) as standin:
            fn = LambdaProcess(client_bin, scenario, api,
                               AWS_ENDPOINT_URL_SECRETS_MANAGER=standin.url)
            try:
                kind, body, _ = api.wait_result(api.invoke(event(scenario, "createSecret",
                                                                 "t-deadline")))
            finally:
                release.set()
                logs, _ = stop_and_read_logs(fn)
    finally:
        api.stop()
    assert kind == "error", body
    assert body["errorType"] == "PgRotate.NetworkError"
    assert "could not reach Secrets Manager" in body["errorMessage"]
    [line] = [entry for entry in logs if entry.get("step") == "createSecret"]
    assert line["outcome"] == "failed" and line["error_type"] == "PgRotate.NetworkError"
    assert line["error"]["message"].startswith("createSecret for secret ")


def test_log_lines_cannot_be_forged(scenario, client_bin, api):
    """A hostile SecretId with newlines stays inside one JSON log line."""
    fn = LambdaProcess(client_bin, scenario, api)
    try:
        hostile = 'x"\n{"level":"info","forged":true}\r\n'
        api.wait_result(api.invoke({"Step": "createSecret", "SecretId": hostile,
                                    "ClientRequestToken": "t"}))
    finally:
        proc = fn.proc
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    records = [json.loads(line) for line in out.splitlines()]  # each line is JSON
    assert records and not any("forged" in r for r in records)
    assert any(r.get("secret_id") == hostile for r in records)


def test_bad_configuration_is_reported_as_an_init_error(scenario, client_bin, api):
    fn = LambdaProcess(client_bin, scenario, api, PASSWORD_LENGTH="lots")
    body, headers = api.wait_init_error()
    assert fn.proc.wait(timeout=30) == 1
    assert body["errorType"] == "Runtime.InitError"
    assert "PASSWORD_LENGTH" in body["errorMessage"]


def test_not_inside_lambda_says_so(client_bin):
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    proc = subprocess.run([client_bin, "lambda"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "AWS_LAMBDA_RUNTIME_API" in proc.stdout + proc.stderr


# ----- the shipped IAM policy ----------------------------------------------

def shipped_policy():
    with open(os.path.join(REPO, "deploy", "rotation-policy.json")) as f:
        policy = json.load(f)
    # moto evaluates every Secrets Manager request against resource "*" (see
    # DESIGN.md), so the statements keep their actions with resource "*".
    moto_policy = copy.deepcopy(policy)
    for statement in moto_policy["Statement"]:
        statement["Resource"] = "*"
    return moto_policy


def secretsmanager_actions(policy):
    actions = []
    for statement in policy["Statement"]:
        listed = statement["Action"]
        for action in [listed] if isinstance(listed, str) else listed:
            if action.startswith("secretsmanager:") and action not in actions:
                actions.append(action)
    return actions


def without_action(policy, action):
    trimmed = copy.deepcopy(policy)
    for statement in trimmed["Statement"]:
        listed = statement["Action"]
        listed = [listed] if isinstance(listed, str) else listed
        statement["Action"] = [a for a in listed if a != action]
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    return trimmed


def rotate_with_policy(pg, moto, client_bin, policy):
    """Four Lambda events with exactly `policy`; returns (results, scenario)."""
    s = Scenario(pg, moto).setup()
    s.enable_auth(policy=policy)
    api = RuntimeAPI().start()
    fn = LambdaProcess(client_bin, s, api)
    try:
        token = s.start_pending()
        results = []
        for step in STEPS:
            results.append(api.wait_result(api.invoke(event(s, step, token))))
            if results[-1][0] == "error":
                break
        return results, s
    finally:
        fn.stop()
        api.stop()


def test_shipped_policy_is_enough_and_each_action_is_needed(pg, moto_clean, client_bin):
    policy = shipped_policy()
    actions = secretsmanager_actions(policy)
    assert set(actions) == {
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:GetRandomPassword"}
    results, s = rotate_with_policy(pg, moto_clean, client_bin, policy)
    try:
        assert [k for k, _, _ in results] == ["response"] * 4, results
        assert s.can_login(s.password("AWSCURRENT"))
    finally:
        s.teardown()
    for action in actions:
        moto_clean.reset()
        results, s = rotate_with_policy(pg, moto_clean, client_bin,
                                        without_action(policy, action))
        try:
            kind, body, _ = results[-1]
            assert kind == "error", f"rotation succeeded without {action}"
            assert "AccessDenied" in body["errorType"], body
            assert action.split(":")[1] in body["errorMessage"] or \
                "not authorized" in body["errorMessage"], body
            assert s.can_login(s.initial_password)
        finally:
            s.teardown()
