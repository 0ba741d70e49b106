"""Small helpers: free ports, waiting without bare sleeps, running commands."""

import os
import pwd
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


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


def server_user():
    """The OS user that runs servers: postgres when we are root, else us."""
    return "postgres" if running_as_root() else pwd.getpwuid(os.geteuid()).pw_name


def as_server_user(argv):
    """Prefix argv so it runs as the server user (PostgreSQL refuses root)."""
    if running_as_root():
        return ["runuser", "-u", "postgres", "--"] + list(argv)
    return list(argv)


def chown_to_server_user(path):
    if running_as_root():
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def run(argv, check=True, env=None, input=None, timeout=120, cwd=None):
    """Run a command, capture text output; raise with both streams on failure."""
    proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd)
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
