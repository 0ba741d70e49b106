"""moto_server on a free loopback port: AWS Secrets Manager, IAM and STS for tests.

By default moto accepts any request. enable_auth() makes it verify every later
request's SigV4 signature and IAM permissions (moto's /moto-api/reset-auth,
the run-time form of INITIAL_NO_AUTH_ACTION_COUNT), so each request our client
signs is checked by code we did not write. Create IAM users while auth is off.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request

from . import util

REGION = "us-east-1"
# Used while auth is off; moto accepts any key then.
DUMMY_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "dummy-secret-for-moto-without-auth"
AWS_CLI = "/usr/bin/aws"


def moto_server_binary():
    venv = os.path.expanduser("~/.local/share/pg_rotate/moto/bin/moto_server")
    path = (os.environ.get("MOTO_SERVER") or shutil.which("moto_server")
            or (venv if os.access(venv, os.X_OK) else None))
    if not path:
        raise RuntimeError("moto_server not found on PATH: run \"make deps\" "
                           "(or pip install \"moto[server]\") first")
    return path


class MotoServer:
    region = REGION

    def __init__(self, port=None):
        self.port = port
        self.proc = None
        self.logdir = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.logdir = tempfile.mkdtemp(prefix="pg_rotate-moto-")
        binary = moto_server_binary()
        last = None
        for _ in range(5):
            self.port = self.port or util.free_port()
            log = open(os.path.join(self.logdir, "moto.log"), "ab")
            env = dict(os.environ)
            # moto's own account id for the default credentials
            env.setdefault("MOTO_ACCOUNT_ID", "123456789012")
            self.proc = subprocess.Popen(
                [binary, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
            log.close()
            try:
                util.wait_until(lambda: self.proc.poll() is not None or self._ready(),
                                timeout=30, what="moto_server to answer")
            except TimeoutError as e:
                last = e
            if self.proc.poll() is None and self._ready():
                return self
            self._kill()
            self.port = None
            last = last or RuntimeError(self.log_text()[-2000:])
        raise RuntimeError(f"could not start moto_server: {last}")

    def _ready(self):
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)

    def stop(self):
        self._kill()
        self.proc = None
        if self.logdir:
            shutil.rmtree(self.logdir, ignore_errors=True)

    def log_text(self):
        try:
            with open(os.path.join(self.logdir, "moto.log"), errors="replace") as f:
                return f.read()
        except (FileNotFoundError, TypeError):
            return ""

    # ----- moto's control API -------------------------------------------
    def _post(self, path, body=b""):
        # not form-encoded: moto reads the raw body
        req = urllib.request.Request(f"{self.endpoint}{path}", data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def enable_auth(self):
        """From now on, verify signatures and IAM policies on every request."""
        self._post("/moto-api/reset-auth", b"0")

    def disable_auth(self):
        self._post("/moto-api/reset-auth", b"inf")

    def reset(self):
        """Forget every resource (secrets, users) and switch auth off."""
        self.disable_auth()
        self._post("/moto-api/reset")

    # ----- clients ------------------------------------------------------
    def aws_env(self, access_key=None, secret_key=None, session_token=None):
        """Environment for /usr/bin/aws or pg_rotate: credentials, region and
        endpoint from variables only (no config files, no IMDS)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and k not in ("HTTP_PROXY", "HTTPS_PROXY")}
        env.update({
            "AWS_ACCESS_KEY_ID": access_key or DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": secret_key or DUMMY_SECRET,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        if session_token:
            env["AWS_SESSION_TOKEN"] = session_token
        return env

    def boto3_client(self, service="secretsmanager", access_key=None, secret_key=None):
        import boto3
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            aws_access_key_id=access_key or DUMMY_KEY_ID,
                            aws_secret_access_key=secret_key or DUMMY_SECRET)

    def aws_cli(self, args, env=None, check=True):
        """Run AWS's own CLI (Debian's awscli v2) against this server; JSON out."""
        return util.run([AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json"]
                        + list(args), env=env or self.aws_env(), check=check)

    def create_iam_user(self, name, policy):
        """An IAM user with one inline policy (a dict); returns (key id, secret).
        Call while auth is off."""
        iam = self.boto3_client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy",
                            PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def create_rotation_pending(self, secret_id, token):
        """Reproduce the state RotateSecret leaves before it invokes a rotation
        function: an AWSPENDING version named by `token`, without a value, and
        RotationEnabled on. moto then fails to find the function; that is
        expected (see DESIGN.md)."""
        sm = self.boto3_client()
        try:
            sm.rotate_secret(
                SecretId=secret_id, ClientRequestToken=token,
                RotationLambdaARN="arn:aws:lambda:us-east-1:123456789012:function:none",
                RotationRules={"AutomaticallyAfterDays": 30})
        except sm.exceptions.ResourceNotFoundException:
            pass
