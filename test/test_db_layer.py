"""client/db.c against the real test cluster.

Runs the cmocka program test/unit/test_db (built by "make unit" or here) with
the cluster's address, CA, socket directory and log, so its tests run instead
of skipping. It creates and drops its own database and regress_* roles, and
ends by checking that no password or verifier it used is in the server log.
"""

import os
import subprocess

from harness import util

TEST_DB = os.path.join(util.REPO, "test", "unit", "test_db")


def _build():
    sanitize = os.environ.get("SANITIZE", "0")
    util.run(["make", "-s", "-C", util.REPO, f"SANITIZE={sanitize}", "test/unit/test_db"],
             timeout=300)


def test_db_layer(pg):
    """Every cmocka test in test_db passes against the cluster."""
    _build()
    env = dict(os.environ,
               PGR_TEST_PGHOST=pg.host,
               PGR_TEST_PGPORT=str(pg.port),
               PGR_TEST_CA=pg.ca_cert,
               PGR_TEST_PGSOCKDIR=pg.sockdir,
               PGR_TEST_PGLOG=pg.logfile)
    env.pop("PGSSLROOTCERT", None)
    proc = subprocess.run([TEST_DB], env=env, capture_output=True, text=True, timeout=300)
    print(proc.stdout)
    print(proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "[  PASSED  ]" in out and "FAILED" not in out
    assert "are not all set" not in out  # really ran, did not skip


def test_db_layer_skips_without_server():
    """Without the environment the program skips and succeeds (make unit)."""
    _build()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGR_TEST_")}
    proc = subprocess.run([TEST_DB], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "skipped" in proc.stdout
