"""Leak scan of freed memory: no secret the client handled is left in a block
it freed.

client/pg_rotate-testhooks is linked with allocator wrappers
(test/unit/freed_memory.c) that, when PG_ROTATE_TEST_FREED_DUMP names a
file, append the bytes of every block the client's own code frees (or moves
with realloc) to that file at the moment it is freed. A rotation from the
command line, the four Lambda steps, "secret put/get", and credentials from
STS (web identity, an XML answer) and from credential_process (JSON) each
run with it; the file is then searched for every password of every version,
the admin password, the IAM secret key, the SCRAM keys the server stored,
the STS and process credentials and the web identity token. Frees inside
shared libraries (libpq, libcurl, OpenSSL, libexpat) are not seen: this is
what the client frees, which is what it can wipe. The scan is proven not
vacuous: what the client frees unwiped because it is not secret (the
secret's ARN, the access key id) is found.
"""

import json
import os
import subprocess
import sys

import pytest

from aws_standin import StandIn
from harness.lambda_runtime import RuntimeAPI
from harness.leakscan import Collector, assert_no_leaks
from harness.reliability import STEPS, LambdaProcess, lambda_event

STS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSTSFREEDKEY"
STS_TOKEN = "FwoGZXIvYXdzEXAMPLEtokenFREEDMEMORYscan"
PROCESS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzPROCESSKEY"
PROCESS_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEprocessTOKENscan"
JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmcmVlZC1tZW1vcnkifQ.c2lnbmF0dXJl"


@pytest.fixture
def hooked(client_bin):
    path = client_bin + "-testhooks"
    if not os.access(path, os.X_OK):
        pytest.fail("client/pg_rotate-testhooks is not built")
    return path


def freed_bytes(path):
    """What the client freed, as text (one byte, one character)."""
    with open(path, "rb") as f:
        return f.read().decode("latin-1")


def test_rotation_lambda_and_secret_commands_leave_no_secret_in_freed_memory(
        scenario, hooked, tmp_path):
    dump = tmp_path / "freed"
    env = scenario.env(PG_ROTATE_TEST_FREED_DUMP=str(dump))
    rotated = scenario.run(hooked, "rotate", "--secret-id", scenario.app_secret, env=env)
    assert rotated.returncode == 0, rotated.stderr

    api = RuntimeAPI().start()
    try:
        token = scenario.start_pending()
        fn = LambdaProcess(hooked, scenario, api, PG_ROTATE_TEST_FREED_DUMP=str(dump))
        try:
            for step in STEPS:
                kind, body, _ = api.wait_result(api.invoke(lambda_event(scenario, step, token)))
                assert kind == "response", body
        finally:
            fn.stop()
    finally:
        api.stop()

    value = json.dumps({"note": "put-through-the-cli", "password": "PutValueFreedScan-9x!"})
    path = tmp_path / "value.json"
    path.write_text(value)
    put = scenario.run(hooked, "secret", "put", "--secret-id", scenario.app_secret,
                       "--secret-string", f"file://{path}", "--version-stages", "CUSTOM",
                       env=env)
    assert put.returncode == 0, put.stderr
    got = scenario.run(hooked, "secret", "get", "--secret-id", scenario.app_secret,
                       "--version-stage", "CUSTOM", env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["SecretString"] == value

    collector = Collector()
    collector.harvest(scenario)
    collector.add_secret("PutValueFreedScan-9x!")
    secrets = sorted(s for s in collector.secrets if s)
    how_many = len(secrets)     # never the list: pytest would print it
    assert how_many >= 6
    freed = freed_bytes(dump)
    assert_no_leaks(secrets, {"memory freed by pg_rotate": freed})
    # not vacuous: what is freed unwiped because it is no secret is there
    assert scenario.app_arn in freed
    assert scenario.creds[0] in freed


def test_credentials_from_sts_and_credential_process_leave_none(moto_clean, hooked, tmp_path):
    answer = (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials>"
        "<AccessKeyId>ASIAFREEDSCANSTS</AccessKeyId>"
        f"<SecretAccessKey>{STS_SECRET_KEY}</SecretAccessKey>"
        f"<SessionToken>{STS_TOKEN}</SessionToken>"
        "<Expiration>2099-01-01T00:00:00Z</Expiration>"
        "</Credentials></AssumeRoleWithWebIdentityResult>"
        "</AssumeRoleWithWebIdentityResponse>")
    jwt = tmp_path / "jwt"
    jwt.write_text(JWT + "\n")
    helper = tmp_path / "helper.py"
    helper.write_text("import json\nprint(json.dumps({'Version': 1, "
                      "'AccessKeyId': 'AKIAFREEDSCANPROC', "
                      f"'SecretAccessKey': '{PROCESS_SECRET_KEY}', "
                      f"'SessionToken': '{PROCESS_TOKEN}'}}))\n")
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {helper}\n")
    dump = tmp_path / "freed"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update({"AWS_REGION": moto_clean.region, "AWS_ENDPOINT_URL": moto_clean.endpoint,
                 "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                 "NO_PROXY": "127.0.0.1,localhost", "PG_ROTATE_TEST_FREED_DUMP": str(dump)})
    with StandIn(lambda req: (200, {"Content-Type": "text/xml"}, answer)) as sts:
        env = dict(base, AWS_CONFIG_FILE="/dev/null", AWS_WEB_IDENTITY_TOKEN_FILE=str(jwt),
                   AWS_ROLE_ARN="arn:aws:iam::123456789012:role/scan",
                   AWS_ENDPOINT_URL_STS=sts.url)
        proc = random_password(hooked, env)
        assert proc.returncode == 0, proc.stderr
        assert "web identity (access key id ASIAFREEDSCANSTS)" in proc.stderr
        assert len(sts.requests) == 1
    proc = random_password(hooked, dict(base, AWS_CONFIG_FILE=str(config)))
    assert proc.returncode == 0, proc.stderr
    assert "credential_process of profile default (access key id AKIAFREEDSCANPROC)" in proc.stderr

    freed = freed_bytes(dump)
    assert_no_leaks([STS_SECRET_KEY, STS_TOKEN, PROCESS_SECRET_KEY, PROCESS_TOKEN, JWT],
                    {"memory freed by pg_rotate": freed})
    assert "ASIAFREEDSCANSTS" in freed and "AKIAFREEDSCANPROC" in freed


def random_password(binary, env):
    """One signed call (GetRandomPassword), logging where its credentials came from."""
    return subprocess.run([binary, "secret", "random-password", "--verbose"], env=env,
                          capture_output=True, text=True, timeout=60)
