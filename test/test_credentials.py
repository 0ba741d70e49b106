"""The credential provider chain and configuration resolution of pg_rotate,
each source against a loopback stand-in (IMDS, container endpoint) or moto
(STS web identity), verified through a real Secrets Manager call to moto."""

import json
import os
import subprocess
import sys
import uuid

from aws_standin import StandIn


def base_env(moto, extra=None):
    """No credentials at all, moto as the endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_REGION": moto.region, "AWS_ENDPOINT_URL": moto.endpoint,
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1,localhost"})
    env.update(extra or {})
    return env


def random_password(client_bin, env, *args):
    return subprocess.run([client_bin, "secret", "random-password", "--verbose"] + list(args),
                          env=env, capture_output=True, text=True, timeout=60)


def used(proc):
    """The 'using AWS credentials from ...' line."""
    for line in proc.stderr.splitlines():
        if "using AWS credentials from" in line:
            return line.split("using AWS credentials from ", 1)[1]
    raise AssertionError(proc.stderr)


def test_environment_credentials(moto, client_bin):
    proc = random_password(client_bin, base_env(moto, {"AWS_ACCESS_KEY_ID": "AKIAENV",
                                                       "AWS_SECRET_ACCESS_KEY": "s"}))
    assert proc.returncode == 0, proc.stderr
    assert used(proc) == "environment (access key id AKIAENV)"


def test_partial_environment_credentials_are_an_error(moto, client_bin):
    proc = random_password(client_bin, base_env(moto, {"AWS_ACCESS_KEY_ID": "AKIAENV"}))
    assert proc.returncode == 2 and "partial credentials" in proc.stderr


def test_shared_credentials_file_then_config_file(moto, client_bin, tmp_path):
    creds = tmp_path / "credentials"
    config = tmp_path / "config"
    creds.write_text("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n"
                     "[other]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=s\n")
    config.write_text("# comment\n[profile cfgonly]\naws_access_key_id = AKIACONFIG\n"
                      "aws_secret_access_key = s\nregion = eu-west-3\n")
    env = base_env(moto, {"AWS_SHARED_CREDENTIALS_FILE": str(creds),
                          "AWS_CONFIG_FILE": str(config)})
    assert used(random_password(client_bin, env)) == \
        "shared credentials file, profile default (access key id AKIAFILE)"
    assert used(random_password(client_bin, dict(env, AWS_PROFILE="other"))).endswith(
        "(access key id AKIAOTHER)")
    proc = random_password(client_bin, env, "--profile", "cfgonly")
    assert used(proc) == "config file, profile cfgonly (access key id AKIACONFIG)"
    # --profile beats environment credentials (AWS CLI behaviour); AWS_PROFILE does not
    env2 = dict(env, AWS_ACCESS_KEY_ID="AKIAENV", AWS_SECRET_ACCESS_KEY="s")
    assert "AKIAOTHER" in used(random_password(client_bin, env2, "--profile", "other"))
    assert "AKIAENV" in used(random_password(client_bin, dict(env2, AWS_PROFILE="other")))
    proc = random_password(client_bin, env, "--profile", "missing")
    assert proc.returncode == 2 and 'the config profile "missing" could not be found' in proc.stderr


def test_region_and_endpoint_resolution_order(moto, client_bin, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-south-1\nservices = local\n"
                      f"[services local]\nsecretsmanager =\n  endpoint_url = {moto.endpoint}\n")
    env = base_env(moto, {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s",
                          "AWS_CONFIG_FILE": str(config)})
    for k in ("AWS_REGION", "AWS_ENDPOINT_URL"):
        env.pop(k)

    def line(proc):
        return [l for l in proc.stderr.splitlines() if "Secrets Manager endpoint" in l][0]
    assert "region ap-south-1 (from profile)" in line(random_password(client_bin, env))
    assert "(from the profile's services section)" in line(random_password(client_bin, env))
    env["AWS_DEFAULT_REGION"] = "eu-west-1"
    assert "region eu-west-1 (from AWS_DEFAULT_REGION)" in line(random_password(client_bin, env))
    env["AWS_REGION"] = "eu-west-2"
    assert "region eu-west-2 (from AWS_REGION)" in line(random_password(client_bin, env))
    assert "region us-west-1 (from --region)" in line(
        random_password(client_bin, env, "--region", "us-west-1"))
    env["AWS_ENDPOINT_URL"] = moto.endpoint
    assert "(from AWS_ENDPOINT_URL)" in line(random_password(client_bin, env))
    env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = moto.endpoint
    assert "(from AWS_ENDPOINT_URL_<SERVICE>)" in line(random_password(client_bin, env))
    assert "(from --endpoint-url)" in line(
        random_password(client_bin, env, "--endpoint-url", moto.endpoint))
    # the rotation templates' variable, when nothing else names one
    env2 = base_env(moto, {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "s",
                           "SECRETS_MANAGER_ENDPOINT": moto.endpoint})
    env2.pop("AWS_ENDPOINT_URL")
    assert "(from SECRETS_MANAGER_ENDPOINT)" in line(random_password(client_bin, env2))


def test_credential_process(moto, client_bin, tmp_path):
    script = tmp_path / "creds helper.py"
    script.write_text("import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKIAPROC',"
                      " 'SecretAccessKey': 's', 'SessionToken': 'tok',"
                      " 'Expiration': '2099-01-01T00:00:00Z'}))\n")
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} \"{script}\"\n")
    proc = random_password(client_bin, base_env(moto, {"AWS_CONFIG_FILE": str(config)}))
    assert proc.returncode == 0, proc.stderr
    assert used(proc) == "credential_process of profile default (access key id AKIAPROC)"
    config.write_text("[default]\ncredential_process = false\n")
    proc = random_password(client_bin, base_env(moto, {"AWS_CONFIG_FILE": str(config)}))
    assert proc.returncode == 1 and "credential_process of profile \"default\" failed" in proc.stderr


CONTAINER_CREDS = {"AccessKeyId": "AKIACONTAINER", "SecretAccessKey": "s", "Token": "t",
                   "Expiration": "2099-01-01T00:00:00Z"}


def test_container_credentials_full_uri_with_token_file(moto, client_bin, tmp_path):
    token = tmp_path / "token"
    token.write_text("pod-identity-token\n")

    def handler(req):
        if req.headers.get("Authorization") != "pod-identity-token":
            return 401, {}, {"code": "Unauthorized"}
        return 200, {}, CONTAINER_CREDS
    with StandIn(handler) as s:
        proc = random_password(client_bin, base_env(moto, {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{s.url}/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}))
        assert proc.returncode == 0, proc.stderr
        assert used(proc) == "container credentials (access key id AKIACONTAINER)"
        assert s.requests[0].path == "/creds"
        assert "pod-identity-token" not in proc.stderr
        # the token from the variable, when there is no file
        proc = random_password(client_bin, base_env(moto, {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://localhost:{s.port}/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-identity-token"}))
        assert proc.returncode == 0, proc.stderr


def test_container_full_uri_must_be_loopback_or_https(moto, client_bin):
    proc = random_password(client_bin, base_env(moto, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.10/creds"}))
    assert proc.returncode == 2
    assert "is not allowed" in proc.stderr


def test_imds_v2(moto, client_bin):
    def handler(req):
        if req.method == "PUT" and req.path == "/latest/api/token":
            assert req.headers["X-aws-ec2-metadata-token-ttl-seconds"] == "21600"
            return 200, {}, "imds-session-token"
        if req.headers.get("X-aws-ec2-metadata-token") != "imds-session-token":
            return 401, {}, ""
        if req.path == "/latest/meta-data/iam/security-credentials/":
            return 200, {}, "my-role"
        if req.path == "/latest/meta-data/iam/security-credentials/my-role":
            return 200, {}, dict(CONTAINER_CREDS, Code="Success", AccessKeyId="AKIAIMDS")
        return 404, {}, ""
    with StandIn(handler) as s:
        env = base_env(moto, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": s.url})
        env.pop("AWS_EC2_METADATA_DISABLED")
        proc = random_password(client_bin, env)
        assert proc.returncode == 0, proc.stderr
        assert used(proc) == "EC2 instance metadata (access key id AKIAIMDS)"
        assert [r.method for r in s.requests] == ["PUT", "GET", "GET"]
        assert "imds-session-token" not in proc.stderr
        # disabled: IMDS is not asked, and no credentials are found
        n = len(s.requests)
        proc = random_password(client_bin, dict(env, AWS_EC2_METADATA_DISABLED="true"))
        assert proc.returncode == 2 and "could not find AWS credentials" in proc.stderr
        assert len(s.requests) == n


def test_web_identity_through_sts(moto, client_bin, tmp_path):
    iam = moto.boto3_client("iam")
    role = "wi-" + uuid.uuid4().hex[:6]
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    token = tmp_path / "jwt"
    token.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.\n")
    proc = random_password(client_bin, base_env(moto, {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": arn,
        "AWS_ROLE_SESSION_NAME": "pgr-test", "AWS_ENDPOINT_URL_STS": moto.endpoint}))
    assert proc.returncode == 0, proc.stderr
    assert used(proc).startswith("web identity (access key id ")
    proc = random_password(client_bin, base_env(moto, {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "missing"), "AWS_ROLE_ARN": arn}))
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_no_credentials_is_a_clear_error(moto, client_bin):
    proc = random_password(client_bin, base_env(moto))
    assert proc.returncode == 2
    assert "could not find AWS credentials" in proc.stderr
    assert "hint:" in proc.stderr


def test_parallel_workers_share_one_credential_resolution(moto, client_bin, tmp_path):
    """The session resolves credentials once per process: eight workers, one
    run of credential_process (each used to run the chain on its own)."""
    calls = tmp_path / "calls"
    script = tmp_path / "helper.py"
    script.write_text("import json\n"
                      f"open({str(calls)!r}, 'a').write('x')\n"
                      "print(json.dumps({'Version': 1, 'AccessKeyId': 'AKIAONCE', "
                      "'SecretAccessKey': 's'}))\n")
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
    args = [client_bin, "rotate", "--parallel", "8", "--json"]
    for i in range(8):
        args += ["--secret-id", f"pgr/absent-{uuid.uuid4().hex[:8]}-{i}"]
    proc = subprocess.run(args, env=base_env(moto, {"AWS_CONFIG_FILE": str(config)}),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 8
    assert {r["error"]["code"] for r in results} == {"ResourceNotFoundException"}
    assert calls.read_text() == "x"


# ----- AssumeRole profiles (role_arn with source_profile / credential_source) ----

def assume_role_setup(fleet, tmp_path, trust_external_id=None, **profile):
    """A role with the client's Secrets Manager actions, trusting the
    source user (with trust_external_id as sts:ExternalId, when given); the
    source user may only call sts:AssumeRole; a config file whose profile
    "rot" assumes the role from profile "src" (settings in profile). Auth
    on afterwards. moto checks the trust policy and its condition, and
    evaluates the user's statements against resource "*" (as it does
    Secrets Manager's, DESIGN.md): that statement says "*"."""
    from harness.scenario import SM_POLICY
    s = fleet.base
    iam = s.moto.boto3_client("iam")
    role = f"rotation-{s.suffix}"
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": f"arn:aws:iam::123456789012:user/client-{s.suffix}"}}
    if trust_external_id:
        trust["Condition"] = {"StringEquals": {"sts:ExternalId": trust_external_id}}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [trust]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="rotate", PolicyDocument=json.dumps(SM_POLICY))
    key, secret = s.enable_auth(policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    settings = {"role_arn": role_arn, "source_profile": "src", **profile}
    config = tmp_path / "config"
    config.write_text(f"[profile src]\naws_access_key_id = {key}\n"
                      f"aws_secret_access_key = {secret}\n[profile rot]\n" +
                      "".join(f"{k} = {v}\n" for k, v in settings.items()))
    env = base_env(s.moto, {"AWS_CONFIG_FILE": str(config),
                            "PGSSLROOTCERT": s.pg.ca_cert})
    return role_arn, env


def test_assume_role_profile_rotates_and_is_assumed_once(pg, moto_clean, client_bin, tmp_path):
    """moto checks the IAM policies and the role's trust policy (its
    sts:ExternalId condition too): the source user may only call
    sts:AssumeRole, so the rotations ran with the role's rights; three
    workers signed with one AssumeRole's credentials."""
    from harness.fleet import Fleet
    fleet = Fleet(pg, moto_clean, 3).setup()
    try:
        _, env = assume_role_setup(fleet, tmp_path, trust_external_id="ext-123",
                                   role_session_name="pgr-test", external_id="ext-123",
                                   duration_seconds=900)
        args = [client_bin, "rotate", "--profile", "rot", "--parallel", "3", "--json",
                "--verbose"]
        for secret_id in fleet.secret_ids:
            args += ["--secret-id", secret_id]
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        assert {r["outcome"] for r in results} == {"rotated"} and len(results) == 3
        assert [used(proc)[:40]] == ["assumed role, profile rot (access key id"]
        assert proc.stderr.count("using AWS credentials from") == 1
        for i in range(3):
            member = fleet.member(i)
            assert member.can_login(member.password("AWSCURRENT"))
        # the source user's own keys are refused by Secrets Manager
        direct = subprocess.run([client_bin, "rotate", "--profile", "src", "--secret-id",
                                 fleet.secret_ids[0]], env=env, capture_output=True,
                                text=True, timeout=60)
        assert direct.returncode == 1 and "AccessDenied" in direct.stderr, direct.stderr
    finally:
        fleet.teardown()


def test_assume_role_denied_names_the_source(pg, moto_clean, client_bin, tmp_path):
    from harness.fleet import Fleet
    fleet = Fleet(pg, moto_clean, 1).setup()
    try:
        # the trust policy wants another external id
        role_arn, env = assume_role_setup(fleet, tmp_path, trust_external_id="ext-right",
                                          external_id="ext-wrong")
        proc = subprocess.run([client_bin, "rotate", "--profile", "rot", "--secret-id",
                               fleet.secret_ids[0]], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert f'could not assume role "{role_arn}": AccessDenied' in proc.stderr
        assert "source_profile src must be allowed sts:AssumeRole on the role, and its " \
            "trust policy must allow them with this external_id." in proc.stderr
    finally:
        fleet.teardown()


def assume_role_config(tmp_path, body):
    config = tmp_path / "config"
    config.write_text(body)
    return {"AWS_CONFIG_FILE": str(config)}


def test_assume_role_profile_errors(moto, client_bin, tmp_path):
    """What cannot work says so, without asking STS."""
    role = "role_arn = arn:aws:iam::123456789012:role/r\n"
    cases = [
        (f"[profile rot]\n{role}source_profile = src\ncredential_source = Environment\n",
         'profile "rot" has both source_profile and credential_source'),
        (f"[profile rot]\n{role}", 'profile "rot" has a role_arn but no source_profile'),
        (f"[profile rot]\n{role}source_profile = rot2\n[profile rot2]\n{role}"
         "source_profile = rot\n", "is reached through more than 8 source profiles"),
        (f"[profile rot]\n{role}source_profile = empty\n[profile empty]\nregion = x\n",
         'source_profile "empty" of profile "rot" has no credentials'),
        (f"[profile rot]\n{role}credential_source = Ec2\n",
         'unknown credential_source "Ec2"'),
        (f"[profile rot]\n{role}credential_source = Environment\n",
         "credential_source Environment of profile \"rot\" has no credentials"),
        (f"[profile rot]\n{role}credential_source = Environment\nduration_seconds = 60\n",
         'duration_seconds "60" of profile "rot" is out of range'),
        (f"[profile rot]\n{role}credential_source = Environment\n"
         "mfa_serial = arn:aws:iam::123456789012:mfa/me\n",
         'profile "rot" needs a code from MFA device "arn:aws:iam::123456789012:mfa/me", '
         "and there is no terminal to ask for it"),
    ]
    for body, message in cases:
        proc = random_password(client_bin, base_env(moto, assume_role_config(tmp_path, body)),
                               "--profile", "rot")
        assert proc.returncode == 2, (body, proc.stderr)
        assert message in proc.stderr, (body, proc.stderr)


def test_assume_role_from_the_environment_with_an_mfa_code_typed_in(moto, client_bin,
                                                                    tmp_path):
    """credential_source = Environment signs the AssumeRole call; the MFA
    code is read from the terminal and sent with the device's serial."""
    iam = moto.boto3_client("iam")
    role = "mfa-" + uuid.uuid4().hex[:6]
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    calls = []

    def sts(req):
        calls.append(req.body.decode())
        return 200, {"Content-Type": "text/xml"}, (
            "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
            "<AccessKeyId>ASIAMFA</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
            "<SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
            "</Credentials></AssumeRoleResult></AssumeRoleResponse>")
    env = base_env(moto, assume_role_config(
        tmp_path, f"[profile rot]\nrole_arn = {arn}\ncredential_source = Environment\n"
                  "mfa_serial = arn:aws:iam::123456789012:mfa/me\n"))
    with StandIn(sts) as s:
        env.update({"AWS_ACCESS_KEY_ID": "AKIASOURCE", "AWS_SECRET_ACCESS_KEY": "s",
                    "AWS_ENDPOINT_URL_STS": s.url})
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen([client_bin, "secret", "random-password", "--verbose",
                                     "--profile", "rot"], env=env, stdin=slave,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            os.write(master, b"246810\n")
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(master)
            os.close(slave)
    assert proc.returncode == 0, err
    assert "Enter MFA code for arn:aws:iam::123456789012:mfa/me: " in err
    assert "assumed role, profile rot (access key id ASIAMFA)" in err
    [body] = calls
    assert "Action=AssumeRole&" in body and "TokenCode=246810" in body
    assert "SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fme" in body
    assert "246810" not in err
