"""The Debian packages (make deb, debian/): they build, lintian finds no
error, and once installed with dpkg -i the demo rotates a password with the
installed files only (the system's PostgreSQL, its extension directory,
/usr/bin/pg_rotate) and the extension's pg_regress suite passes as
debian/tests/installcheck (autopkgtest) runs it.

Installing writes into the system's PostgreSQL directories, where "make
install" has put the extension the other tests use: every file the packages
would overwrite is saved first, and after the packages are purged it is put
back (by rename, so that a running server that mapped a library keeps a
whole one) and the directories are checked to be as they were.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from harness import util

EXT_PACKAGE = re.compile(r"postgresql-(\d+)-pg-rotate_[^_]+_[^_]+\.deb")
CLIENT_PACKAGE = re.compile(r"pg-rotate_[^_]+_[^_]+\.deb")


def as_root(argv):
    return list(argv) if util.running_as_root() else ["sudo", "-n"] + list(argv)


def can_be_root():
    if util.running_as_root():
        return True
    return shutil.which("sudo") is not None and \
        subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0


def deb_files(deb):
    """The regular files and symlinks a .deb installs, as absolute paths."""
    paths = []
    for line in util.run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        fields = line.split()
        if fields[0][0] in "-l":
            paths.append(fields[5].lstrip("."))
    assert paths, f"{deb} installs nothing"
    return paths


def snapshot(directories):
    """{path: sha256 or link target} of every file under directories."""
    state = {}
    for top in directories:
        for root, _, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    state[path] = "-> " + os.readlink(path)
                else:
                    with open(path, "rb") as f:
                        state[path] = hashlib.sha256(f.read()).hexdigest()
    return state


def installed(package):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                          capture_output=True, text=True)
    return proc.returncode == 0 and "installed" in proc.stdout.split()


@pytest.fixture(scope="module")
def debs():
    """make deb into a temporary DEB_DIR; yields (that dir, the source copy
    the packages were built from, make's output)."""
    for tool in ("dpkg-buildpackage", "pg_buildext", "lintian", "dh"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: run make deps (debhelper, lintian, "
                        "postgresql-server-dev-all)")
    workdir = tempfile.mkdtemp(prefix="pg_rotate-deb-")
    # the build-time and autopkgtest clusters run as the postgres user and
    # read the extension from the build tree
    os.chmod(workdir, 0o755)
    try:
        deb_dir = os.path.join(workdir, "deb")
        proc = util.run(["make", "-C", util.REPO, "deb", f"DEB_DIR={deb_dir}"],
                        check=False, env=util.child_env(), timeout=900)
        assert proc.returncode == 0, f"make deb failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
        src = [d for d in os.listdir(deb_dir) if os.path.isdir(os.path.join(deb_dir, d))]
        assert len(src) == 1, src
        yield deb_dir, os.path.join(deb_dir, src[0]), proc.stdout + proc.stderr
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_make_deb_builds_both_packages_and_lintian_finds_no_error(debs):
    deb_dir, _, output = debs
    names = os.listdir(deb_dir)
    assert [n for n in names if EXT_PACKAGE.fullmatch(n)], names
    assert [n for n in names if CLIENT_PACKAGE.fullmatch(n)], names
    assert not [line for line in output.splitlines() if re.match(r"E: ", line)]
    # the build-time pg_regress run (dh_pgxs_test) passed
    assert re.search(r"All \d+ tests passed", output)


def test_debian_control_is_what_pg_buildext_makes_of_control_in(debs):
    """make deb regenerated debian/control in its copy (pg_buildext
    updatecontrol, for this machine's PostgreSQL): the committed one must be
    the same, or the Debian way of building (checkcontrol) refuses."""
    _, src, _ = debs
    with open(os.path.join(src, "debian", "control")) as f:
        generated = f.read()
    with open(os.path.join(util.REPO, "debian", "control")) as f:
        assert f.read() == generated


def test_installed_packages_run_the_demo_and_pass_installcheck(debs):
    deb_dir, src, _ = debs
    if not can_be_root():
        pytest.skip("installing packages needs root or password-less sudo")
    names = os.listdir(deb_dir)
    ext_deb = [n for n in names if EXT_PACKAGE.fullmatch(n)][0]
    client_deb = [n for n in names if CLIENT_PACKAGE.fullmatch(n)][0]
    major = EXT_PACKAGE.fullmatch(ext_deb).group(1)
    packages = [f"postgresql-{major}-pg-rotate", "pg-rotate"]
    for package in packages:
        if installed(package):
            pytest.skip(f"{package} is installed already; this test would remove it")

    pg_config = f"/usr/lib/postgresql/{major}/bin/pg_config"
    sharedir = util.run([pg_config, "--sharedir"]).stdout.strip()
    pkglibdir = util.run([pg_config, "--pkglibdir"]).stdout.strip()
    watched = [os.path.join(sharedir, "extension"), pkglibdir]
    before = snapshot(watched)
    debs_paths = [os.path.join(deb_dir, n) for n in (ext_deb, client_deb)]
    files = [p for deb in debs_paths for p in deb_files(deb)]
    backup = tempfile.mkdtemp(prefix="pg_rotate-deb-backup-")
    saved = []
    try:
        for path in files:
            if os.path.lexists(path):
                copy = os.path.join(backup, path.lstrip("/"))
                os.makedirs(os.path.dirname(copy), exist_ok=True)
                shutil.copy2(path, copy, follow_symlinks=False)
                saved.append(path)

        util.run(as_root(["dpkg", "-i"] + debs_paths), timeout=300)
        completion = "/usr/share/bash-completion/completions/pg_rotate"
        owner = util.run(["dpkg", "-S", f"{sharedir}/extension/pg_rotate.control",
                          f"{pkglibdir}/pg_rotate.so", "/usr/bin/pg_rotate",
                          completion]).stdout
        assert f"postgresql-{major}-pg-rotate: {sharedir}/extension/pg_rotate.control" in owner
        assert f"postgresql-{major}-pg-rotate: {pkglibdir}/pg_rotate.so" in owner
        assert "pg-rotate: /usr/bin/pg_rotate" in owner
        assert f"pg-rotate: {completion}" in owner
        assert os.path.exists("/usr/share/man/man1/pg_rotate.1.gz")

        # the demo, from outside the checkout: the system's server and
        # extension (PG_CONFIG), the installed client
        demo = util.run(["/usr/bin/python3", os.path.join(util.REPO, "test", "demo.py"),
                         "--client", "/usr/bin/pg_rotate"],
                        check=False, cwd=backup, timeout=600,
                        env=util.child_env(PG_CONFIG=pg_config))
        out = demo.stdout
        assert demo.returncode == 0, util.redact(out + demo.stderr)
        assert f"(server programs in /usr/lib/postgresql/{major}/bin)" in out
        assert "client: /usr/bin/pg_rotate" in out
        with open(f"{sharedir}/extension/pg_rotate.control") as f:
            version = re.search(r"default_version = '([^']+)'", f.read()).group(1)
        assert f"pg_rotate {version} from {sharedir}/extension, library in {pkglibdir}" in out
        assert "outcome rotated" in out
        assert "with the new password (AWSCURRENT):  yes" in out
        assert "with the old password (AWSPREVIOUS): no, refused" in out
        assert "chain intact" in out

        # what autopkgtest runs (debian/tests/control), in the copy make deb
        # built from: pg_regress against the installed package
        check = util.run(["sh", "debian/tests/installcheck"], check=False, timeout=600,
                         cwd=src, env=util.child_env())
        assert check.returncode == 0, check.stdout[-6000:] + check.stderr[-3000:]
        assert re.search(r"All \d+ tests passed", check.stdout)
    finally:
        util.run(as_root(["dpkg", "--purge"] + packages), check=False, timeout=300)
        for path in saved:
            staged = f"{path}.pg_rotate-restore"
            util.run(as_root(["mkdir", "-p", os.path.dirname(path)]))
            util.run(as_root(["cp", "-a", os.path.join(backup, path.lstrip("/")), staged]))
            util.run(as_root(["mv", "-f", staged, path]))
        shutil.rmtree(backup, ignore_errors=True)
    assert not any(installed(p) for p in packages)
    assert snapshot(watched) == before, "PostgreSQL's directories differ from before the test"
