"""Amazon RDS in moto_server, spoken to in RDS's own Query protocol.

Debian's boto3 predates ManageMasterUserPassword, so the tests set RDS up
with form POSTs of their own (moto checks no signature while its auth is
off; it routes the request by the credential scope's service name) and read
the XML answers with ElementTree. The client under test reads the same
answers with its own parser.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from harness import util
from harness.scenario import SM_POLICY, Scenario, new_password, quiet_session

API_VERSION = "2014-10-31"


class RdsError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def _strip(tree):
    """Element names without their namespace."""
    for el in tree.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return tree


def to_dict(el):
    """An element as dicts and lists: a list when its children share one
    name and repeat (or it is named as a list is: ...s, TagList), text for
    a leaf."""
    children = list(el)
    if not children:
        return el.text or ""
    names = [c.tag for c in children]
    if len(set(names)) == 1 and (len(names) > 1 or el.tag.endswith("s") or
                                 el.tag == "TagList"):
        return [to_dict(c) for c in children]
    return {c.tag: to_dict(c) for c in children}


class Rds:
    """Query calls to moto's RDS; each returns its Result element as dicts."""

    def __init__(self, moto):
        self.moto = moto

    def call(self, action, **params):
        fields = {"Action": action, "Version": API_VERSION}
        for key, value in params.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, (list, tuple)):
                # the Query protocol's lists: Name.member.N (.Key for structures)
                for i, item in enumerate(value, 1):
                    if isinstance(item, dict):
                        for k, v in item.items():
                            fields[f"{key}.member.{i}.{k}"] = v
                    else:
                        fields[f"{key}.member.{i}"] = item
                continue
            fields[key] = str(value)
        scope = f"AKIDTEST/20240101/{self.moto.region}/rds/aws4_request"
        req = urllib.request.Request(
            self.moto.endpoint + "/", data=urllib.parse.urlencode(fields).encode(),
            method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
                                 "SignedHeaders=host, Signature=0"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                tree = _strip(ET.fromstring(r.read()))
        except urllib.error.HTTPError as e:
            err = _strip(ET.fromstring(e.read()))
            raise RdsError(err.findtext(".//Code"), err.findtext(".//Message")) from None
        result = tree.find(f"{action}Result")
        return to_dict(result) if result is not None else {}

    # ----- what the tests make -------------------------------------------
    def create_instance(self, ident, port, managed=True, cluster=None, engine="postgres"):
        params = {"DBInstanceIdentifier": ident, "DBInstanceClass": "db.t3.micro",
                  "Engine": engine, "Port": port}
        if cluster:
            params["DBClusterIdentifier"] = cluster
        else:
            params.update({"MasterUsername": "master", "AllocatedStorage": 20})
            if managed:
                params["ManageMasterUserPassword"] = True
            else:
                params["MasterUserPassword"] = "not-used-by-the-tests"
        return self.call("CreateDBInstance", **params)["DBInstance"]

    def create_replica(self, ident, source):
        return self.call("CreateDBInstanceReadReplica", DBInstanceIdentifier=ident,
                         SourceDBInstanceIdentifier=source)["DBInstance"]

    def create_cluster(self, ident, port):
        return self.call("CreateDBCluster", DBClusterIdentifier=ident,
                         Engine="aurora-postgresql", MasterUsername="master",
                         ManageMasterUserPassword=True, Port=port)["DBCluster"]

    def describe_cluster(self, ident):
        return self.call("DescribeDBClusters", DBClusterIdentifier=ident)["DBClusters"][0]

    def delete_instance(self, ident):
        self.call("DeleteDBInstance", DBInstanceIdentifier=ident, SkipFinalSnapshot=True)

    def create_proxy(self, name, secret_arn, subnets):
        return self.call("CreateDBProxy", DBProxyName=name, EngineFamily="POSTGRESQL",
                         Auth=[{"SecretArn": secret_arn, "AuthScheme": "SECRETS"}],
                         RoleArn=f"arn:aws:iam::123456789012:role/{name}",
                         VpcSubnetIds=subnets)["DBProxy"]

    def register_proxy_target(self, proxy, instance=None, cluster=None):
        params = {"DBProxyName": proxy}
        if instance:
            params["DBInstanceIdentifiers"] = [instance]
        if cluster:
            params["DBClusterIdentifiers"] = [cluster]
        return self.call("RegisterDBProxyTargets", **params)


# ----- a rotation scenario whose database RDS describes ---------------------

# The read-only RDS actions the client needs (deploy/rotation-policy.json's).
RDS_ACTIONS = ["rds:DescribeDBInstances", "rds:DescribeDBClusters",
               "rds:DescribeDBProxies", "rds:DescribeDBProxyTargets"]
RDS_POLICY = {"Version": "2012-10-17", "Statement": SM_POLICY["Statement"] + [
    {"Effect": "Allow", "Action": RDS_ACTIONS, "Resource": "*"}]}


class Site:
    """A primary on 127.0.0.1 and its streaming replica on 127.0.0.2, on one
    port: what a writer and a reader endpoint reach."""

    def __init__(self, primary, standby):
        self.primary = primary
        self.standby = standby

    def wait_replayed(self, timeout=30):
        """Until the replica has replayed everything the primary wrote."""
        lsn = self.primary.psql("SELECT pg_current_wal_lsn()").strip()
        util.wait_until(lambda: self.standby.psql(
            f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn").strip() == "t",
            timeout=timeout, what="the replica to replay")


class RdsScenario(Scenario):
    """A Scenario on a primary with a streaming replica (site: its
    .primary on 127.0.0.1 and .standby on 127.0.0.2, one port), whose RDS
    face is in moto: RDS instances, clusters and proxies with that port,
    reached on loopback addresses with --resolve, and a master role, the
    user of RDS's managed master secrets.

    moto quirk (DESIGN.md): a managed secret's username is always "admin";
    managed_secret() overwrites its value with the master role's."""

    def __init__(self, site, moto):
        super().__init__(site.primary, moto)
        self.site = site
        self.rds = Rds(moto)
        self.master_role = f"master_{self.suffix}"
        self.master_password = new_password()
        self.resolve = {}           # host -> address, for --resolve
        self.names = []             # DNS names the server certificate must hold

    def setup(self, **kwargs):
        super().setup(**kwargs)
        conn = self.pg.connect(dbname=self.dbname)
        with conn.cursor() as cur:
            quiet_session(cur)
            # RDS's master user: CREATEROLE (rds_superuser), here also the
            # rights of the rotation role so it can be the admin either way
            cur.execute(f"CREATE ROLE {self.ident(self.master_role)} LOGIN CREATEROLE "
                        "PASSWORD %s", (self.master_password,))
            if kwargs.get("extension", True):
                cur.execute(f"GRANT USAGE ON SCHEMA rotate TO {self.ident(self.master_role)}")
                cur.execute("GRANT EXECUTE ON FUNCTION "
                            "rotate.set_password(name, text, text, text), "
                            "rotate.log_event(name, text, text, text, jsonb) "
                            f"TO {self.ident(self.master_role)}")
        conn.close()
        return self

    # ----- RDS objects -------------------------------------------------
    def name(self, kind):
        return f"{kind}-{self.suffix}"

    def reach(self, host, address="127.0.0.1"):
        """Dial address for host (--resolve) and name host in the certificate."""
        self.resolve[host] = address
        self.names.append(host)

    def managed_secret(self, secret_arn):
        """The value RDS would keep: the master role's name and password."""
        self.sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(
            {"username": self.master_role, "password": self.master_password}))
        return secret_arn

    def instance(self, kind="db", managed=True, address="127.0.0.1"):
        db = self.rds.create_instance(self.name(kind), self.pg.port, managed=managed)
        self.reach(db["Endpoint"]["Address"], address)
        if managed:
            db["secret"] = self.managed_secret(db["MasterUserSecret"]["SecretArn"])
        return db

    def replica(self, source, kind="replica"):
        db = self.rds.create_replica(self.name(kind), source)
        self.reach(db["Endpoint"]["Address"], self.site.standby.host)
        return db

    def aurora(self):
        """A cluster with a writer (the primary) and a reader (the standby)."""
        ident = self.name("aurora")
        cluster = self.rds.create_cluster(ident, self.pg.port)
        cluster["secret"] = self.managed_secret(cluster["MasterUserSecret"]["SecretArn"])
        writer = self.rds.create_instance(ident + "-w", self.pg.port, cluster=ident,
                                          engine="aurora-postgresql")
        reader = self.rds.create_instance(ident + "-r", self.pg.port, cluster=ident,
                                          engine="aurora-postgresql")
        self.reach(cluster["Endpoint"])
        self.reach(cluster["ReaderEndpoint"], self.site.standby.host)
        self.reach(writer["Endpoint"]["Address"])
        self.reach(reader["Endpoint"]["Address"], self.site.standby.host)
        return cluster, writer, reader

    def proxy(self, instance=None, cluster=None):
        """A proxy on 127.0.0.3, where nothing listens: a rotation that
        logged in through it would fail."""
        ec2 = self.moto.boto3_client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{k}.0/24")["Subnet"]["SubnetId"]
                   for k in (1, 2)]
        proxy = self.rds.create_proxy(self.name("proxy"), self.admin_arn, subnets)
        self.rds.register_proxy_target(proxy["DBProxyName"], instance=instance, cluster=cluster)
        self.reach(proxy["Endpoint"], "127.0.0.3")
        return proxy

    def trust_names(self):
        """A server certificate naming every host made so far (verify-full)."""
        self.site.primary.reissue_certificate(self.names, self.site.standby)

    # ----- the secrets ---------------------------------------------------
    def point_app(self, host, masterarn=None, port=None):
        """The app secret's host (and admin) changed, as a new AWSCURRENT."""
        value = self.value()
        value["host"] = host
        value["port"] = port or self.pg.port
        if masterarn:
            value["masterarn"] = masterarn
        self.sm.put_secret_value(SecretId=self.app_secret, SecretString=json.dumps(value))

    def resolve_args(self):
        args = []
        for host, address in self.resolve.items():
            args += ["--resolve", f"{host}:{self.pg.port}:{address}"]
        return args

    def rotate(self, client_bin, *extra, env=None):
        """pg_rotate rotate --json with --resolve for every host; returns
        (process, the result object or None)."""
        proc = self.run(client_bin, "rotate", "--secret-id", self.app_secret, "--json",
                        *self.resolve_args(), *extra, env=env)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        return proc, (lines[-1] if lines else None)

    def teardown(self):
        super().teardown()
        self.pg.psql(f"DROP ROLE IF EXISTS {self.ident(self.master_role)}", check=False)
