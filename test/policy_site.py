"""A database with pg_rotate in one flavour, a rotation role, and the steps
of an attack on the policy, for the tests of who may be managed
(test_extension_membership.py, test_extension_marks.py; the "site" fixture
in conftest.py gives one per place in SITES).

The three places the policy runs:
  c-preloaded   the C flavour with shared_preload_libraries (its hooks on)
  c-bare        the C flavour loaded on demand (no hooks: set_password and
                the allow-list's triggers alone)
  sql-bare      the SQL-only flavour (what pg_tle runs on RDS)
"""

import uuid

import psycopg2

import sql_flavour
from extension_util import Roles, random_password, scram_verifier

SITES = ["c-preloaded", "c-bare", "sql-bare"]


class Site:
    """One fresh database with the extension, a rotation role allowed to
    call set_password, and helpers that return the error they hit (or
    None) so that a test can assert both what happened and why."""

    def __init__(self, pg, flavour="c", version=None):
        """flavour: "c" or "sql"; version: an older one to install (the
        default version otherwise).  The hooks are on when pg preloads."""
        self.pg = pg
        self.flavour = flavour
        self.hooks = pg.preload and flavour == "c"
        self.db = "t_pol_" + uuid.uuid4().hex[:10]
        self.tag = uuid.uuid4().hex[:6]
        pg.psql(f"CREATE DATABASE {self.db}")
        if version:
            pg.psql(f"CREATE EXTENSION pg_rotate VERSION '{version}'", dbname=self.db)
        elif flavour == "sql":
            sql_flavour.create_sql_flavour(pg, self.db)
        else:
            pg.psql("CREATE EXTENSION pg_rotate", dbname=self.db)
        self.roles = Roles(pg, self.db, targets=0)
        self.rotator = self.roles.rotator
        self.made = []

    def name(self, what):
        """A role name unique to this test."""
        return f"regress_{what}_{self.tag}"

    def create_role(self, what, options="LOGIN"):
        name = self.name(what)
        self.pg.psql(f"CREATE ROLE {name} {options}")
        self.made.append(name)
        return name

    def run(self, sql, user=None, password=None, dbname=None):
        """Run sql (autocommit) as user; returns the psycopg2 error or None."""
        conn = self.pg.connect(user=user, password=password, dbname=dbname or self.db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
            return None
        except psycopg2.Error as e:
            return e
        finally:
            conn.close()

    def query(self, sql, dbname=None):
        return self.pg.psql(sql, dbname=dbname or self.db).strip()

    def list_role(self, role):
        return self.run(f"INSERT INTO rotate.managed_role (role_name) VALUES ('{role}')")

    def set_password(self, target, password):
        """set_password as the rotation role, over TCP; the error or None."""
        return self.run(f"SELECT rotate.set_password('{target}', "
                        f"'{scram_verifier(password)}')",
                        user=self.rotator, password=self.roles.rotator_password)

    def can_login(self, role, password):
        try:
            self.pg.connect(user=role, password=password, dbname=self.db).close()
            return True
        except psycopg2.OperationalError:
            return False

    def denied_reasons(self, target):
        """The reasons of the denied rows for target, oldest first."""
        out = self.query("SELECT coalesce(string_agg(detail->>'reason', ',' ORDER BY id), '')"
                         f" FROM rotate.audit_log WHERE event = 'denied' AND target = '{target}'")
        return out.split(",") if out else []

    def drop(self):
        self.pg.psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        self.roles.drop()
        for role in reversed(self.made):
            self.pg.psql(f"DROP ROLE IF EXISTS {role}", check=False)


def assert_refused(err, sqlstate, *fragments):
    """err is a psycopg2 error with sqlstate whose text holds every fragment."""
    assert err is not None, "expected a refusal, the statement succeeded"
    text = str(err)
    assert err.pgcode == sqlstate, f"{err.pgcode}: {text}"
    for fragment in fragments:
        assert fragment in text, text


def attempt_takeover(site, target):
    """What a rotation role does with a listed target: set its password to
    one it knows, then log in as it.  Returns (error of set_password or
    None, whether the login worked)."""
    password = random_password()
    err = site.set_password(target, password)
    return err, site.can_login(target, password)
