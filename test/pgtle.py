"""pg_tle for the tests of the SQL-only flavour, as Amazon RDS and Aurora run
it: pg_tle's release source, from ../shared/pg_tle beside the checkout (never
part of it), built and installed into a private copy of the PostgreSQL in use.

Why a copy: pg_tle refuses to register an extension whose control file is on
disk, and "make install" puts pg_rotate's there.  PostgreSQL finds its share
and lib directories relative to its binaries, so a copy of bindir, pkglibdir
and sharedir (every other directory pg_config names linked to the original),
without pg_rotate's files, is a server of its own: whatever order the flavours
are installed in, and without touching the system's directories.  It is built
once per test session (see the pgtle_install fixture in conftest.py); the one
test of a self-managed server with both pg_tle and pg_rotate's files builds
its own copy, with those files.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

from harness import util
from harness.pgcluster import Cluster

TARBALL = os.path.join(os.path.dirname(util.REPO), "shared", "pg_tle", "pg_tle-1.5.2.tar.gz")

# directories of an installation the copy links to instead of copying
LINKED = ("includedir", "pkgincludedir", "includedir-server", "libdir", "docdir",
          "mandir", "localedir", "sysconfdir")
COPIED = ("bindir", "pkglibdir", "sharedir")


def unavailable():
    """Why the pg_tle tests cannot run here, or None."""
    if not os.path.isfile(TARBALL):
        return f"pg_tle's source is not here ({TARBALL}: ../shared/pg_tle beside the checkout)"
    return None


def pg_config_value(pg_config, key):
    return util.run([pg_config, f"--{key}"]).stdout.strip()


def cache_key(pg_config):
    """The tarball's hash and the server's version: what the build depends on."""
    with open(TARBALL, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    version = pg_config_value(pg_config, "version").split()[1]
    return f"pg_tle-{digest}-pg{version}"


def extension_files():
    """{path: mtime} of pg_rotate's and pg_tle's files in the installation
    of PG_CONFIG (or pg_config): what the pg_tle tests must leave as they
    found it."""
    pg_config = os.environ.get("PG_CONFIG", "pg_config")
    found = {}
    for d in (os.path.join(pg_config_value(pg_config, "sharedir"), "extension"),
              pg_config_value(pg_config, "pkglibdir")):
        for name in os.listdir(d):
            if name.startswith(("pg_rotate", "pg_tle")):
                path = os.path.join(d, name)
                found[path] = os.lstat(path).st_mtime_ns
    return found


def remove_pg_rotate(pkglibdir, sharedir):
    """Take pg_rotate's files out of a copied installation."""
    extdir = os.path.join(sharedir, "extension")
    for name in os.listdir(extdir):
        if name.startswith("pg_rotate.") or name.startswith("pg_rotate--"):
            os.unlink(os.path.join(extdir, name))
    for path in (os.path.join(pkglibdir, "pg_rotate.so"),
                 os.path.join(pkglibdir, "bitcode", "pg_rotate.index.bc")):
        if os.path.lexists(path):
            os.unlink(path)
    shutil.rmtree(os.path.join(pkglibdir, "bitcode", "pg_rotate"), ignore_errors=True)


def relocate(pg_config, root, keep_pg_rotate=False):
    """Copy the installation pg_config describes under root (same absolute
    paths below it), without pg_rotate's files unless keep_pg_rotate, and
    return the copy's pg_config."""
    copied = [pg_config_value(pg_config, k) for k in COPIED]
    for d in copied:
        shutil.copytree(d, root + d, symlinks=True)
    # parents first, so that a linked directory covers what is inside it
    for d in sorted({pg_config_value(pg_config, k) for k in LINKED}, key=len):
        if os.path.exists(d) and not os.path.lexists(root + d) and \
                not any((d + "/").startswith(c + "/") for c in copied):
            os.makedirs(os.path.dirname(root + d), exist_ok=True)
            os.symlink(d, root + d)
    if not keep_pg_rotate:
        remove_pg_rotate(root + copied[1], root + copied[2])
    return root + os.path.join(copied[0], "pg_config")


class Install:
    """PostgreSQL with pg_tle (and without pg_rotate), in a directory of its own."""

    def __init__(self, basedir, keep_pg_rotate=False):
        """keep_pg_rotate: keep the files "make install" put into the
        installation (a self-managed server with both flavours on disk,
        where pg_tle cannot register pg_rotate)."""
        self.basedir = basedir
        self.keep_pg_rotate = keep_pg_rotate
        self.pg_config = None
        self.build_seconds = None

    @property
    def bindir(self):
        return pg_config_value(self.pg_config, "bindir")

    def build(self):
        """Copy the installation of PG_CONFIG (or pg_config), build pg_tle
        against the copy and install it there."""
        started = time.monotonic()
        pg_config = os.environ.get("PG_CONFIG", "pg_config")
        root = os.path.join(self.basedir, "root")
        self.pg_config = relocate(pg_config, root, self.keep_pg_rotate)
        src = os.path.join(self.basedir, "src")
        os.makedirs(src)
        util.run(["tar", "-xzf", TARBALL, "-C", src])
        [top] = os.listdir(src)
        make = ["make", "-C", os.path.join(src, top), f"PG_CONFIG={self.pg_config}"]
        # not our make's variables (PG_CONFIG, SANITIZE, ...) when make check runs this
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
        util.run(make + ["-j2"], env=env, timeout=600)
        util.run(make + ["install"], env=env, timeout=300)
        # the server runs as the postgres OS user when the tests run as root
        subprocess.run(["chmod", "-R", "a+rX", self.basedir], check=True)
        self.build_seconds = time.monotonic() - started
        return self

    def remove(self):
        shutil.rmtree(self.basedir, ignore_errors=True)

    def cluster(self):
        """A throwaway cluster on this installation, as README.md's RDS
        section sets one up: pg_tle preloaded, password checks required."""
        return Cluster(preload=False, bindir=self.bindir,
                       settings={"shared_preload_libraries": "'pg_tle'",
                                 "pgtle.enable_password_check": "'require'"})


def make_installer():
    """make pg_tle: the installer and uninstaller's paths."""
    util.run(["make", "-s", "pg_tle"], cwd=util.REPO, timeout=120)
    build = os.path.join(util.REPO, "build")
    return (os.path.join(build, "pg_rotate--pg_tle-install.sql"),
            os.path.join(build, "pg_rotate--pg_tle-uninstall.sql"))


def run_installer(pg, dbname, check=True, user=None):
    """Run make pg_tle's installer in dbname with psql, as user (default:
    the superuser)."""
    install, _ = make_installer()
    with open(install) as f:
        return pg.psql(f.read(), dbname=dbname, check=check, user=user)


def create_database(pg, dbname):
    """A new database with pg_tle in it (pg_tle's hooks need the extension
    in each database)."""
    pg.psql(f"CREATE DATABASE {dbname}")
    pg.psql("CREATE EXTENSION pg_tle", dbname=dbname)


def create_pg_rotate(pg, dbname):
    """pg_rotate in dbname as README.md's RDS section says: pg_tle, the
    installer, CREATE EXTENSION."""
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_tle", dbname=dbname)
    run_installer(pg, dbname)
    pg.psql("CREATE EXTENSION pg_rotate", dbname=dbname)


def register_released(pg, dbname, version):
    """What a released version's installer registered: its SQL-only script
    (committed, frozen), without the guard that only psql understands."""
    with open(os.path.join(util.REPO, "extension", "sql", "guard.sql")) as f:
        guard = f.read()
    with open(os.path.join(util.REPO, "extension", f"pg_rotate--{version}-sql.sql")) as f:
        script = f.read().split(guard, 1)[1]
    assert "$_pgtle_$" not in script
    pg.psql(f"SELECT pgtle.install_extension('pg_rotate', '{version}', 'pg_rotate {version}',"
            f" $_pgtle_${script}$_pgtle_$, NULL, 'rotate')", dbname=dbname)


def set_password_check(pg, mode=None, db_name=None):
    """Change pg_tle's settings (both take a reload) and wait until a new
    session sees them."""
    sql = []
    if mode is not None:
        sql.append(f"ALTER SYSTEM SET pgtle.enable_password_check = '{mode}'")
    if db_name is not None:
        sql.append(f"ALTER SYSTEM SET pgtle.passcheck_db_name = '{db_name}'")
    for stmt in sql:
        pg.psql(stmt)
    pg.psql("SELECT pg_reload_conf()")
    want = [(n, v) for n, v in (("pgtle.enable_password_check", mode),
                                ("pgtle.passcheck_db_name", db_name)) if v is not None]
    util.wait_until(lambda: all(pg.psql(f"SHOW {n}").strip() == v for n, v in want),
                    what="pg_tle's settings to reload")


def build_install(keep_pg_rotate=False):
    """An Install in a new temporary directory named after its cache key."""
    pg_config = os.environ.get("PG_CONFIG", "pg_config")
    basedir = tempfile.mkdtemp(prefix=cache_key(pg_config) + "-")
    os.chmod(basedir, 0o755)
    try:
        return Install(basedir, keep_pg_rotate).build()
    except BaseException:
        shutil.rmtree(basedir, ignore_errors=True)
        raise
