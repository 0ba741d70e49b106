"""pytest fixtures shared by every pg_rotate integration test.

  pg        the throwaway PostgreSQL cluster (reused from test/run-checks.sh
            when PG_ROTATE_CLUSTER_STATE names its state file)
  fresh_db  a new database with the extension created, dropped afterwards
  plain_db  a new database without the extension, dropped afterwards
  site      a database with the extension in each flavour (policy_site.py)
  sql_db    the same with the SQL-only flavour, in bare_pg (no preload)
  moto      moto_server on loopback, auth off (see harness.motoserver)
  client_bin the built pg_rotate program
  scenario  a database with the app and rotator roles and their two
            secrets, moto's signature and IAM checks on (harness.scenario)
  pgtle_install  PostgreSQL with pg_tle, built once per session (pgtle.py);
            skipped, with the reason, where pg_tle's source is absent
  tle_pg    a cluster of its own on it, pg_tle preloaded, password checks
            required, for a module
"""

import json
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import util  # noqa: E402
from harness.motoserver import MotoServer  # noqa: E402
from harness.pgcluster import Cluster  # noqa: E402
from harness.scenario import Scenario  # noqa: E402
from policy_site import SITES, Site  # noqa: E402


@pytest.fixture(scope="session")
def pg():
    state_file = os.environ.get("PG_ROTATE_CLUSTER_STATE")
    if state_file:
        with open(state_file) as f:
            yield Cluster.from_state(json.load(f))
        return
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(autouse=True)
def _server_log_on_failure(request):
    """After a failed test that used the cluster, show the server log lines
    it produced, redacted: the failure may be a leak check's."""
    name = next((n for n in ("pg", "tle_pg") if n in request.fixturenames), None)
    if name is None:
        yield
        return
    cluster = request.getfixturevalue(name)
    mark = cluster.log_mark()
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write("\n--- server log during the test ---\n")
        sys.stderr.write(util.redact(cluster.log_since(mark))[-8000:])


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def fresh_db(pg):
    name = "t_" + uuid.uuid4().hex[:12]
    pg.psql(f"CREATE DATABASE {name}")
    pg.psql("CREATE EXTENSION pg_rotate", dbname=name)
    try:
        yield name
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def plain_db(pg):
    """A database without pg_rotate, in the preloaded cluster."""
    name = "plain_" + uuid.uuid4().hex[:12]
    pg.psql(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=SITES)
def site(request):
    """A policy_site.Site for each place the policy runs: the C flavour in
    the preloaded cluster, the C and SQL-only flavours in bare_pg."""
    pg = request.getfixturevalue("pg" if request.param == "c-preloaded" else "bare_pg")
    s = Site(pg, request.param.split("-")[0])
    try:
        yield s
    finally:
        s.drop()


@pytest.fixture
def sql_db(bare_pg):
    import sql_flavour
    name = "t_" + uuid.uuid4().hex[:12]
    bare_pg.psql(f"CREATE DATABASE {name}")
    sql_flavour.create_sql_flavour(bare_pg, name)
    try:
        yield name
    finally:
        bare_pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def moto():
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_clean(moto):
    """moto with no resources left from other tests, auth off afterwards."""
    moto.reset()
    try:
        yield moto
    finally:
        moto.disable_auth()


@pytest.fixture
def scenario(pg, moto_clean):
    s = Scenario(pg, moto_clean).setup()
    s.enable_auth()
    try:
        yield s
    finally:
        s.teardown()


@pytest.fixture(scope="session")
def client_bin():
    path = os.path.join(util.REPO, "client", "pg_rotate")
    if not os.access(path, os.X_OK):
        pytest.fail("client/pg_rotate is not built: run \"make\" first")
    return path


@pytest.fixture(scope="session")
def leaks():
    """One leakscan.Collector for the whole run: the reliability tests add
    the secrets they make and the texts they produce; test_reliability_leaks
    scans them. Samples every process's argv while the session lasts."""
    from harness.leakscan import Collector
    collector = Collector().start_sampling()
    try:
        yield collector
    finally:
        collector.stop_sampling()


@pytest.fixture(scope="module")
def bare_pg():
    """A cluster of its own without shared_preload_libraries, for a module."""
    cluster = Cluster(preload=False).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pgtle_install():
    import pgtle
    why = pgtle.unavailable()
    if why:
        pytest.skip(why)
    before = pgtle.extension_files()
    install = pgtle.build_install()
    sys.stderr.write(f"\npg_tle built in {install.build_seconds:.1f} s\n")
    try:
        # the build leaves the system's installation as it found it
        assert pgtle.extension_files() == before
        yield install
    finally:
        install.remove()


@pytest.fixture(scope="module")
def tle_pg(pgtle_install):
    import pgtle
    before = pgtle.extension_files()
    cluster = pgtle_install.cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
    # and so do the module's tests, whatever flavour "make install" put there
    assert pgtle.extension_files() == before


def pytest_assertrepr_compare(op, left, right):
    """A failed comparison with a password explains itself without it
    (pytest's own explanation diffs the two strings' contents)."""
    if isinstance(left, util.Secret) or isinstance(right, util.Secret):
        return [f"<secret> {op} <secret>: values hidden"]
    return None
