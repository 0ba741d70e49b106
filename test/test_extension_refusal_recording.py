"""Refusals that leave a row (issue 17, class 4).

C flavour: a refusal is saved to disk before its ERROR, then chained by the
audit writer in a transaction of its own, or by the next write to the log
when the writer cannot do it now. Each case below left only a server-log
line before: a refusal after an audit write in the same transaction, while
another session holds the chain lock, while an unprivileged role's parallel
queries hold every background worker slot, under a tiny statement_timeout,
and in a database whose non-superuser owner made it read-only and closed it
to connections.

SQL-only flavour: the refusal's row cannot outlive its ERROR; the refusal is
counted (a sequence survives the rollback) and the next write records how
many were missed. In a read-only transaction not even that is possible: a
test documents the gap.
"""

import contextlib
import os
import threading
import uuid

import psycopg2
import pytest

from extension_util import Roles, random_password, scram_verifier
from harness.pgcluster import Cluster
from harness.util import wait_until


def refuse(conn, target):
    """A set_password the policy refuses (not a verifier); returns the error."""
    with pytest.raises(psycopg2.Error) as err:
        with conn.cursor() as cur:
            cur.execute("SELECT rotate.set_password(%s, 'plaintext')", (target,))
    return err.value


def set_password(conn, target, version="v-ok"):
    with conn.cursor() as cur:
        cur.execute("SELECT rotate.set_password(%s, %s, 'arn:rec', %s)",
                    (target, scram_verifier(random_password()), version))
        return cur.fetchone()[0]


def events(pg, db):
    """(id, event, target, reason) of every row after the allow-list's."""
    out = pg.psql("SELECT id, event, coalesce(target, ''), coalesce(detail->>'reason', '')"
                  " FROM rotate.audit_log WHERE event NOT LIKE 'role_%' ORDER BY id",
                  dbname=db)
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def denials(pg, db, target):
    return [e[3] for e in events(pg, db) if e[1] == "denied" and e[2] == target]


def chain_ok(pg, db):
    return pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=db).strip() == "t"


def rotator_conn(pg, roles, db):
    return pg.connect(user=roles.rotator, dbname=db, password=roles.rotator_password)


def assert_chained_before(pg, db, target, later_id):
    """The refusal of target is in the chain, before row later_id."""
    rows = [e for e in events(pg, db) if e[1] == "denied" and e[2] == target]
    assert [r[3] for r in rows] == ["not_managed"], events(pg, db)
    assert int(rows[0][0]) < later_id
    assert chain_ok(pg, db)


# ----- C flavour ------------------------------------------------------------

def audit_writers(pg):
    return int(pg.psql("SELECT count(*) FROM pg_stat_activity"
                       " WHERE backend_type = 'pg_rotate audit writer'").strip())


def test_refusal_after_an_audit_write_in_the_same_transaction(pg, fresh_db):
    """The caller holds the chain lock: one writer waits for the caller's
    transaction to end, and chains its refusals then."""
    roles = Roles(pg, fresh_db, targets=1)
    try:
        conn = rotator_conn(pg, roles, fresh_db)
        conn.autocommit = False
        set_password(conn, roles.targets[0])
        mark = pg.log_mark()
        for i in range(3):
            with conn.cursor() as cur:
                cur.execute(f"SAVEPOINT s{i}")
            err = refuse(conn, roles.unmanaged)
            assert err.pgcode == "42501", err.pgerror
            assert "is not managed by pg_rotate" in err.pgerror
            with conn.cursor() as cur:
                cur.execute(f"ROLLBACK TO SAVEPOINT s{i}")
        wait_until(lambda: audit_writers(pg) == 1, what="the writer waiting for the caller")
        assert audit_writers(pg) == 1
        conn.rollback()
        wait_until(lambda: denials(pg, fresh_db, roles.unmanaged) == ["not_managed"] * 3,
                   what="the audit writer to chain the refusals")
        assert chain_ok(pg, fresh_db)
        assert "this transaction has written audit rows that are not committed yet" \
            in pg.log_since(mark)
        conn.close()
    finally:
        roles.drop(fresh_db)


def test_refusal_while_another_session_holds_the_chain_lock(pg, fresh_db):
    """The writer gives up after pg_rotate.writer_timeout; the refusal waits
    on disk and the next write chains it before its own row."""
    pg.psql(f"ALTER DATABASE {fresh_db} SET pg_rotate.writer_timeout = 1")
    roles = Roles(pg, fresh_db, targets=1)
    holder = pg.connect(dbname=fresh_db)
    holder.autocommit = False
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE rotate.audit_log IN SHARE ROW EXCLUSIVE MODE")
        conn = rotator_conn(pg, roles, fresh_db)
        mark = pg.log_mark()
        err = refuse(conn, roles.unmanaged)
        assert err.pgcode == "42501", err.pgerror
        log = pg.log_since(mark)
        holder.commit()
        assert denials(pg, fresh_db, roles.unmanaged) == []
        assert_chained_before(pg, fresh_db, roles.unmanaged,
                              set_password(conn, roles.targets[0]))
        assert "The refusal is kept in pending record" in log
        assert "the audit writer failed" in log
        assert "canceling statement due to lock timeout" in log
        conn.close()
    finally:
        holder.rollback()
        holder.close()
        roles.drop(fresh_db)


def test_refusal_in_a_database_its_owner_made_read_only_and_closed(pg):
    """A non-superuser database owner sets default_transaction_read_only and
    ALLOW_CONNECTIONS false: the writer takes its own settings and still
    connects, and the refusal is chained at once."""
    tag = uuid.uuid4().hex[:8]
    owner, db = f"regress_dbowner_{tag}", f"t_ro_{tag}"
    pg.psql(f"CREATE ROLE {owner} LOGIN; CREATE DATABASE {db} OWNER {owner}")
    pg.psql("CREATE EXTENSION pg_rotate", dbname=db)
    roles = Roles(pg, db, targets=1)
    watcher = pg.connect(dbname=db)
    try:
        pg.psql(f"ALTER DATABASE {db} SET default_transaction_read_only = on", user=owner)
        conn = rotator_conn(pg, roles, db)
        with conn.cursor() as cur:
            cur.execute("SHOW transaction_read_only")
            assert cur.fetchone()[0] == "on"
        pg.psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS false", user=owner)
        err = refuse(conn, roles.unmanaged)
        assert err.pgcode == "42501", err.pgerror
        with watcher.cursor() as cur:
            cur.execute("SELECT detail->>'reason' FROM rotate.audit_log"
                        " WHERE event = 'denied' AND target = %s", (roles.unmanaged,))
            assert cur.fetchall() == [("not_managed",)]
            cur.execute("SELECT ok FROM rotate.verify_audit_log()")
            assert cur.fetchone()[0] is True
        conn.close()
    finally:
        watcher.close()
        pg.psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true", check=False)
        roles.drop(db)
        pg.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", check=False)
        pg.psql(f"DROP ROLE IF EXISTS {owner}", check=False)


def test_refusal_that_cannot_be_saved_is_counted_and_recorded_by_the_next_write(pg, fresh_db):
    """The last resort: the pending record cannot be written (here the
    directory is not writable; a full disk does the same), so the refusal
    is counted, and the next write records the count."""
    roles = Roles(pg, fresh_db, targets=1)
    pending = os.path.join(pg.datadir, "pg_rotate", "pending")
    try:
        conn = rotator_conn(pg, roles, fresh_db)
        refuse(conn, roles.unmanaged)        # the directory exists from now on
        os.chmod(pending, 0o500)
        mark = pg.log_mark()
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        os.chmod(pending, 0o700)
        later = set_password(conn, roles.targets[0])
        rows = events(pg, fresh_db)
        assert [(e[1], e[2], e[3]) for e in rows][-3:] == [
            ("denied", roles.unmanaged, "not_managed"), ("refusals_unrecorded", "", ""),
            ("password_set", roles.targets[0], "")]
        assert int(rows[-1][0]) == later
        assert pg.psql("SELECT detail FROM rotate.audit_log WHERE event = 'refusals_unrecorded'",
                       dbname=fresh_db).strip() == '{"count": 1, "through": 1}'
        assert chain_ok(pg, fresh_db)
        assert "The refusal could not be saved (Permission denied); it was counted" \
            in pg.log_since(mark)
        conn.close()
    finally:
        os.chmod(pending, 0o700)
        roles.drop(fresh_db)


def test_an_unreadable_pending_record_stops_the_log_until_moved_away(pg, fresh_db):
    """Skipping a record would lose a refusal: every write fails, naming
    the file, until someone moves it away."""
    roles = Roles(pg, fresh_db, targets=1)
    dboid = pg.psql(f"SELECT oid FROM pg_database WHERE datname = '{fresh_db}'").strip()
    bad = os.path.join(pg.datadir, "pg_rotate", "pending", f"{dboid}-1-1")
    try:
        conn = rotator_conn(pg, roles, fresh_db)
        refuse(conn, roles.unmanaged)        # the directory exists from now on
        with open(bad, "w") as f:
            f.write("not a pending refusal record\n")
        with pytest.raises(psycopg2.Error) as err:
            set_password(conn, roles.targets[0])
        assert err.value.pgcode == "XX001", err.value.pgerror
        assert f'pending refusal record "pg_rotate/pending/{dboid}-1-1" is corrupt' \
            in err.value.pgerror
        os.unlink(bad)
        set_password(conn, roles.targets[0])
        assert chain_ok(pg, fresh_db)
        conn.close()
    finally:
        if os.path.exists(bad):
            os.unlink(bad)
        roles.drop(fresh_db)


def test_a_database_still_at_1_0_keeps_its_refusals(pg):
    """One library serves every installed version: a 1.0 database (no
    refusal counter) still gets its refusals kept on disk and chained."""
    db = "t_" + uuid.uuid4().hex[:12]
    pg.psql(f"CREATE DATABASE {db}")
    pg.psql("CREATE EXTENSION pg_rotate VERSION '1.0'", dbname=db)
    roles = Roles(pg, db, targets=1)
    holder = pg.connect(dbname=db)
    holder.autocommit = False
    try:
        pg.psql(f"ALTER DATABASE {db} SET pg_rotate.writer_timeout = 1")
        conn = rotator_conn(pg, roles, db)
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        assert denials(pg, db, roles.unmanaged) == ["not_managed"]
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE rotate.audit_log IN SHARE ROW EXCLUSIVE MODE")
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        holder.commit()
        later = set_password(conn, roles.targets[0])
        assert denials(pg, db, roles.unmanaged) == ["not_managed", "not_managed"]
        assert int(events(pg, db)[-1][0]) == later
        assert chain_ok(pg, db)
        conn.close()
    finally:
        holder.rollback()
        holder.close()
        roles.drop(db)
        pg.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", check=False)


@pytest.fixture(scope="module")
def few_slots():
    """A cluster of its own with four background worker slots (the logical
    replication launcher takes one) and a 1 s pg_rotate.writer_timeout, a
    database with the extension and an unprivileged role."""
    cluster = Cluster().start()
    try:
        cluster.psql("ALTER SYSTEM SET max_worker_processes = 4;"
                     "ALTER SYSTEM SET pg_rotate.writer_timeout = 1")
        cluster.restart()
        cluster.psql("CREATE DATABASE t_slots")
        cluster.psql("CREATE EXTENSION pg_rotate", dbname="t_slots")
        cluster.psql("CREATE ROLE regress_lowly LOGIN")
        yield cluster
    finally:
        cluster.stop()


def parallel_workers(pg):
    return int(pg.psql("SELECT count(*) FROM pg_stat_activity"
                       " WHERE backend_type = 'parallel worker'").strip())


@contextlib.contextmanager
def slots_held_by_parallel_queries(pg, db):
    """An unprivileged role's parallel scan holds every free worker slot for
    a few seconds: any role may run parallel queries and make them slow."""
    errors = []

    def scan():
        try:
            conn = pg.connect(user="regress_lowly", dbname=db)
            with conn.cursor() as cur:
                cur.execute("SET max_parallel_workers_per_gather = 8;"
                            "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
                            "SET min_parallel_table_scan_size = 0;"
                            "SELECT count(*) FROM pg_catalog.pg_attribute"
                            " WHERE pg_sleep(0.005) IS NOT NULL")
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    thread = threading.Thread(target=scan)
    thread.start()
    try:
        wait_until(lambda: parallel_workers(pg) == 3, what="parallel workers in every free slot")
        yield
    finally:
        thread.join(timeout=120)
        assert not errors, errors


def test_refusal_while_an_unprivileged_role_holds_every_worker_slot(few_slots):
    pg, db = few_slots, "t_slots"
    roles = Roles(pg, db, targets=1)
    try:
        conn = rotator_conn(pg, roles, db)
        with slots_held_by_parallel_queries(pg, db):
            mark = pg.log_mark()
            err = refuse(conn, roles.unmanaged)
            assert err.pgcode == "42501", err.pgerror
            assert denials(pg, db, roles.unmanaged) == []
            log = pg.log_since(mark)
        assert_chained_before(pg, db, roles.unmanaged, set_password(conn, roles.targets[0]))
        assert "no background worker slot came free" in log
        conn.close()
    finally:
        roles.drop(db)


def test_refusal_under_a_tiny_statement_timeout(few_slots):
    """The caller is cancelled while it waits for a worker slot: the refusal
    was saved before, and the next write chains it."""
    pg, db = few_slots, "t_slots"
    roles = Roles(pg, db, targets=1)
    try:
        conn = rotator_conn(pg, roles, db)
        with slots_held_by_parallel_queries(pg, db):
            with conn.cursor() as cur:
                cur.execute("SET statement_timeout = '200ms'")
            err = refuse(conn, roles.unmanaged)
            assert err.pgcode == "57014", err.pgerror
            with conn.cursor() as cur:
                cur.execute("RESET statement_timeout")
        assert_chained_before(pg, db, roles.unmanaged, set_password(conn, roles.targets[0]))
        conn.close()
    finally:
        roles.drop(db)


# ----- SQL-only flavour -----------------------------------------------------

def unrecorded(pg, db):
    """(count, through) of every refusals_unrecorded row."""
    out = pg.psql("SELECT detail->>'count', detail->>'through' FROM rotate.audit_log"
                  " WHERE event = 'refusals_unrecorded' ORDER BY id", dbname=db)
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def test_sql_flavour_counts_refusals_and_the_next_write_records_them(bare_pg, sql_db):
    """A refusal after a write in the same transaction and one while another
    session holds the chain lock: each is counted past its rollback, and the
    next write records how many, before its own row."""
    pg = bare_pg
    roles = Roles(pg, sql_db, targets=1)
    holder = pg.connect(dbname=sql_db)
    holder.autocommit = False
    try:
        conn = rotator_conn(pg, roles, sql_db)
        conn.autocommit = False
        set_password(conn, roles.targets[0])
        mark = pg.log_mark()
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        conn.rollback()
        conn.autocommit = True
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE rotate.audit_log IN SHARE ROW EXCLUSIVE MODE")
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        holder.commit()
        assert unrecorded(pg, sql_db) == []
        later = set_password(conn, roles.targets[0])
        rows = events(pg, sql_db)
        assert [(e[1], e[2]) for e in rows][-2:] == [("refusals_unrecorded", ""),
                                                    ("password_set", roles.targets[0])]
        assert int(rows[-1][0]) == later
        assert unrecorded(pg, sql_db) == [("2", "2")]
        assert chain_ok(pg, sql_db)
        assert "counted in rotate.unrecorded_refusal_seq" in pg.log_since(mark)
        conn.close()
    finally:
        holder.rollback()
        holder.close()
        roles.drop(sql_db)


def test_sql_flavour_cannot_count_a_refusal_in_a_read_only_transaction(bare_pg, sql_db):
    """Documented gap: nothing can be written in a read-only transaction,
    not even the count. The refusal is in the server log only."""
    pg = bare_pg
    roles = Roles(pg, sql_db, targets=1)
    try:
        conn = rotator_conn(pg, roles, sql_db)
        with conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = on")
        mark = pg.log_mark()
        assert refuse(conn, roles.unmanaged).pgcode == "42501"
        assert "not counted: the transaction is read-only" in pg.log_since(mark)
        with conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = off")
        set_password(conn, roles.targets[0])
        assert unrecorded(pg, sql_db) == []
        assert chain_ok(pg, sql_db)
        conn.close()
    finally:
        roles.drop(sql_db)
