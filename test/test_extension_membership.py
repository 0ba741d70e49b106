"""Privilege through membership and ownership (issue 17, classes 1 and 6).

A rotation role holds EXECUTE on set_password and nothing else; it must
never gain more than the target's own, ordinary privileges.  Before 1.1 the
policy looked at the target's own attributes only: a listed role that could
become a superuser (SET ROLE), a member of pg_execute_server_program (COPY
... TO PROGRAM), of a CREATEROLE role (an unmanaged clone login), or the
owner of the database holding the audit log (DROP DATABASE) was rotated,
and the rotation role then logged in as it.

Each case is tried twice, in every flavour (policy_site.SITES):
  - the role reaches the forbidden role before it is listed: the listing is
    refused (the allow-list's trigger);
  - it gets there after it is listed: with the hooks on, the GRANT itself is
    refused; without them, set_password refuses and records it (C), and the
    rotation role never logs in with a password of its choosing.
"""

import pytest

from policy_site import assert_refused, attempt_takeover


def superuser_role(s, app):
    su = s.create_role("su", "SUPERUSER NOLOGIN")
    return su, [f"GRANT {su} TO {app}"], f'role "{su}" has the SUPERUSER attribute'


def execute_server_program(s, app):
    return ("pg_execute_server_program", [f"GRANT pg_execute_server_program TO {app}"],
            'role "pg_execute_server_program" lets its members run programs on the database server')


def createrole_role(s, app):
    creator = s.create_role("creator", "CREATEROLE NOLOGIN")
    return creator, [f"GRANT {creator} TO {app}"], f'role "{creator}" has the CREATEROLE attribute'


def chain_of_three(s, app):
    """app -> r1 -> r2 -> a superuser role; the links nearest the superuser
    are made first, so only the last one involves the managed role."""
    su = s.create_role("chain_su", "SUPERUSER NOLOGIN")
    r1 = s.create_role("chain_r1", "NOLOGIN")
    r2 = s.create_role("chain_r2", "NOLOGIN")
    s.pg.psql(f"GRANT {su} TO {r2}; GRANT {r2} TO {r1}")
    return su, [f"GRANT {r1} TO {app}"], f'role "{su}" has the SUPERUSER attribute'


def noinherit_member(s, app):
    """NOINHERIT: the member does not use the role's privileges until it
    runs SET ROLE - which it may."""
    su = s.create_role("ni_su", "SUPERUSER NOLOGIN")
    s.pg.psql(f"ALTER ROLE {app} NOINHERIT")
    return su, [f"GRANT {su} TO {app}"], f'role "{su}" has the SUPERUSER attribute'


def grant_without_inherit_or_set(s, app):
    """PostgreSQL 16 and later: a grant WITH INHERIT FALSE, SET FALSE gives
    neither the role's privileges nor SET ROLE, but it is still a
    membership (its grantor may change the options later): refused.  On 14
    and 15 grants have no such options; the nearest is NOINHERIT plus ADMIN
    OPTION (the member may grant the role onward), refused as well."""
    su = s.create_role("opt_su", "SUPERUSER NOLOGIN")
    version = int(s.query("SHOW server_version_num"))
    if version >= 160000:
        grant = f"GRANT {su} TO {app} WITH INHERIT FALSE, SET FALSE"
    else:
        s.pg.psql(f"ALTER ROLE {app} NOINHERIT")
        grant = f"GRANT {su} TO {app} WITH ADMIN OPTION"
    return su, [grant], f'role "{su}" has the SUPERUSER attribute'


MEMBERSHIPS = [superuser_role, execute_server_program, createrole_role, chain_of_three,
               noinherit_member, grant_without_inherit_or_set]


@pytest.mark.parametrize("reach", MEMBERSHIPS, ids=lambda f: f.__name__)
def test_a_role_that_can_become_a_forbidden_role_cannot_be_listed(site, reach):
    app = site.create_role("app")
    forbidden, links, why = reach(site, app)
    for sql in links:
        site.pg.psql(sql)
    err = site.list_role(app)
    assert_refused(err, "42501", f'role "{app}" cannot be managed by pg_rotate',
                   f'Role "{app}" is a member of role "{forbidden}", directly or through other roles',
                   why)
    assert site.query(f"SELECT count(*) FROM rotate.managed_role WHERE role_name = '{app}'") == "0"


@pytest.mark.parametrize("reach", MEMBERSHIPS, ids=lambda f: f.__name__)
def test_membership_granted_after_listing_is_refused(site, reach):
    app = site.create_role("app")
    forbidden, links, why = reach(site, app)
    assert site.list_role(app) is None
    errors = [site.run(sql) for sql in links]
    if site.hooks:
        # the preloaded hook refuses the GRANT that would make it reachable
        assert_refused(errors[-1], "42501",
                       f'managed role "{app}" cannot become a member of role "{forbidden}"',
                       f'Role "{app}" is managed by pg_rotate', why)
        member = site.query(f"SELECT pg_has_role('{app}', '{forbidden}', 'MEMBER')")
        assert member == "f"
        assert "member_of_" in ",".join(site.denied_reasons(app))
        return
    assert errors == [None] * len(links)
    err, logged_in = attempt_takeover(site, app)
    assert_refused(err, "42501", f'cannot set the password of role "{app}"',
                   f'Role "{app}" is a member of role "{forbidden}", directly or through other roles',
                   why)
    assert not logged_in
    if site.flavour == "c":
        assert site.denied_reasons(app)[-1].startswith("member_of_")


def owns_the_database(s, app):
    return ([f"ALTER DATABASE {s.db} OWNER TO {app}"],
            [f"ALTER DATABASE {s.db} OWNER TO postgres"],
            f'owns database "{s.db}", which holds the pg_rotate audit log')


# The audit log's DDL guard refuses to give its objects away (see
# test_a_superuser_cannot_give_the_log_away); a superuser can still switch
# the guard off in the catalog, and the policy must hold then too.
GUARD = "evtname IN ('pg_rotate_audit_log_guard', 'pg_rotate_audit_log_guard_drop')"


def past_the_guard(*statements):
    return ([f"UPDATE pg_event_trigger SET evtenabled = 'D' WHERE {GUARD}"] + list(statements)
            + [f"UPDATE pg_event_trigger SET evtenabled = 'A' WHERE {GUARD}"])


def owns_the_audit_table(s, app):
    """(Its sequence, OWNED BY the table, goes with it: either is named.)"""
    return (past_the_guard(f"ALTER TABLE rotate.audit_log OWNER TO {app}"),
            past_the_guard("ALTER TABLE rotate.audit_log OWNER TO postgres"),
            "rotate.audit_log")


def owns_the_schema(s, app):
    return (past_the_guard(f"ALTER SCHEMA rotate OWNER TO {app}"),
            past_the_guard("ALTER SCHEMA rotate OWNER TO postgres"),
            "owns schema rotate")


def member_of_the_database_owner(s, app):
    owner = s.create_role("dbowner", "NOLOGIN")
    s.pg.psql(f"ALTER DATABASE {s.db} OWNER TO {owner}")
    return ([f"GRANT {owner} TO {app}"], [f"REVOKE {owner} FROM {app}"],
            f'role "{owner}" owns database "{s.db}", which holds the pg_rotate audit log')


OWNERSHIPS = [owns_the_database, owns_the_audit_table, owns_the_schema,
              member_of_the_database_owner]


@pytest.mark.parametrize("owns", OWNERSHIPS, ids=lambda f: f.__name__)
def test_a_role_that_controls_the_audit_log_cannot_be_managed(site, owns):
    """The owner of the database, schema, tables or functions of the audit
    log could drop or rewrite it: never managed, checked at listing and at
    every set_password (ownership given after the listing)."""
    app = site.create_role("app")
    give, undo, why = owns(site, app)
    site.pg.psql(";".join(give), dbname=site.db)
    assert_refused(site.list_role(app), "42501",
                   f'role "{app}" cannot be managed by pg_rotate', why)
    site.pg.psql(";".join(undo), dbname=site.db)
    assert site.list_role(app) is None
    err = site.run(";".join(give))
    if site.hooks and give[0].startswith("GRANT"):
        # the preloaded hook refuses the membership itself
        assert_refused(err, "42501", f'managed role "{app}" cannot become a member', why)
        return
    assert err is None
    err, logged_in = attempt_takeover(site, app)
    assert_refused(err, "42501", f'cannot set the password of role "{app}"', why)
    assert not logged_in
    site.pg.psql(";".join(undo), dbname=site.db)


@pytest.mark.parametrize("statement", ["ALTER TABLE rotate.audit_log OWNER TO {app}",
                                       "ALTER SCHEMA rotate OWNER TO {app}"])
def test_a_superuser_cannot_give_the_log_away(site, statement):
    """The DDL guard refuses to hand the log's table or schema to another
    role, a superuser's statement included."""
    app = site.create_role("app")
    err = site.run(statement.format(app=app))
    assert err is not None and err.pgcode == "42501", err
    assert "pg_rotate does not allow ALTER" in str(err)


def test_a_member_of_the_rotation_role_cannot_be_rotated(site):
    """A target that can become the caller (or the function's owner) is
    refused: the caller would otherwise hold a login that acts as itself."""
    app = site.create_role("app")
    assert site.list_role(app) is None
    site.pg.psql(f"GRANT {site.rotator} TO {app}")
    err, logged_in = attempt_takeover(site, app)
    assert_refused(err, "42501", f'cannot set the password of role "{app}"',
                   f'Role "{app}" is a member of role "{site.rotator}", directly or through other roles',
                   f'role "{site.rotator}" is the session user')
    assert not logged_in


def test_monitoring_roles_may_be_managed(site):
    """pg_monitor (and what it contains) reads statistics and settings, not
    data, files or programs: a monitoring agent's login is a typical target."""
    app = site.create_role("monitor")
    site.pg.psql(f"GRANT pg_monitor TO {app}")
    assert site.list_role(app) is None
    err, logged_in = attempt_takeover(site, app)
    assert err is None and logged_in
