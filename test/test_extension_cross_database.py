"""A role belongs to the whole cluster: a managed role may not change its own
password in a database without pg_rotate either. The allow-list marks the
role as listed in its database (pg_rotate.managed, a per-database role
setting every database can read), the mark follows the list, and the role
cannot clear it.  test_extension_marks.py follows the mark through renames,
drops and several databases."""

import psycopg2
import pytest

from extension_util import Roles, random_password, scram_verifier


def alter_own_password(pg, role, password, dbname, new_password):
    conn = pg.connect(user=role, password=password, dbname=dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"ALTER ROLE {role} PASSWORD %s", (scram_verifier(new_password),))
    finally:
        conn.close()


def mark(pg, role):
    """The role's pg_rotate settings, from any database."""
    return pg.psql("SELECT coalesce(string_agg(c, ','), '') FROM pg_db_role_setting s,"
                   f" unnest(s.setconfig) c WHERE s.setrole = '{role}'::regrole"
                   " AND c LIKE 'pg_rotate.%'").strip()


def test_managed_role_cannot_change_its_password_in_a_database_without_pg_rotate(
        pg, fresh_db, plain_db):
    roles = Roles(pg, fresh_db, targets=1)
    app = roles.targets[0]
    password = random_password()
    try:
        pg.psql(f"GRANT CONNECT ON DATABASE {plain_db} TO {app};"
                f"ALTER ROLE {app} PASSWORD '{scram_verifier(password)}'")
        assert mark(pg, app) == "pg_rotate.managed=on"

        with pytest.raises(psycopg2.Error) as err:
            alter_own_password(pg, app, password, plain_db, random_password())
        assert err.value.pgcode == "42501"
        assert f'role "{app}" cannot change its own password' in str(err.value)
        # the old password still works
        pg.connect(user=app, password=password, dbname=plain_db).close()

        # nor can it clear its own mark, by name or with RESET ALL
        conn = pg.connect(user=app, password=password, dbname=plain_db)
        conn.autocommit = True
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.Error) as err:
                cur.execute(f"ALTER ROLE {app} IN DATABASE {fresh_db} RESET pg_rotate.managed")
            assert err.value.pgcode == "42501"
            cur.execute(f"ALTER ROLE {app} IN DATABASE {fresh_db} RESET ALL")
            cur.execute(f"ALTER ROLE {app} RESET ALL")
        conn.close()
        assert mark(pg, app) == "pg_rotate.managed=on"

        # off the allow-list, the mark goes and the role is on its own again
        pg.psql(f"DELETE FROM rotate.managed_role WHERE role_name = '{app}'", dbname=fresh_db)
        assert mark(pg, app) == ""
        pg.psql(f"ALTER ROLE {app} PASSWORD '{scram_verifier(password)}'")
        alter_own_password(pg, app, password, plain_db, random_password())
        events = pg.psql("SELECT string_agg(event, ',' ORDER BY id) FROM rotate.audit_log"
                         f" WHERE target = '{app}'", dbname=fresh_db).strip()
        assert events == "role_added,role_removed"
    finally:
        roles.drop(fresh_db)


def test_superuser_change_in_a_database_without_pg_rotate_warns(pg, fresh_db, plain_db):
    roles = Roles(pg, fresh_db, targets=1)
    app = roles.targets[0]
    try:
        conn = pg.connect(dbname=plain_db)
        with conn.cursor() as cur:
            cur.execute(f"ALTER ROLE {app} PASSWORD %s", (scram_verifier(random_password()),))
        conn.close()
        assert any(f'password of managed role "{app}" changed without an audit row' in n
                   for n in conn.notices)
    finally:
        roles.drop(fresh_db)


def test_renaming_an_allow_list_entry_moves_the_mark(pg, fresh_db):
    roles = Roles(pg, fresh_db, targets=2)
    first, second = roles.targets
    try:
        pg.psql(f"DELETE FROM rotate.managed_role WHERE role_name = '{second}'", dbname=fresh_db)
        assert mark(pg, second) == ""
        pg.psql(f"UPDATE rotate.managed_role SET role_name = '{second}'"
                f" WHERE role_name = '{first}'", dbname=fresh_db)
        assert mark(pg, first) == ""
        assert mark(pg, second) == "pg_rotate.managed=on"
        # a name that is no role (yet) cannot be listed: that role would be unmarked
        proc = pg.psql("INSERT INTO rotate.managed_role (role_name)"
                       " VALUES ('regress_no_such_role')", dbname=fresh_db, check=False)
        assert proc.returncode == 3
        assert 'role "regress_no_such_role" does not exist' in proc.stderr
    finally:
        roles.drop(fresh_db)
