"""Small helpers: free ports, waiting without bare sleeps, running commands."""

import os
import pwd
import re
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Secret(str):
    """A password the tests made or read back. It works as the str it is,
    but its repr, which pytest prints for a failed assertion, hides it (see
    pytest_assertrepr_compare in conftest.py for comparisons). Every value
    is remembered in `made`, so text shown on a failure can be redacted."""

    made = set()

    def __new__(cls, value):
        cls.made.add(str(value))
        return super().__new__(cls, value)

    def __repr__(self):
        return "<secret>"


def redact(text):
    """text without SCRAM verifiers or any Secret the tests made."""
    text = re.sub(r"SCRAM-SHA-256\$[^\s']+", "SCRAM-SHA-256$<hidden>", text)
    for value in Secret.made:
        text = text.replace(value, "<secret>")
    return text


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns a true value, which is returned.
    Raises TimeoutError naming `what` when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def running_as_root():
    return os.geteuid() == 0


def as_server_user(argv):
    """Prefix argv so it runs as the server user (PostgreSQL refuses root)."""
    if running_as_root():
        return ["runuser", "-u", "postgres", "--"] + list(argv)
    return list(argv)


def chown_to_server_user(path):
    if running_as_root():
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def child_env(**extra):
    """os.environ for a build or test run started by a test: without the
    enclosing make's variables (make check's flags and SANITIZE) and libpq
    settings (its cluster's PGPORT, ...), plus extra."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE")
           and not (k.startswith("PG") and not k.startswith("PG_ROTATE_"))}
    env.update(extra)
    return env


def run(argv, check=True, env=None, input=None, timeout=120, cwd=None):
    """Run a command, capture text output; raise with both streams on failure."""
    proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd)
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
