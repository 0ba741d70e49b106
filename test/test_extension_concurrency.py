"""Concurrent callers: calls for one role are serialized, denials written
by the audit writer interleave with successful calls, and the chain never
forks (every prev_hash is used once and verify_audit_log passes)."""

import threading

import psycopg2
import pytest

from extension_util import Roles, random_password, scram_verifier

THREADS = 8
CALLS = 12


def run_threads(fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a caller hung"
    assert not errors, errors


def test_concurrent_calls_keep_one_chain(pg, fresh_db):
    roles = Roles(pg, fresh_db, targets=2)
    verifiers = [scram_verifier(random_password()) for _ in range(4)]
    denied = [0] * THREADS
    try:
        def caller(i):
            conn = pg.connect(user=roles.rotator, dbname=fresh_db,
                              password=roles.rotator_password)
            with conn.cursor() as cur:
                for n in range(CALLS):
                    # half the threads hammer one role, half the other
                    target = roles.targets[i % 2]
                    if n % 3 == 2:
                        # a refusal inside a transaction that then rolls back
                        cur.execute("BEGIN")
                        try:
                            cur.execute("SELECT rotate.set_password(%s, 'plaintext')",
                                        (target,))
                        except Exception:
                            denied[i] += 1
                        cur.execute("ROLLBACK")
                    else:
                        cur.execute("SELECT rotate.set_password(%s, %s, 'arn:c', %s)",
                                    (target, verifiers[n % 4], f"t{i}-{n}"))
            conn.close()

        run_threads(caller)

        counts = dict(line.split("|") for line in pg.psql(
            "SELECT event, count(*) FROM rotate.audit_log GROUP BY 1", dbname=fresh_db).split())
        assert int(counts["denied"]) == sum(denied) == THREADS * (CALLS // 3)
        assert int(counts["password_set"]) == THREADS * CALLS - sum(denied)
        assert pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=fresh_db).strip() == "t"
        # no fork: no two rows chain onto the same predecessor
        assert pg.psql("SELECT count(*) - count(DISTINCT prev_hash) FROM rotate.audit_log",
                       dbname=fresh_db).strip() == "0"
    finally:
        roles.drop(fresh_db)


def test_calls_for_one_role_are_serialized(pg, fresh_db):
    """A call holding the role's lock makes the next caller wait; both succeed
    in order once the first commits."""
    roles = Roles(pg, fresh_db, targets=1)
    target = roles.targets[0]
    try:
        first = pg.connect(user=roles.rotator, dbname=fresh_db, password=roles.rotator_password)
        second = pg.connect(user=roles.rotator, dbname=fresh_db, password=roles.rotator_password)
        c1 = first.cursor()
        c1.execute("BEGIN")
        c1.execute("SELECT rotate.set_password(%s, %s)", (target, scram_verifier(random_password())))
        id1 = c1.fetchone()[0]
        result = {}

        def second_call():
            with second.cursor() as c2:
                c2.execute("SELECT rotate.set_password(%s, %s)",
                           (target, scram_verifier(random_password())))
                result["id"] = c2.fetchone()[0]

        t = threading.Thread(target=second_call)
        t.start()
        from harness.util import wait_until
        wait_until(lambda: pg.psql(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'object'"
            " AND classid = 'pg_authid'::regclass").strip() == "1",
            what="the second call to wait for the role lock")
        assert "id" not in result
        c1.execute("COMMIT")
        t.join(timeout=30)
        assert result["id"] > id1
        first.close()
        second.close()
        assert pg.psql("SELECT ok FROM rotate.verify_audit_log()", dbname=fresh_db).strip() == "t"
    finally:
        roles.drop(fresh_db)


def test_denials_wait_for_a_worker_slot():
    """With one background worker slot for everyone, concurrent refusals
    queue for it: every one still leaves its "denied" row."""
    from harness.pgcluster import Cluster
    cluster = Cluster().start()
    try:
        # the logical replication launcher takes one of the two slots
        cluster.psql("ALTER SYSTEM SET max_worker_processes = 2")
        cluster.restart()
        cluster.psql("CREATE EXTENSION pg_rotate")
        roles = Roles(cluster, "postgres", targets=1)
        barrier = threading.Barrier(THREADS)
        mark = cluster.log_mark()

        def refuse(i):
            conn = cluster.connect(user=roles.rotator, password=roles.rotator_password)
            conn.autocommit = True
            with conn.cursor() as cur:
                barrier.wait()
                with pytest.raises(psycopg2.Error):
                    cur.execute("SELECT rotate.set_password(%s, 'plaintext')",
                                (roles.targets[0],))
            conn.close()

        run_threads(refuse)
        assert cluster.psql("SELECT count(*) FROM rotate.audit_log"
                            " WHERE event = 'denied'").strip() == str(THREADS)
        assert "No background worker slot" not in cluster.log_since(mark)
        assert cluster.psql("SELECT ok FROM rotate.verify_audit_log()").strip() == "t"
    finally:
        cluster.stop()
