"""lambda.zip (make lambda-zip), checked against what Lambda's provided.al2023
runtime gives it: Amazon Linux 2023's glibc 2.34 and not one library more.

The zip is built by the fixture (make lambda-zip relinks only what changed).
These tests need neither PostgreSQL nor moto_server.
"""

import os
import re
import shutil
import subprocess
import zipfile

import pytest

from aws_standin import StandIn, sm_ok
from harness import util
from harness.util import REPO

AL2023_GLIBC = (2, 34)

# Lambda's zip limits: 50 MB to upload directly, 250 MB unpacked.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNPACKED = 250 * 1024 * 1024

# The execution environment's LD_LIBRARY_PATH (Lambda's base images set it):
# the system's directories come before the function's own /var/task/lib.
LAMBDA_LD_LIBRARY_PATH = ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:"
                          "/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")

# glibc's libraries, which AL2023 provides and the zip must never carry;
# the same list as is_glibc() in deploy/package.sh.
GLIBC_FAMILY = re.compile(
    r"^(linux-vdso|ld-linux[\w.-]*|libc|libm|libmvec|libpthread|libdl|librt|"
    r"libresolv|libutil|libanl|libnsl|libnss_\w+|libBrokenLocale|libthread_db|"
    r"libc_malloc_debug)\.so(\.\d+)*$")

GLIBC_VERSION = re.compile(r"\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b")


def is_glibc(path):
    return bool(GLIBC_FAMILY.match(os.path.basename(path)))


@pytest.fixture(scope="module")
def lambda_zip():
    util.run(["make", "-s", "lambda-zip"], cwd=REPO, timeout=900)
    path = os.path.join(REPO, "lambda.zip")
    assert os.path.isfile(path), "make lambda-zip did not write lambda.zip"
    return path


@pytest.fixture(scope="module")
def task_dir(lambda_zip, tmp_path_factory):
    """The zip unpacked with unzip, as Lambda unpacks it into /var/task
    (unzip, unlike Python's zipfile, restores the Unix modes)."""
    d = str(tmp_path_factory.mktemp("task"))
    util.run(["unzip", "-q", lambda_zip, "-d", d])
    return d


def elf_files(task_dir):
    """bootstrap and every file under lib/, as paths."""
    lib = os.path.join(task_dir, "lib")
    return [os.path.join(task_dir, "bootstrap")] + \
        [os.path.join(lib, n) for n in sorted(os.listdir(lib))]


def dynamic_entries(path, tag):
    """Values of one dynamic-section tag (NEEDED, RPATH, RUNPATH) of an ELF file."""
    out = util.run(["readelf", "-d", path]).stdout
    return re.findall(r"\(" + tag + r"\)\s+[^\[]*\[([^\]]*)\]", out)


def newer_than_al2023(version_match):
    major, minor = int(version_match.group(1)), int(version_match.group(2))
    return (major, minor) > AL2023_GLIBC


# ----- the zip's layout ----------------------------------------------------

def test_zip_root_holds_executable_bootstrap_and_lib(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as z:
        infos = {i.filename: i for i in z.infolist()}
    assert "bootstrap" in infos, sorted(infos)
    mode = infos["bootstrap"].external_attr >> 16
    assert mode & 0o111 == 0o111, f"bootstrap is not executable in the zip: {oct(mode)}"
    strays = [n for n in infos if n != "bootstrap" and not n.startswith("lib/")]
    assert not strays, f"files outside bootstrap and lib/: {strays}"
    assert any(n.startswith("lib/") and not n.endswith("/") for n in infos)
    zipped = os.path.getsize(lambda_zip)
    unpacked = sum(i.file_size for i in infos.values())
    assert zipped < MAX_ZIPPED and unpacked < MAX_UNPACKED, (zipped, unpacked)


def test_bootstrap_is_stripped_and_finds_lib_by_rpath(task_dir):
    bootstrap = os.path.join(task_dir, "bootstrap")
    sections = util.run(["readelf", "-S", "-W", bootstrap]).stdout
    assert ".symtab" not in sections, "bootstrap is not stripped"
    # DT_RPATH, not DT_RUNPATH: it covers indirect dependencies too and is
    # searched before LD_LIBRARY_PATH (see client/client.mk).
    assert dynamic_entries(bootstrap, "RPATH") == ["$ORIGIN/lib"]
    assert dynamic_entries(bootstrap, "RUNPATH") == []


def test_lib_holds_the_whole_tree_and_no_glibc(task_dir):
    """Every library that bootstrap or a bundled library needs is either
    glibc's or in lib/; lib/ holds nothing of glibc and nothing unneeded."""
    lib = os.path.join(task_dir, "lib")
    bundled = set(os.listdir(lib))
    glibc = sorted(n for n in bundled if is_glibc(n))
    assert not glibc, f"glibc libraries in the zip: {glibc}"
    needed_by = {}
    for path in elf_files(task_dir):
        for soname in dynamic_entries(path, "NEEDED"):
            needed_by.setdefault(soname, []).append(os.path.basename(path))
    missing = {s: who for s, who in needed_by.items()
               if not is_glibc(s) and s not in bundled}
    assert not missing, f"needed but not bundled: {missing}"
    unneeded = sorted(bundled - set(needed_by))
    assert not unneeded, f"bundled but needed by nothing: {unneeded}"
    assert {"libpq.so.5", "libcurl.so.4", "libcrypto.so.3", "libssl.so.3"} <= bundled
    # Debian 12's libexpat.so.1 needs glibc 2.36: bootstrap carries libexpat
    assert "libexpat.so.1" not in needed_by and "libexpat.so.1" not in bundled


# ----- glibc 2.34 ----------------------------------------------------------

def test_needs_no_glibc_symbol_newer_than_al2023(task_dir):
    """No file of the zip asks for a GLIBC_ version above 2.34, neither in
    its version references (what ld.so checks at start) nor on any symbol
    (what names the culprit), and none uses glibc's private interface."""
    offenders = []
    for path in elf_files(task_dir):
        name = os.path.relpath(path, task_dir)
        refs = util.run(["objdump", "-p", path]).stdout
        for m in GLIBC_VERSION.finditer(refs):
            if newer_than_al2023(m):
                offenders.append(f"{name}: requires {m.group(0)}")
        if "GLIBC_PRIVATE" in refs:
            offenders.append(f"{name}: requires GLIBC_PRIVATE")
        for line in util.run(["objdump", "-T", path]).stdout.splitlines():
            m = GLIBC_VERSION.search(line)
            if m and "*UND*" in line and newer_than_al2023(m):
                offenders.append(f"{name}: {line.split()[-1]}@{m.group(0)}")
    assert not offenders, "\n".join(["newer than glibc 2.34:"] + offenders)


# ----- starting with only its own lib/ ---------------------------------------

def loaded_libraries(ld_debug_output):
    """Paths of the objects ld.so initialised, from LD_DEBUG=libs output."""
    return re.findall(r"calling init: (\S+)", ld_debug_output)


def start_bootstrap(task_dir, ld_library_path):
    env = {"LD_LIBRARY_PATH": ld_library_path, "LD_DEBUG": "libs"}
    return subprocess.run(["./bootstrap", "--version"], cwd=task_dir, env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("ld_library_path", [
    "",
    # the host's directories first, as Lambda puts /lib64:/usr/lib64 first
    "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib",
], ids=["empty", "system-dirs-first"])
def test_bootstrap_loads_every_library_from_its_own_lib(task_dir, client_bin,
                                                        ld_library_path):
    proc = start_bootstrap(task_dir, ld_library_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    expected = util.run([client_bin, "--version"]).stdout
    assert proc.stdout == expected
    loaded = loaded_libraries(proc.stderr)
    lib = os.path.join(task_dir, "lib") + os.sep
    from_elsewhere = [p for p in loaded if not is_glibc(p) and not p.startswith(lib)]
    assert not from_elsewhere, f"loaded from outside the zip: {from_elsewhere}"
    from_zip = {os.path.basename(p) for p in loaded if p.startswith(lib)}
    assert from_zip == set(os.listdir(lib))


def test_bootstrap_reads_xml_with_its_own_libexpat(task_dir, tmp_path):
    """The libexpat inside bootstrap parses an STS answer (web identity
    credentials) and takes its hash salt from glibc_compat.c's
    arc4random_buf; the zip's libraries do the rest of the call."""
    answer = ('<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>'
              '<Credentials><AccessKeyId>ASIAZIP</AccessKeyId>'
              '<SecretAccessKey>zip&amp;key</SecretAccessKey><SessionToken>t</SessionToken>'
              '</Credentials></AssumeRoleWithWebIdentityResult>'
              '</AssumeRoleWithWebIdentityResponse>')
    token = tmp_path / "jwt"
    token.write_text("a.b.c")
    with StandIn(lambda req: (200, {}, answer)) as sts, \
            StandIn(lambda req: sm_ok({"RandomPassword": "from-the-stand-in"})) as sm:
        env = {"LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH, "AWS_REGION": "us-east-1",
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
               "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
               "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/zip",
               "AWS_ENDPOINT_URL_STS": sts.url, "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.url,
               "NO_PROXY": "127.0.0.1"}
        proc = subprocess.run(["./bootstrap", "secret", "random-password", "--verbose"],
                              cwd=task_dir, env=env, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "using AWS credentials from web identity (access key id ASIAZIP)" in proc.stderr
    assert "from-the-stand-in" in proc.stdout


def isolation_prefix():
    """argv prefix for a private mount and PID namespace (so that /proc can
    be mounted inside the fake root), or None when this machine allows none."""
    unshare = shutil.which("unshare")
    if not unshare or not shutil.which("chroot"):
        return None
    prefix = [unshare, "--mount", "--pid", "--fork"]
    if not util.running_as_root():
        prefix.insert(1, "--map-root-user")
    probe = subprocess.run(prefix + ["true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def test_bootstrap_starts_in_a_root_with_nothing_but_glibc(task_dir, client_bin,
                                                           tmp_path):
    """A root file system that holds glibc (the host's copies, at the paths
    the host's ld.so expects) and the unpacked zip at /var/task, and nothing
    else: no /usr/lib, no ld.so.cache. bootstrap, run as Lambda runs it,
    must start. /proc is mounted because ld.so resolves the executable's
    $ORIGIN through /proc/self/exe, as it does on Lambda."""
    prefix = isolation_prefix()
    if prefix is None:
        pytest.skip("no mount namespace available here for a chroot")
    root = tmp_path / "root"
    shutil.copytree(task_dir, root / "var" / "task", symlinks=True)
    (root / "proc").mkdir()
    ldd = util.run(["ldd", os.path.join(task_dir, "bootstrap")]).stdout
    glibc = [p for p in re.findall(r"(/\S+)\s+\(0x", ldd)
             if not p.startswith(task_dir + os.sep)]
    assert any(is_glibc(p) and os.path.basename(p).startswith("libc.") for p in glibc)
    for path in glibc:
        assert is_glibc(path), f"ldd resolved {path} outside the zip"
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(path), dest)
    argv = prefix + [f"--mount-proc={root / 'proc'}", shutil.which("chroot"),
                     str(root), "/var/task/bootstrap", "--version"]
    env = {"LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH, "LAMBDA_TASK_ROOT": "/var/task"}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == util.run([client_bin, "--version"]).stdout
