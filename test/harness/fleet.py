"""Many rotated roles in one database, one admin role, one secret each: the
shape of a fleet, for the parallel tests and the benchmarks."""

import json

from .scenario import Scenario, new_password, quiet_session


class Fleet:
    def __init__(self, pg, moto, count):
        self.base = Scenario(pg, moto)
        self.count = count
        self.members = []           # (role, secret name, initial password)

    def setup(self):
        base = self.base.setup()
        conn = base.pg.connect(dbname=base.dbname)
        with conn.cursor() as cur:
            quiet_session(cur)
            for i in range(self.count):
                role = f"{base.app_role}_{i}"
                password = new_password()
                cur.execute(f"CREATE ROLE {base.ident(role)} LOGIN PASSWORD %s", (password,))
                cur.execute("INSERT INTO rotate.managed_role (role_name) VALUES (%s)", (role,))
                self.members.append((role, f"{base.app_secret}/{i}", password))
        conn.close()
        for role, name, password in self.members:
            value = base.secret_value(role, password)
            value["masterarn"] = base.admin_arn
            base.sm.create_secret(Name=name, SecretString=json.dumps(value))
        return self

    @property
    def secret_ids(self):
        return [name for _, name, _ in self.members]

    def member(self, i):
        """A Scenario view of member i, for its read-back helpers."""
        role, name, password = self.members[i]
        s = Scenario(self.base.pg, self.base.moto, app_role=role, suffix=self.base.suffix)
        s.app_secret, s.initial_password, s.sm = name, password, self.base.sm
        s.creds = self.base.creds
        return s

    def teardown(self):
        base = self.base
        base.teardown()
        for role, _, _ in self.members:
            base.pg.psql(f"DROP ROLE IF EXISTS {base.ident(role)}", check=False)
