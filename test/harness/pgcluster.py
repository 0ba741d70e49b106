"""A throwaway PostgreSQL cluster for the tests.

It listens on 127.0.0.1 only (and on a Unix socket in its own directory), has
SSL on with a CA and server certificate made here with the openssl CLI, preloads
pg_rotate and logs every statement, so tests can prove secrets never reach the
log. When the tests run as root the server runs as the postgres OS user.

Used by pytest (fixture `pg`) and from the shell by test/run-checks.sh:

    python3 -m harness.pgcluster start --state FILE   # prints shell exports
    python3 -m harness.pgcluster stop --state FILE
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import util

HBA = """\
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  scram-sha-256
"""


def quote_conninfo(value):
    """Escape a conninfo value for use between single quotes."""
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def pg_bindir():
    """The server's bin directory, from pg_config (PG_CONFIG may override)."""
    pg_config = os.environ.get("PG_CONFIG", "pg_config")
    return util.run([pg_config, "--bindir"]).stdout.strip()


def openssl(*args):
    util.run(["openssl"] + list(args))


def make_certificates(ssldir):
    """A CA and a server certificate for 127.0.0.1/localhost, signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=pg_rotate test CA", "-keyout", f"{ssldir}/ca.key",
            "-out", f"{ssldir}/ca.crt",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    issue_server_certificate(ssldir, [], "rsa:2048")
    util.chown_to_server_user(f"{ssldir}/ca.crt")


def issue_server_certificate(ssldir, names, key="ec"):
    """server.key and server.crt, signed by the CA in ssldir, for 127.0.0.1,
    127.0.0.2, localhost and the DNS names given (an EC key unless told:
    quick to make when a test issues one for the names it just made)."""
    keyopts = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
               if key == "ec" else ["-newkey", key])
    openssl("req", *keyopts, "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", f"{ssldir}/server.key", "-out", f"{ssldir}/server.csr")
    ext = f"{ssldir}/server.ext"
    sans = ["IP:127.0.0.1", "IP:127.0.0.2", "DNS:localhost"] + [f"DNS:{n}" for n in names]
    with open(ext, "w") as f:
        f.write(f"subjectAltName={','.join(sans)}\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{ssldir}/server.csr", "-days", "2",
            "-CA", f"{ssldir}/ca.crt", "-CAkey", f"{ssldir}/ca.key",
            "-CAcreateserial", "-extfile", ext, "-out", f"{ssldir}/server.crt")
    os.chmod(f"{ssldir}/server.key", 0o600)
    for name in ("server.key", "server.crt"):
        util.chown_to_server_user(f"{ssldir}/{name}")


class Cluster:
    """One initdb'd data directory and the server running on it."""

    superuser = "postgres"

    def __init__(self, basedir=None, port=None, preload=True, bindir=None, settings=None,
                 host="127.0.0.1"):
        """preload: put pg_rotate into shared_preload_libraries.  bindir: the
        server's bin directory (default: pg_config's).  settings: more
        postgresql.conf lines, {name: value as written in the file}.  host:
        the loopback address it listens on."""
        self.basedir = basedir
        self.port = port
        self.preload = preload
        self.bindir = bindir
        self.settings = dict(settings or {})
        self.host = host
        self.running = False

    # Paths derived from basedir.
    @property
    def datadir(self):
        return os.path.join(self.basedir, "data")

    @property
    def sockdir(self):
        return os.path.join(self.basedir, "sock")

    @property
    def logfile(self):
        return os.path.join(self.basedir, "server.log")

    @property
    def ca_cert(self):
        return os.path.join(self.basedir, "ssl", "ca.crt")

    def _ctl(self, *args):
        return util.run(util.as_server_user(
            [f"{self.bindir}/pg_ctl", "-D", self.datadir] + list(args)),
            timeout=120)

    def start(self):
        """initdb, configure and start; on any failure the directory is removed."""
        self.bindir = self.bindir or pg_bindir()
        self.basedir = self.basedir or tempfile.mkdtemp(prefix="pg_rotate-test-")
        try:
            os.chmod(self.basedir, 0o755)
            util.chown_to_server_user(self.basedir)
            for sub in ("sock", "ssl"):
                os.makedirs(os.path.join(self.basedir, sub), exist_ok=True)
                util.chown_to_server_user(os.path.join(self.basedir, sub))
            make_certificates(os.path.join(self.basedir, "ssl"))
            util.run(util.as_server_user(
                [f"{self.bindir}/initdb", "-D", self.datadir, "-U", self.superuser,
                 "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
                timeout=300)
            self._write_config()
            self._start_on_free_port()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_config(self):
        preload = "shared_preload_libraries = 'pg_rotate'\n" if self.preload else ""
        with open(os.path.join(self.datadir, "postgresql.auto.conf"), "a") as f:
            f.write(
                f"listen_addresses = '{self.host}'\n"
                f"unix_socket_directories = '{self.sockdir}'\n"
                "ssl = on\n"
                f"ssl_cert_file = '{self.basedir}/ssl/server.crt'\n"
                f"ssl_key_file = '{self.basedir}/ssl/server.key'\n"
                f"ssl_ca_file = '{self.basedir}/ssl/ca.crt'\n"
                + preload +
                "log_statement = 'all'\n"
                "log_min_duration_statement = 0\n"
                "log_connections = on\n"
                "log_line_prefix = '%m [%p] %q%u@%d '\n"
                "password_encryption = 'scram-sha-256'\n"
                "max_connections = 200\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                + "".join(f"{k} = {v}\n" for k, v in self.settings.items()))
        with open(os.path.join(self.datadir, "pg_hba.conf"), "w") as f:
            f.write(HBA)

    def _start_on_free_port(self, attempts=5):
        """Another process may take the port between choosing and binding it."""
        last = None
        for _ in range(attempts):
            port = self.port or util.free_port()
            try:
                self._ctl("-l", self.logfile, "-w", "-t", "60",
                          "-o", f"-p {port}", "start")
                self.port = port
                self.running = True
                return
            except RuntimeError as e:
                last = e
                # only a lost race for the port is worth another try
                if self.port or "already in use" not in self.log_text():
                    break
        raise RuntimeError(f"could not start PostgreSQL:\n{last}\n{self.log_text()[-3000:]}")

    def stop(self):
        """Stop the server (fast, then immediate) and remove the directory."""
        if self.basedir and os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            try:
                self._ctl("-m", "fast", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                try:
                    self._ctl("-m", "immediate", "-w", "-t", "30", "stop")
                except (RuntimeError, subprocess.TimeoutExpired):
                    pass
        self.running = False
        if self.basedir and os.path.isdir(self.basedir) and not os.environ.get("PG_ROTATE_KEEP_CLUSTER"):
            shutil.rmtree(self.basedir, ignore_errors=True)

    def start_standby(self, host):
        """A streaming replica of this cluster, made with pg_basebackup -R
        (it follows this cluster through its Unix socket), listening on
        host with this cluster's port and sharing its certificate files."""
        standby = Cluster(port=self.port, preload=self.preload, host=host)
        standby.bindir = self.bindir
        standby.basedir = tempfile.mkdtemp(prefix="pg_rotate-standby-")
        try:
            os.chmod(standby.basedir, 0o755)
            util.chown_to_server_user(standby.basedir)
            os.makedirs(standby.sockdir)
            util.chown_to_server_user(standby.sockdir)
            os.symlink(os.path.join(self.basedir, "ssl"), os.path.join(standby.basedir, "ssl"))
            util.run(util.as_server_user(
                [f"{self.bindir}/pg_basebackup", "-h", self.sockdir, "-p", str(self.port),
                 "-U", self.superuser, "-D", standby.datadir, "-R", "-X", "stream",
                 "-c", "fast", "--no-sync"]), timeout=300)
            with open(os.path.join(standby.datadir, "postgresql.auto.conf"), "a") as f:
                f.write(f"listen_addresses = '{host}'\n"
                        f"unix_socket_directories = '{standby.sockdir}'\n"
                        "hot_standby = on\n")
            standby._ctl("-l", standby.logfile, "-w", "-t", "60", "-o", f"-p {self.port}",
                         "start")
            standby.running = True
        except BaseException:
            standby.stop()
            raise
        return standby

    def reissue_certificate(self, names, *others):
        """A new server certificate that also names the DNS names given, in
        use at once (SIGHUP); others share its files and reload too."""
        issue_server_certificate(os.path.join(self.basedir, "ssl"), names)
        for cluster in (self,) + others:
            cluster.psql("SELECT pg_reload_conf()")

    def restart(self):
        self._ctl("-l", self.logfile, "-w", "-t", "60", "-o", f"-p {self.port}", "restart")

    # ----- using it ----------------------------------------------------
    def psql(self, sql, dbname="postgres", user=None, check=True, env=None):
        """Run SQL through psql on the Unix socket; returns stdout (unaligned,
        tuples only). Raises with psql's stderr when check and it fails."""
        argv = [f"{self.bindir}/psql", "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", self.sockdir, "-p", str(self.port),
                "-U", user or self.superuser, "-d", dbname]
        proc = util.run(argv, check=check, input=sql, env=env)
        return proc.stdout if check else proc

    def dsn(self, user=None, password=None, dbname="postgres", sslmode="verify-full"):
        """A TCP conninfo string; the password, if any, only for test helpers."""
        params = {"host": self.host, "port": self.port, "dbname": dbname,
                  "user": user or self.superuser, "sslmode": sslmode}
        if sslmode in ("verify-ca", "verify-full"):
            params["sslrootcert"] = self.ca_cert
        if password is not None:
            params["password"] = password
        return " ".join(f"{k}='{quote_conninfo(v)}'" for k, v in params.items())

    def connect(self, user=None, dbname="postgres", password=None, sslmode="verify-full"):
        """A psycopg2 connection in autocommit mode. Without a password it
        goes through the Unix socket (trust); with one, over TCP with TLS."""
        import psycopg2
        if password is None:
            conn = psycopg2.connect(host=self.sockdir, port=self.port,
                                    user=user or self.superuser, dbname=dbname)
        else:
            conn = psycopg2.connect(self.dsn(user, password, dbname, sslmode))
        conn.autocommit = True
        return conn

    def log_text(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """A position in the server log, for log_since()."""
        try:
            return os.path.getsize(self.logfile)
        except FileNotFoundError:
            return 0

    def log_since(self, mark):
        with open(self.logfile, encoding="utf-8", errors="replace") as f:
            f.seek(mark)
            return f.read()

    # ----- sharing one running cluster between processes -------------------
    def state(self):
        return {"basedir": self.basedir, "port": self.port, "bindir": self.bindir,
                "preload": self.preload}

    @classmethod
    def from_state(cls, state):
        c = cls(basedir=state["basedir"], port=state["port"], preload=state["preload"])
        c.bindir = state["bindir"]
        c.running = True
        return c


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", required=True, help="JSON file describing the cluster")
    args = parser.parse_args(argv)
    if args.action == "start":
        cluster = Cluster().start()
        with open(args.state, "w") as f:
            json.dump(cluster.state(), f)
        print(f"export PGHOST={cluster.sockdir} PGPORT={cluster.port} "
              f"PGUSER={cluster.superuser}")
    else:
        if not os.path.exists(args.state):
            return 0
        with open(args.state) as f:
            Cluster.from_state(json.load(f)).stop()
        os.unlink(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
