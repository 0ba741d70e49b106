"""Amazon RDS in moto_server, spoken to in RDS's own Query protocol.

Debian's boto3 predates ManageMasterUserPassword, so the tests set RDS up
with form POSTs of their own (moto checks no signature while its auth is
off; it routes the request by the credential scope's service name) and read
the XML answers with ElementTree. The client under test reads the same
answers with its own parser.
"""

import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

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
    """An element as dicts and lists: a list for members named like the
    element's first child repeated (or a known list wrapper), text for leaves."""
    children = list(el)
    if not children:
        return el.text or ""
    names = [c.tag for c in children]
    if len(set(names)) == 1 and (len(names) > 1 or el.tag.endswith("s") or
                                 el.tag in ("TagList", "Targets")):
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
                member = {"VpcSubnetIds": "member", "Auth": "member"}.get(key, "member")
                for i, item in enumerate(value, 1):
                    if isinstance(item, dict):
                        for k, v in item.items():
                            fields[f"{key}.{member}.{i}.{k}"] = v
                    else:
                        fields[f"{key}.{member}.{i}"] = item
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
