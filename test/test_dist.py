"""make dist: the PGXN distribution. Unzipped into an empty folder, its
extension builds alone (make -C extension: PGXS only, none of the client's
libraries on a compiler or linker line) and installs every script a
database needs, whatever version it is at."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

import pytest

from harness import util

CLIENT_FLAGS = ("-lpq", "-lcurl", "-lexpat", "-ljson-c", "-lcrypto", "-lssl", "json-c", "curl",
                "-Iclient")
CLIENT_LIBS = ("libpq", "libcurl", "libexpat", "libjson-c", "libcrypto", "libssl")


def meta_version():
    with open(os.path.join(util.REPO, "META.json")) as f:
        return json.load(f)["version"]


def make(*args, **kw):
    env = util.child_env(PG_CONFIG=os.environ.get("PG_CONFIG", "pg_config"))
    proc = subprocess.run(["make"] + list(args), capture_output=True, text=True, env=env,
                          timeout=600, **kw)
    assert proc.returncode == 0, f"make {' '.join(args)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def dist():
    """make dist, unzip into an empty folder, build and install (DESTDIR)
    the extension from there."""
    workdir = tempfile.mkdtemp(prefix="pg_rotate-dist-")
    try:
        make("-C", util.REPO, "dist", f"DISTDIR={workdir}")
        name = f"pg_rotate-{meta_version()}"
        unpacked = os.path.join(workdir, "unpacked")
        os.mkdir(unpacked)
        with zipfile.ZipFile(os.path.join(workdir, name + ".zip")) as z:
            entries = z.namelist()
            z.extractall(unpacked)
        ext = os.path.join(unpacked, name, "extension")
        build = make("-C", ext)
        destdir = os.path.join(workdir, "dest")
        make("-C", ext, "install", f"DESTDIR={destdir}")
        yield {"name": name, "entries": entries, "root": os.path.join(unpacked, name),
               "build": build, "destdir": destdir}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pg_config(option):
    return util.run([os.environ.get("PG_CONFIG", "pg_config"), option]).stdout.strip()


def test_the_zip_is_git_archive_of_head_under_one_folder(dist):
    committed = util.run(["git", "-C", util.REPO, "ls-tree", "-r", "--name-only", "HEAD"]).stdout.split()
    files = [e for e in dist["entries"] if not e.endswith("/")]
    assert all(e.startswith(dist["name"] + "/") for e in dist["entries"])
    assert sorted(f[len(dist["name"]) + 1:] for f in files) == sorted(committed)
    with open(os.path.join(dist["root"], "META.json")) as f:
        provides = json.load(f)["provides"]
    for ext in provides.values():
        assert os.path.isfile(os.path.join(dist["root"], ext["file"]))
        assert os.path.isfile(os.path.join(dist["root"], ext["docfile"]))


def test_the_extension_builds_without_the_clients_libraries(dist):
    """Every compiler and linker line of make -C extension (C and bitcode)."""
    lines = [line for line in dist["build"].splitlines()
             if re.search(r"\s-(c|shared)\s", line)]
    assert any(" -shared " in line for line in lines), dist["build"][-3000:]
    assert len([line for line in lines if " -c " in line]) >= 2
    for line in lines:
        for flag in CLIENT_FLAGS:
            assert flag not in line.split() and f"/{flag}" not in line, (flag, line)
    library = os.path.join(dist["root"], "extension", "pg_rotate.so")
    needed = re.findall(r"NEEDED\s+(\S+)", util.run(["objdump", "-p", library]).stdout)
    assert not [lib for lib in needed if lib.startswith(CLIENT_LIBS)], needed


def test_install_puts_every_script_a_database_needs(dist):
    """The control file, the library, the released scripts, and an update
    path from every released version (and flavour) to the default one."""
    ext_dir = dist["destdir"] + os.path.join(pg_config("--sharedir"), "extension")
    lib_dir = dist["destdir"] + pg_config("--pkglibdir")
    assert os.path.isfile(os.path.join(lib_dir, "pg_rotate.so"))
    installed = set(os.listdir(ext_dir))
    with open(os.path.join(ext_dir, "pg_rotate.control")) as f:
        default = re.search(r"default_version = '([^']+)'", f.read()).group(1)
    assert {f"pg_rotate--{default}.sql", f"pg_rotate--{default}-sql.sql"} <= installed
    # C <-> SQL-only switches within the default version
    assert {f"pg_rotate--{default}--{default}-sql.sql",
            f"pg_rotate--{default}-sql--{default}.sql"} <= installed
    released = {m.group(1) for f in os.listdir(os.path.join(dist["root"], "extension"))
                if (m := re.fullmatch(r"pg_rotate--([0-9.]+(?:-sql)?)\.sql", f))}
    assert released <= {m.group(1) for f in installed
                        if (m := re.fullmatch(r"pg_rotate--([0-9.]+(?:-sql)?)\.sql", f))}
    steps = {}
    for f in installed:
        m = re.fullmatch(r"pg_rotate--([0-9.]+(?:-sql)?)--([0-9.]+(?:-sql)?)\.sql", f)
        if m:
            steps.setdefault(m.group(1), set()).add(m.group(2))
    for start in released - {default, default + "-sql"}:
        target = default + "-sql" if start.endswith("-sql") else default
        seen, todo = set(), [start]
        while todo:
            v = todo.pop()
            seen.add(v)
            todo.extend(steps.get(v, set()) - seen)
        assert target in seen, f"no update path from {start} to {target}: {sorted(installed)}"
