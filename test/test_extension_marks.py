"""The allow-list and the mark follow the role, not its name (issue 17,
classes 2 and 8).

rotate.managed_role names a role; 1.1 also keeps its OID, and marks it
"listed in this database" with the per-database role setting
pg_rotate.managed = on (ALTER ROLE ... IN DATABASE ... SET), which every
database can read in pg_db_role_setting.  The self-change ban honours a
mark from any database; set_password needs the listed OID and this
database's mark.  Before 1.1 the mark was one cluster-wide setting, set by
name when listed and cleared by the first database to unlist the role:
it missed roles listed before they existed, a new role that took a dropped
or renamed role's name, a role still listed elsewhere, and the roles of a
SQL-only database in a preloaded cluster.
"""


import pytest

from extension_util import random_password, scram_verifier
from policy_site import Site, assert_refused, attempt_takeover


@pytest.fixture
def preloaded(pg):
    s = Site(pg)
    try:
        yield s
    finally:
        s.drop()


def self_change(s, role, dbname):
    """role sets its own password in dbname: the error, or None."""
    password = random_password()
    s.pg.psql(f"ALTER ROLE {role} PASSWORD '{scram_verifier(password)}'")
    return s.run(f"ALTER ROLE {role} PASSWORD '{scram_verifier(random_password())}'",
                 user=role, password=password, dbname=dbname)


def marks(s, role):
    """The databases whose mark role carries ('-' for the cluster-wide one)."""
    return s.query("SELECT coalesce(string_agg(coalesce(d.datname, '-'), ','"
                   " ORDER BY coalesce(d.datname, '-')), '')"
                   " FROM pg_db_role_setting r LEFT JOIN pg_database d ON d.oid = r.setdatabase,"
                   " unnest(r.setconfig) c"
                   f" WHERE r.setrole = '{role}'::regrole AND c = 'pg_rotate.managed=on'")


def relist_and_rotate(s, role):
    """What the refusals' hint says to run; then role is rotated."""
    s.pg.psql(f"UPDATE rotate.managed_role SET role_name = role_name"
              f" WHERE role_name = '{role}'", dbname=s.db)
    assert attempt_takeover(s, role) == (None, True)


def test_only_an_existing_role_can_be_listed(site):
    """A name is not a role: listing one before it exists would leave the
    role that later takes the name unmarked."""
    name = site.name("later")
    site.made.append(name)
    assert_refused(site.list_role(name), "42704", f'role "{name}" does not exist',
                   "Create the role first")
    site.pg.psql(f"CREATE ROLE {name} LOGIN")
    assert site.list_role(name) is None
    assert site.query(f"SELECT role_oid = '{name}'::regrole FROM rotate.managed_role"
                      f" WHERE role_name = '{name}'") == "t"


def test_a_new_role_with_a_dropped_roles_name_is_not_managed(site):
    app = site.create_role("app")
    assert site.list_role(app) is None
    site.pg.psql(f"DROP ROLE {app}; CREATE ROLE {app} LOGIN")
    err, logged_in = attempt_takeover(site, app)
    assert_refused(err, "42501", f'role "{app}" is not managed by pg_rotate',
                   "was dropped or renamed",
                   f"UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = '{app}'")
    assert not logged_in
    if site.flavour == "c":
        assert site.denied_reasons(app)[-1] == "listed_role_replaced"
    # listed again, it is this role that is managed
    relist_and_rotate(site, app)


def test_set_password_refuses_a_role_whose_mark_is_missing(site):
    """Without the mark nothing keeps the role from changing its own
    password in another database: refuse, and say how to restore it."""
    app = site.create_role("app")
    assert site.list_role(app) is None
    assert marks(site, app) == site.db
    site.pg.psql(f"ALTER ROLE {app} IN DATABASE {site.db} RESET pg_rotate.managed;"
                 f"ALTER ROLE {app} RESET pg_rotate.managed")
    err, logged_in = attempt_takeover(site, app)
    assert_refused(err, "55000", f'role "{app}" is not marked as managed in database "{site.db}"',
                   f"UPDATE rotate.managed_role SET role_name = role_name WHERE role_name = '{app}'")
    assert not logged_in
    if site.flavour == "c":
        assert site.denied_reasons(app)[-1] == "not_marked"
    relist_and_rotate(site, app)
    assert marks(site, app) == site.db


def test_unlisting_in_one_database_keeps_the_ban_of_another(preloaded, plain_db):
    s = preloaded
    other = Site(s.pg)
    try:
        app = s.create_role("app")
        assert s.list_role(app) is None and other.list_role(app) is None
        assert marks(s, app) == ",".join(sorted([s.db, other.db]))
        s.run(f"DELETE FROM rotate.managed_role WHERE role_name = '{app}'")
        assert marks(s, app) == other.db
        assert_refused(self_change(s, app, plain_db), "42501",
                       f'role "{app}" cannot change its own password')
        other.run(f"DELETE FROM rotate.managed_role WHERE role_name = '{app}'")
        assert marks(s, app) == ""
        assert self_change(s, app, plain_db) is None
    finally:
        other.drop()


def test_truncating_the_list_clears_this_databases_marks(preloaded):
    s = preloaded
    app = s.create_role("app")
    assert s.list_role(app) is None
    s.run("TRUNCATE rotate.managed_role")
    assert marks(s, app) == ""


def test_a_sql_flavour_database_in_a_preloaded_cluster_marks_its_roles(pg, plain_db):
    s = Site(pg, "sql")
    try:
        app = s.create_role("app")
        assert s.list_role(app) is None
        assert marks(s, app) == s.db
        assert_refused(self_change(s, app, plain_db), "42501",
                       f'role "{app}" cannot change its own password')
    finally:
        s.drop()


def test_renaming_a_managed_role(preloaded, plain_db):
    """ALTER ROLE ... RENAME clears an MD5 password (the name is its salt):
    a CREATEROLE role may not do it to a managed role; a superuser may, and
    it is recorded.  The mark follows the role; the listing, by name, goes
    stale until a superuser updates it."""
    s = preloaded
    app = s.create_role("app")
    creator = s.create_role("creator", "CREATEROLE LOGIN")
    assert s.list_role(app) is None
    s.pg.psql(f"SET password_encryption = 'md5'; ALTER ROLE {app} PASSWORD 'md5-before-rename'")
    creator_password = random_password()
    s.pg.psql(f"ALTER ROLE {creator} PASSWORD '{scram_verifier(creator_password)}'")

    err = s.run(f"ALTER ROLE {app} RENAME TO {app}_new", user=creator, password=creator_password)
    assert_refused(err, "42501", f'permission denied to rename managed role "{app}"',
                   f'Role "{app}" is managed by pg_rotate')
    assert s.denied_reasons(app)[-1] == "rename"
    assert s.query(f"SELECT rolpassword LIKE 'md5%' FROM pg_authid WHERE rolname = '{app}'") == "t"

    assert s.run(f"ALTER ROLE {app} RENAME TO {app}_new") is None
    row = s.query("SELECT event || ' ' || (detail->>'old_name') || ' '"
                  " || (detail->>'password_cleared') FROM rotate.audit_log"
                  " ORDER BY id DESC LIMIT 1")
    assert row == f"direct_change {app} true"
    s.made.append(f"{app}_new")
    assert_refused(self_change(s, f"{app}_new", plain_db), "42501", "cannot change its own password")
    err, _ = attempt_takeover(s, f"{app}_new")
    assert_refused(err, "42501", f'role "{app}_new" is not managed by pg_rotate')


def test_the_sql_flavour_cannot_refuse_a_rename_but_the_listing_goes_stale(bare_pg):
    """Documented gap: without the C hook a CREATEROLE role can rename a
    managed role (clearing an MD5 password unaudited).  What the SQL-only
    flavour can do: neither name is rotated afterwards."""
    s = Site(bare_pg, "sql")
    try:
        app = s.create_role("app")
        assert s.list_role(app) is None
        assert s.run(f"ALTER ROLE {app} RENAME TO {app}_new") is None
        s.made.append(f"{app}_new")
        assert_refused(attempt_takeover(s, f"{app}_new")[0], "42501",
                       f'role "{app}_new" is not managed by pg_rotate')
        assert_refused(attempt_takeover(s, app)[0], "42704", f'role "{app}" does not exist')
    finally:
        s.drop()


def test_a_1_0_database_runs_under_the_1_1_library_with_its_rules(pg, plain_db):
    """One library serves every installed version: a database still at 1.0
    (its tables name roles only) gets 1.1's checks from the library's
    functions and hooks - listing, marks by database, membership, and a
    role re-created under a listed name is not rotated."""
    s = Site(pg, version="1.0")
    try:
        app = s.create_role("app")
        su = s.create_role("su", "SUPERUSER NOLOGIN")
        assert_refused(s.list_role(s.name("nobody")), "42704", "does not exist")
        assert s.list_role(app) is None
        assert marks(s, app) == s.db
        assert attempt_takeover(s, app) == (None, True)
        assert_refused(self_change(s, app, plain_db), "42501", "cannot change its own password")
        assert_refused(s.run(f"GRANT {su} TO {app}"), "42501",
                       f'managed role "{app}" cannot become a member of role "{su}"')
        s.pg.psql(f"DROP ROLE {app}; CREATE ROLE {app} LOGIN")
        err, logged_in = attempt_takeover(s, app)
        assert_refused(err, "55000", f'role "{app}" is not marked as managed')
        assert not logged_in
    finally:
        s.drop()
