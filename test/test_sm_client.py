"""The Secrets Manager client layer of pg_rotate (issue 4), end to end.

Against moto_server with signature and IAM checks on: every operation for an
allowed IAM user, AccessDenied for a denied one, a clear signature error for
a wrong secret key, session tokens. Round trips with AWS's own CLI. Retries,
backoff bounds and clock skew against loopback stand-ins. No secret value,
secret key or session token in any log output.
"""

import json
import os
import subprocess
import time
import uuid

import pytest

from harness.leakscan import assert_no_leaks
from aws_standin import StandIn, sm_error, sm_ok

ALL_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
               "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
               "secretsmanager:GetRandomPassword"]
# moto evaluates Secrets Manager requests against resource "*" (DESIGN.md)
ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": ALL_ACTIONS, "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:ListSecrets"],
                           "Resource": "*"}]}
SECRET_VALUE = json.dumps({"engine": "postgres", "username": "app",
                           "password": "s3cr3t-\u00fc-\"quoted\"-/slash\\back\nnewline"})


def run(client_bin, args, env, input=None, timeout=60):
    return subprocess.run([client_bin] + args, env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def plain_env(extra=None):
    """An environment without any AWS settings or files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
                "NO_PROXY": "127.0.0.1,localhost"})
    env.update(extra or {})
    return env


@pytest.fixture
def secret(moto_clean):
    name = "it/" + uuid.uuid4().hex[:10]
    moto_clean.boto3_client().create_secret(Name=name, SecretString=SECRET_VALUE)
    return name


def write_value(tmp_path, value):
    path = tmp_path / "value.json"
    path.write_text(value)
    return f"file://{path}"


def all_operations(client_bin, env, secret_id, tmp_path):
    """Run every secret subcommand once; return the CompletedProcess list."""
    token = str(uuid.uuid4())
    return [
        run(client_bin, ["secret", "get", "--secret-id", secret_id,
                         "--version-stage", "AWSCURRENT"], env),
        run(client_bin, ["secret", "describe", "--secret-id", secret_id], env),
        run(client_bin, ["secret", "put", "--secret-id", secret_id,
                         "--secret-string", write_value(tmp_path, '{"v":2}'),
                         "--client-request-token", token, "--version-stages", "AWSPENDING"], env),
        run(client_bin, ["secret", "stage", "--secret-id", secret_id, "--version-stage",
                         "AWSPENDING", "--remove-from-version-id", token], env),
        run(client_bin, ["secret", "random-password", "--password-length", "24"], env),
    ]


def test_every_operation_succeeds_for_an_allowed_user_with_auth_on(moto_clean, secret, client_bin,
                                                                    tmp_path):
    key, sk = moto_clean.create_iam_user("allowed-" + uuid.uuid4().hex[:6], ALLOW_ALL)
    moto_clean.enable_auth()
    env = moto_clean.aws_env(key, sk)
    for proc in all_operations(client_bin, env, secret, tmp_path):
        assert proc.returncode == 0, proc.stderr
        json.loads(proc.stdout)
    moto_clean.disable_auth()
    sm = moto_clean.boto3_client()
    stages = sm.describe_secret(SecretId=secret)["VersionIdsToStages"]
    assert sorted(sum(stages.values(), [])) == ["AWSCURRENT"]


def test_every_operation_fails_with_access_denied_for_a_denied_user(moto_clean, secret,
                                                                    client_bin, tmp_path):
    key, sk = moto_clean.create_iam_user("denied-" + uuid.uuid4().hex[:6], DENY_ALL)
    moto_clean.enable_auth()
    env = moto_clean.aws_env(key, sk)
    for proc in all_operations(client_bin, env, secret, tmp_path):
        assert proc.returncode == 1, proc.stderr
        assert "AccessDenied" in proc.stderr
        assert "hint: Grant the caller's IAM identity" in proc.stderr
        assert proc.stdout == ""


def test_wrong_secret_key_gives_a_signature_error(moto_clean, secret, client_bin):
    key, sk = moto_clean.create_iam_user("wrongkey-" + uuid.uuid4().hex[:6], ALLOW_ALL)
    moto_clean.enable_auth()
    env = moto_clean.aws_env(key, sk[:-4] + "AAAA")
    proc = run(client_bin, ["secret", "get", "--secret-id", secret,
                            "--version-stage", "AWSCURRENT"], env)
    assert proc.returncode == 1
    assert "could not get the value of secret" in proc.stderr
    assert "Signature" in proc.stderr
    assert "check that the secret access key belongs to the access key id" in proc.stderr
    # one attempt: a signature error is not retried
    assert "after 1 attempt" in proc.stderr


def test_session_token_is_signed_and_accepted(moto_clean, secret, client_bin):
    """Temporary credentials of an assumed role: boto3 is the reference."""
    iam = moto_clean.boto3_client("iam")
    role = "rot-" + uuid.uuid4().hex[:6]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    creds = moto_clean.boto3_client("sts").assume_role(RoleArn=arn,
                                                       RoleSessionName="test")["Credentials"]
    import boto3
    reference = boto3.client("secretsmanager", region_name=moto_clean.region,
                             endpoint_url=moto_clean.endpoint,
                             aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"])
    moto_clean.enable_auth()
    env = moto_clean.aws_env(creds["AccessKeyId"], creds["SecretAccessKey"],
                             session_token=creds["SessionToken"])
    reference.describe_secret(SecretId=secret)
    proc = run(client_bin, ["secret", "get", "--secret-id", secret,
                            "--version-stage", "AWSCURRENT", "--verbose"], env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["SecretString"] == SECRET_VALUE
    # without the token the same keys are refused
    env.pop("AWS_SESSION_TOKEN")
    refused = run(client_bin, ["secret", "describe", "--secret-id", secret], env)
    assert refused.returncode == 1, refused.stderr
    assert f'could not describe secret "{secret}"' in refused.stderr, refused.stderr
    # the verbose log names the headers but never the token or the keys
    assert "X-Amz-Security-Token: [redacted]" in proc.stderr
    assert "Authorization: [redacted]" in proc.stderr
    assert_no_leaks([creds["SessionToken"], creds["SecretAccessKey"], "s3cr3t"],
                    {"stderr": proc.stderr})


def test_client_writes_and_aws_cli_reads_back_identically(moto_clean, secret, client_bin,
                                                          tmp_path):
    value = json.dumps({"password": "p\u00e4ss \"w\u00f6rd\" \\ / \t end", "port": 5432})
    proc = run(client_bin, ["secret", "put", "--secret-id", secret, "--secret-string", "-",
                            "--version-stages", "AWSCURRENT"], moto_clean.aws_env(),
               input=value)
    assert proc.returncode == 0, proc.stderr
    version = json.loads(proc.stdout)["VersionId"]
    out = moto_clean.aws_cli(["secretsmanager", "get-secret-value", "--secret-id", secret,
                              "--version-id", version])
    assert json.loads(out.stdout)["SecretString"] == value


def test_aws_cli_writes_and_client_reads_back_identically(moto_clean, secret, client_bin,
                                                          tmp_path):
    value = "{\"k\": \"\u2603 snow, \\\"q\\\" and newline\\n\"}"
    path = tmp_path / "v"
    path.write_text(value)
    out = moto_clean.aws_cli(["secretsmanager", "put-secret-value", "--secret-id", secret,
                              "--secret-string", f"file://{path}"])
    version = json.loads(out.stdout)["VersionId"]
    proc = run(client_bin, ["secret", "get", "--secret-id", secret, "--version-id", version],
               moto_clean.aws_env())
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    ref = json.loads(moto_clean.aws_cli(["secretsmanager", "get-secret-value", "--secret-id",
                                         secret, "--version-id", version]).stdout)
    assert got["SecretString"] == ref["SecretString"] == value
    assert got["VersionId"] == ref["VersionId"] and got["ARN"] == ref["ARN"]
    assert got["VersionStages"] == ref["VersionStages"]


def test_put_passes_token_and_stages_through(moto_clean, secret, client_bin, tmp_path):
    token = str(uuid.uuid4())
    args = ["secret", "put", "--secret-id", secret, "--secret-string",
            write_value(tmp_path, "x"), "--client-request-token", token,
            "--version-stages", "AWSPENDING", "CUSTOM"]
    proc = run(client_bin, args, moto_clean.aws_env())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["VersionId"] == token
    stages = moto_clean.boto3_client().describe_secret(SecretId=secret)["VersionIdsToStages"]
    assert sorted(stages[token]) == ["AWSPENDING", "CUSTOM"]
    # the same token again is idempotent
    again = run(client_bin, args, moto_clean.aws_env())
    assert again.returncode == 0, again.stderr


def test_random_password_options_reach_the_service(moto_clean, client_bin):
    proc = run(client_bin, ["secret", "random-password", "--password-length", "40",
                            "--exclude-punctuation", "--exclude-uppercase",
                            "--exclude-characters", "abc", "--require-each-included-type"],
               moto_clean.aws_env())
    assert proc.returncode == 0, proc.stderr
    pw = json.loads(proc.stdout)["RandomPassword"]
    assert len(pw) == 40
    assert pw.isalnum() and pw == pw.lower() and not set("abc") & set(pw)


def test_usage_errors_exit_2_without_network(client_bin):
    env = plain_env()
    proc = run(client_bin, ["secret", "get"], env)
    assert proc.returncode == 2 and "option --secret-id is required" in proc.stderr
    proc = run(client_bin, ["secret", "frobnicate"], env)
    assert proc.returncode == 2 and "unknown secret command" in proc.stderr
    proc = run(client_bin, ["secret", "get", "--secret-id", "x", "--bogus"], env)
    assert proc.returncode == 2 and "unknown option" in proc.stderr
    proc = run(client_bin, ["secret", "get", "--help"], env)
    assert proc.returncode == 0 and "--version-stage" in proc.stdout


def test_no_region_is_a_clear_error(client_bin):
    env = plain_env({"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"})
    del env["AWS_REGION"]
    proc = run(client_bin, ["secret", "describe", "--secret-id", "x"], env)
    assert proc.returncode == 2
    assert "no AWS region is configured" in proc.stderr


# ---- retries, backoff, clock skew, malformed responses (loopback stand-ins) ----

def failing_then_ok(failures, make_error):
    state = {"n": 0}

    def handler(req):
        state["n"] += 1
        if state["n"] <= failures:
            return make_error()
        return sm_ok({"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x", "Name": "x",
                      "VersionIdsToStages": {}})
    return handler


def sm_env(standin, extra=None):
    return plain_env({"AWS_ACCESS_KEY_ID": "AKIDSTANDIN", "AWS_SECRET_ACCESS_KEY": "SKSTANDIN",
                      "AWS_ENDPOINT_URL": standin.url, **(extra or {})})


BASE_MS = 200


@pytest.mark.parametrize("error", [
    lambda: sm_error(500, "InternalServiceError"),
    lambda: sm_error(503, "ServiceUnavailable"),
    lambda: sm_error(400, "ThrottlingException", "Rate exceeded"),
    lambda: (502, {}, "<html>bad gateway</html>"),
], ids=["500", "503", "throttling", "502-html"])
def test_retries_then_succeeds_within_backoff_bounds(client_bin, error):
    with StandIn(failing_then_ok(2, error)) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"],
                   sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": str(BASE_MS)}))
        assert proc.returncode == 0, proc.stderr
        assert len(s.requests) == 3
        gaps = [b.time - a.time for a, b in zip(s.requests, s.requests[1:])]
    # full jitter: retry i waits at most base * 2^(i-1) (plus request time)
    for i, gap in enumerate(gaps, start=1):
        assert gap <= BASE_MS * 2 ** (i - 1) / 1000 + 0.5, gaps


def test_gives_up_after_max_attempts_with_a_clear_error(client_bin):
    with StandIn(failing_then_ok(100, lambda: sm_error(500, "InternalServiceError"))) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"],
                   sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": "10"}))
        assert proc.returncode == 1
        assert len(s.requests) == 3
        assert "after 3 attempts" in proc.stderr
    with StandIn(failing_then_ok(100, lambda: sm_error(500, "InternalServiceError"))) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"],
                   sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": "10", "AWS_MAX_ATTEMPTS": "5"}))
        assert proc.returncode == 1 and len(s.requests) == 5
        assert "InternalServiceError" in proc.stderr and "after 5 attempts" in proc.stderr
    with StandIn(failing_then_ok(100, lambda: sm_error(500, "InternalServiceError"))) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x", "--max-attempts", "2"],
                   sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": "10"}))
        assert proc.returncode == 1 and len(s.requests) == 2
        assert "after 2 attempts" in proc.stderr


@pytest.mark.parametrize("status,code", [(400, "ResourceNotFoundException"),
                                         (400, "InvalidRequestException"),
                                         (403, "AccessDeniedException"),
                                         (400, "ValidationException")])
def test_non_throttling_4xx_is_not_retried(client_bin, status, code):
    with StandIn(failing_then_ok(100, lambda: sm_error(status, code))) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"],
                   sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": "10"}))
        assert proc.returncode == 1
        assert len(s.requests) == 1
        assert code in proc.stderr


def test_default_backoff_base_is_one_second(client_bin):
    """One retry with the real 1 s base: the wait is within [0, 1 s] (+ slack)."""
    with StandIn(failing_then_ok(1, lambda: sm_error(503, "ServiceUnavailable"))) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"], sm_env(s))
        assert proc.returncode == 0, proc.stderr
        assert len(s.requests) == 2
        assert s.requests[1].time - s.requests[0].time <= 1.5


def test_connection_refused_is_retried_then_reported(client_bin):
    from harness.util import free_port
    port = free_port()
    proc = run(client_bin, ["secret", "describe", "--secret-id", "x", "--verbose"],
               plain_env({"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
                          "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                          "PG_ROTATE_TEST_RETRY_BASE_MS": "10"}))
    assert proc.returncode == 1
    assert "could not reach Secrets Manager" in proc.stderr
    assert "after 3 attempts" in proc.stderr
    assert proc.stderr.count("> POST") == 3


def test_clock_skew_is_corrected_with_one_resigned_retry(client_bin):
    """The stand-in's clock is an hour ahead; it rejects requests signed more
    than 5 minutes off its clock, like AWS, and sends its Date header."""
    from email.utils import formatdate
    skew = 3600

    def handler(req):
        server_now = time.time() + skew
        signed = time.mktime(time.strptime(req.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) \
            - time.timezone
        headers = {"Date": formatdate(server_now, usegmt=True)}
        if abs(signed - server_now) > 300:
            status, h, body = sm_error(400, "InvalidSignatureException",
                                       "Signature expired: is now earlier than ...")
            headers.update(h)
            return status, headers, body
        return 200, headers, {"Name": "x", "ARN": "arn:x"}

    with StandIn(handler) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"], sm_env(s))
        assert proc.returncode == 0, proc.stderr
        assert len(s.requests) == 2
        assert "local clock differs" in proc.stderr
        assert s.requests[0].headers["Authorization"] != s.requests[1].headers["Authorization"]


def test_signature_error_without_skew_is_not_retried(client_bin):
    with StandIn(lambda req: sm_error(400, "InvalidSignatureException", "bad signature")) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"], sm_env(s))
        assert proc.returncode == 1 and len(s.requests) == 1
        assert "InvalidSignatureException: bad signature" in proc.stderr
        assert "after 1 attempt." in proc.stderr


def test_oversize_response_is_a_clear_error(client_bin):
    big = {"Name": "x", "Padding": "A" * (2 * 1024 * 1024)}
    with StandIn(lambda req: sm_ok(big)) as s:
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x"], sm_env(s))
        assert proc.returncode == 1
        assert "larger than 1048576 bytes" in proc.stderr


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "", "{\"a\": 1} trailing",
                                  "\u0000\u0001"])
def test_malformed_response_is_a_clear_error(client_bin, body):
    with StandIn(lambda req: (200, {}, body)) as s:
        proc = run(client_bin, ["secret", "get", "--secret-id", "x", "--version-stage",
                                "AWSCURRENT"], sm_env(s))
        if body == "":
            # an empty 2xx body is an empty object, printed as the API's answer
            assert proc.returncode == 0, proc.stderr
            assert json.loads(proc.stdout) == {}
        else:
            assert proc.returncode == 1
            assert "not a JSON object" in proc.stderr


def test_oversize_secret_value_is_refused_before_sending(client_bin, tmp_path):
    with StandIn(lambda req: sm_ok()) as s:
        path = tmp_path / "big"
        path.write_text("x" * 70000)
        proc = run(client_bin, ["secret", "put", "--secret-id", "x", "--secret-string",
                                f"file://{path}"], sm_env(s))
        assert proc.returncode == 2
        assert "65536-byte limit" in proc.stderr
        assert s.requests == []


def test_unreadable_secret_value_is_refused_not_sent_short(client_bin, tmp_path):
    """A read error is not the end of the file: a directory opens, then every
    read fails (EISDIR); the value must never be sent short or empty."""
    with StandIn(lambda req: sm_ok()) as s:
        proc = run(client_bin, ["secret", "put", "--secret-id", "x", "--secret-string",
                                f"file://{tmp_path}"], sm_env(s))
        assert proc.returncode == 1, proc.stderr
        assert f'could not read secret value file "{tmp_path}": Is a directory' in proc.stderr
        missing = run(client_bin, ["secret", "put", "--secret-id", "x", "--secret-string",
                                   f"file://{tmp_path}/absent"], sm_env(s))
        assert missing.returncode == 2, missing.stderr
        assert f'secret value file "{tmp_path}/absent" does not exist' in missing.stderr
        binary = tmp_path / "binary"
        binary.write_bytes(b"\xff\xfe not text")
        proc = run(client_bin, ["secret", "put", "--secret-id", "x", "--secret-string",
                                f"file://{binary}"], sm_env(s))
        assert proc.returncode == 2, proc.stderr
        assert "the secret value is not UTF-8 text" in proc.stderr
        assert s.requests == []


def test_request_shape_is_aws_json_1_1(client_bin):
    with StandIn(lambda req: sm_ok({"Name": "x", "ARN": "a", "VersionId": "v"})) as s:
        proc = run(client_bin, ["secret", "stage", "--secret-id", "x", "--version-stage",
                                "AWSCURRENT", "--move-to-version-id", "new",
                                "--remove-from-version-id", "old"], sm_env(s))
        assert proc.returncode == 0, proc.stderr
        req = s.requests[0]
    assert req.method == "POST" and req.path == "/"
    assert req.headers["X-Amz-Target"] == "secretsmanager.UpdateSecretVersionStage"
    assert req.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert req.json() == {"SecretId": "x", "VersionStage": "AWSCURRENT",
                          "MoveToVersionId": "new", "RemoveFromVersionId": "old"}
    assert "Credential=AKIDSTANDIN/" in req.headers["Authorization"]
    assert "/us-east-1/secretsmanager/aws4_request" in req.headers["Authorization"]


def test_plain_http_is_refused_unless_given_explicitly(client_bin, tmp_path):
    # an https endpoint to a plain-http server: TLS fails, never downgraded
    with StandIn(lambda req: sm_ok()) as s:
        https = s.url.replace("http://", "https://")
        proc = run(client_bin, ["secret", "describe", "--secret-id", "x", "--endpoint-url",
                                https], sm_env(s, {"PG_ROTATE_TEST_RETRY_BASE_MS": "1"}))
        assert proc.returncode == 1
        assert "could not reach Secrets Manager" in proc.stderr
        assert s.requests == []
    proc = run(client_bin, ["secret", "describe", "--secret-id", "x", "--endpoint-url",
                            "ftp://127.0.0.1/"], plain_env({"AWS_ACCESS_KEY_ID": "A",
                                                            "AWS_SECRET_ACCESS_KEY": "S"}))
    assert proc.returncode == 2 and "unsupported URL scheme" in proc.stderr


def test_secret_values_never_reach_stderr(moto_clean, secret, client_bin):
    proc = run(client_bin, ["secret", "get", "--secret-id", secret, "--version-stage",
                            "AWSCURRENT", "--verbose"], moto_clean.aws_env())
    assert proc.returncode == 0
    assert "s3cr3t" not in proc.stderr
    assert "s3cr3t" in proc.stdout
