"""pg_rotate's command-line conventions (issue 14, item 7): shared options
before the command, as with the AWS CLI; --version with the release's
version (one source: META.json) and the libraries' versions; the bash
completion, sourced in bash; and the progress line of a many-secret
rotation, only on a terminal (a pty) and never with --json."""

import json
import os
import pty
import re
import select
import subprocess

import pytest

from harness.fleet import Fleet
from harness.util import REPO

COMPLETION = os.path.join(REPO, "completion", "pg_rotate")


def run(client_bin, *args, env=None):
    return subprocess.run([client_bin] + list(args), env=env, capture_output=True, text=True,
                          timeout=60)


# ----- shared options before the command -------------------------------------

@pytest.fixture
def profile_env(moto, tmp_path):
    """Only a named profile, "prod", says where and as whom: an option that
    does not reach the command leaves it without a region or credentials."""
    config = tmp_path / "config"
    config.write_text(f"[profile prod]\nregion = {moto.region}\n"
                      "aws_access_key_id = AKIAPROD\naws_secret_access_key = s\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1,localhost"})
    return env


@pytest.mark.parametrize("command", [
    ["rotate", "--secret-id", "pgr/no-such-secret"],
    ["step", "--step", "createSecret", "--secret-id", "pgr/no-such-secret", "--token", "t"],
    ["check", "--secret-id", "pgr/no-such-secret"],
    ["secret", "get", "--secret-id", "pgr/no-such-secret"],
], ids=["rotate", "step", "check", "secret"])
def test_shared_options_before_the_command(moto, client_bin, profile_env, command):
    """pg_rotate --profile prod --endpoint-url URL COMMAND ...: the command
    reaches moto with the profile's region and keys and gets moto's answer."""
    proc = run(client_bin, "--profile", "prod", "--endpoint-url", moto.endpoint,
               "--connect-timeout=5", "--json", *command, env=profile_env)
    assert proc.returncode == 1, proc.stderr
    assert ("ResourceNotFoundException: Secrets Manager can't find the specified secret."
            in proc.stderr), proc.stderr
    # the endpoint the option named, reached with the profile's keys and region
    assert f"pg_rotate: detail: Secrets Manager ({moto.endpoint}) answered" in proc.stderr


def test_shared_options_on_both_sides_and_unknown_ones(moto, client_bin, profile_env):
    proc = run(client_bin, "--profile", "prod", "secret", "--endpoint-url", moto.endpoint,
               "random-password", "--password-length", "12", env=profile_env)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["RandomPassword"]) == 12
    bad = run(client_bin, "--bogus", "rotate", "--secret-id", "x", env=profile_env)
    assert bad.returncode == 2
    assert 'pg_rotate: error: unknown option "--bogus"' in bad.stderr


# ----- --version -----------------------------------------------------------

def pkg_version(module):
    return subprocess.run(["pkg-config", "--modversion", module], capture_output=True,
                          text=True, check=True).stdout.strip()


def release_version():
    with open(os.path.join(REPO, "META.json")) as f:
        return json.load(f)["version"]


def test_version_names_the_release_and_the_linked_libraries(client_bin):
    proc = run(client_bin, "--version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"pg_rotate {release_version()}"
    names = dict(line.split(" ", 1) for line in lines[1:])
    assert sorted(names) == ["OpenSSL", "libcurl", "libexpat", "libpq"]
    # what the loader gave it: here, the libraries it was built against
    assert names["libcurl"] == pkg_version("libcurl")
    assert names["libexpat"] == pkg_version("expat")
    assert names["OpenSSL"] == pkg_version("openssl")
    assert names["libpq"] == re.match(r"\d+\.\d+", pkg_version("libpq")).group(0)
    # a shared option before it changes nothing
    assert run(client_bin, "--region", "eu-west-1", "--version").stdout == proc.stdout


def test_program_extension_and_packages_say_the_same_version(client_bin):
    """The one source is META.json (X.Y.Z); the control file has its X.Y,
    debian/changelog and the man page the same X.Y.Z, the program reports it."""
    version = release_version()
    with open(os.path.join(REPO, "extension", "pg_rotate.control")) as f:
        control = re.search(r"default_version\s*=\s*'([^']+)'", f.read()).group(1)
    assert version.startswith(control + ".")
    with open(os.path.join(REPO, "debian", "changelog")) as f:
        assert re.match(r"pg-rotate \(([^)]+)\)", f.read()).group(1) == version
    with open(os.path.join(REPO, "doc", "pg_rotate.1")) as f:
        assert re.match(r'\.TH PG_ROTATE 1 "[^"]+" "pg_rotate ([^"]+)"', f.read()).group(1) \
            == version
    assert run(client_bin, "--version").stdout.splitlines()[0] == f"pg_rotate {version}"


# ----- bash completion -------------------------------------------------------

def complete(words, env=None, cwd=None):
    """COMPREPLY for the command line `words` (the last one being completed),
    with the completion file sourced into a plain bash."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));'
              ' _pg_rotate; printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", COMPLETION,
                           "pg_rotate"] + words, capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=30)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return sorted(line for line in proc.stdout.splitlines() if line)


def test_completion_of_commands_values_and_files(tmp_path):
    assert complete(["ro"]) == ["rotate"]
    assert complete([""]) == ["check", "lambda", "rotate", "secret", "step"]
    # after shared options and their values
    assert complete(["--profile", "prod", "--region", "us-east-1", "ch"]) == ["check"]
    assert complete(["rotate", "--sec"]) == ["--secret-id", "--secrets-file"]
    assert complete(["step", "--step", ""]) == ["createSecret", "finishSecret", "setSecret",
                                                "testSecret"]
    assert complete(["secret", "s"]) == ["stage"]
    assert complete(["secret", "get", "--version-stage", "AWSP"]) == ["AWSPENDING",
                                                                      "AWSPREVIOUS"]
    assert complete(["check", "--sslmode", "verify-"]) == ["verify-ca", "verify-full"]
    assert complete(["rotate", "--secret-id", ""]) == []
    (tmp_path / "fleet.txt").write_text("")
    (tmp_path / "other").write_text("")
    assert complete(["rotate", "--secrets-file", "fl"], cwd=tmp_path) == ["fleet.txt"]
    config = tmp_path / "config"
    config.write_text("[default]\nregion = x\n[profile prod]\n[profile  prod-eu ]\n")
    creds = tmp_path / "credentials"
    creds.write_text("[staging]\naws_access_key_id = x\n")
    env = dict(os.environ, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(creds))
    assert complete(["--profile", ""], env=env) == ["default", "prod", "prod-eu", "staging"]


def help_options(client_bin, *command):
    """The options a command's --help lists (each with its description)."""
    text = run(client_bin, *command, "--help").stdout
    return sorted(set(re.findall(r"^  (--[a-z-]+)", text, re.M)))


@pytest.mark.parametrize("command", [
    ["rotate"], ["step"], ["check"], ["lambda"],
    ["secret", "get"], ["secret", "describe"], ["secret", "put"], ["secret", "stage"],
    ["secret", "random-password"]], ids=lambda c: "-".join(c))
def test_completion_offers_what_help_lists(client_bin, command):
    offered = complete(command + ["--"])
    shared = help_options(client_bin)
    listed = help_options(client_bin, *command)
    if command == ["lambda"]:
        listed = shared           # its --help lists no options of its own
    assert offered == sorted(set(listed) | set(shared))


def test_make_install_installs_the_completion(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    # the build under test's flags, so that nothing is rebuilt
    sanitize = os.environ.get("SANITIZE", "0")
    subprocess.run(["make", "-s", "-C", REPO, f"SANITIZE={sanitize}", "install-client",
                    f"DESTDIR={tmp_path}", "prefix=/opt/pgr"], check=True, capture_output=True,
                   env=env, timeout=300)
    installed = tmp_path / "opt/pgr/share/bash-completion/completions/pg_rotate"
    assert installed.read_text() == open(COMPLETION).read()
    assert os.access(tmp_path / "opt/pgr/bin/pg_rotate", os.X_OK)
    with open(os.path.join(REPO, "debian", "pg-rotate.install")) as f:
        assert "completion/pg_rotate usr/share/bash-completion/completions\n" in f.read()


# ----- progress ---------------------------------------------------------------

def rotate_with_pty(client_bin, env, ids, *extra):
    """Rotate ids with stderr on a pty (stdout a pipe); returns (exit code,
    what the terminal got, stdout)."""
    args = [client_bin, "rotate"] + [a for i in ids for a in ("--secret-id", i)] + list(extra)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        terminal = b""
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                proc.kill()
                raise AssertionError("no output for 120 s")
            try:
                chunk = os.read(master, 4096)
            except OSError:         # EIO: the pty's other end closed
                break
            if not chunk:
                break
            terminal += chunk
        out = proc.stdout.read().decode()
        proc.stdout.close()
        return proc.wait(timeout=60), terminal.decode(errors="replace"), out
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


def test_progress_on_a_terminal_only(pg, moto_clean, client_bin):
    fleet = Fleet(pg, moto_clean, 2).setup()
    fleet.base.enable_auth()
    try:
        env = fleet.base.env()
        ids = fleet.secret_ids + ["pgr/does-not-exist"]
        code, terminal, out = rotate_with_pty(client_bin, env, ids)
        assert code == 1, terminal
        # the last state of the line: all done, the failure counted, the slowest named
        last = terminal.split("\r")[-2] if terminal.endswith("\n") else terminal.split("\r")[-1]
        match = re.match(r"\[3/3\] 1 failed, slowest so far (\S+) \((\d+\.\d) s\)\x1b\[K",
                         last)
        assert match, repr(terminal[-300:])
        assert match.group(1) in ids
        assert "2 of 3 secrets rotated, 1 not" in out
        # the line is redrawn in place: each result on stdout, never on it
        assert "rotated arn:aws:secretsmanager:" in out and "[1/3]" in terminal

        # --json: no progress on the terminal, nothing but JSON on stdout
        code, terminal, out = rotate_with_pty(client_bin, env, ids, "--json")
        assert code == 1
        assert "[" not in terminal.replace("[K", "") and "slowest" not in terminal
        assert [json.loads(line)["outcome"] for line in out.splitlines()].count("rotated") == 2

        # stderr not a terminal: no progress either
        proc = subprocess.run([client_bin, "rotate"] +
                              [a for i in ids for a in ("--secret-id", i)],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1
        assert "slowest" not in proc.stderr and "\r" not in proc.stderr
    finally:
        fleet.teardown()
