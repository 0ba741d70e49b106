"""Amazon RDS and Aurora as they are run: RDS-managed master secrets as the
admin, secrets on the cluster, instance, reader, replica and proxy
endpoints, a real streaming replica, --resolve, in the one-shot "rotate"
and in Lambda mode.

moto_server plays RDS (signature and IAM checks on) with every endpoint's
port set to a real local cluster's: the primary on 127.0.0.1, its
pg_basebackup -R replica on 127.0.0.2 (the reader endpoints), nothing on
127.0.0.3 (the proxies, which authenticate from the secret: a rotation that
logged in there would fail). The clients reach moto's generated host names
with --resolve and verify the server's certificate against them.
"""

import json
import subprocess

import pytest

from aws_standin import StandIn
from harness.lambda_runtime import RuntimeAPI
from harness.pgcluster import Cluster
from harness.rds import RDS_ACTIONS, RDS_POLICY, RdsScenario, Site
from harness.reliability import STEPS, LambdaProcess
from harness import util
from harness.scenario import SM_POLICY, new_password, quiet_session
from test_rotation import assert_rotated


@pytest.fixture(scope="module")
def site():
    primary = Cluster().start()
    try:
        standby = primary.start_standby("127.0.0.2")
    except BaseException:
        primary.stop()
        raise
    try:
        yield Site(primary, standby)
    finally:
        standby.stop()
        primary.stop()


@pytest.fixture
def rds(site, moto_clean):
    s = RdsScenario(site, moto_clean).setup()
    try:
        yield s
    finally:
        s.teardown()


def ready(s, policy=RDS_POLICY):
    """Certificates for the names made, the replica caught up, auth on."""
    s.trust_names()
    s.site.wait_replayed()
    s.enable_auth(policy=policy)


def rotate_in_lambda(s, client_bin, *env_pairs):
    """The four events of one rotation, as Secrets Manager sends them, to
    "pg_rotate lambda" with PG_ROTATE_RESOLVE; returns (the answers, the
    per-step result lines)."""
    resolve = " ".join(f"{h}:{s.pg.port}:{a}" for h, a in s.resolve.items())
    api = RuntimeAPI().start()
    fn = LambdaProcess(client_bin, s, api, PG_ROTATE_RESOLVE=resolve, **dict(env_pairs))
    try:
        token = s.start_pending()
        answers = []
        for step in STEPS:
            answers.append(api.wait_result(api.invoke(
                {"Step": step, "SecretId": s.app_arn, "ClientRequestToken": token})))
            if answers[-1][0] == "error":
                break
    finally:
        out, _ = fn.stop()
        api.stop()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return answers, [line for line in lines if "step" in line]


def calls(results):
    return (sum(r["sm_calls"] for r in results), sum(r["rds_calls"] for r in results))


def check_rotated(s):
    """Rotated, audited; returns the detail of the "tested" row."""
    assert_rotated(s, s.initial_password)
    events = {r["event"]: r["detail"] for r in s.audit() if r["target"] == s.app_role}
    assert {"password_set", "tested", "finished"} <= set(events)
    return events["tested"]


# ----- the admin is RDS's managed master secret ------------------------------

@pytest.mark.parametrize("mode", ["rotate", "lambda"])
def test_managed_instance_secret_as_admin(rds, client_bin, mode):
    db = rds.instance()
    rds.point_app(db["Endpoint"]["Address"], masterarn=db["secret"])
    ready(rds)
    if mode == "rotate":
        proc, result = rds.rotate(client_bin)
        assert proc.returncode == 0, proc.stderr
        # one DescribeSecret of the admin secret for its tag, one DescribeDBInstances
        assert (result["sm_calls"], result["rds_calls"]) == (8, 1)
        assert result["proof"]["relation"] == "same"
    else:
        answers, results = rotate_in_lambda(rds, client_bin)
        assert [a[0] for a in answers] == ["response"] * 4, answers
        assert results[1]["proof"]["relation"] == "same"
    tested = check_rotated(rds)
    assert tested["relation"] == "same"
    actors = {r["actor"] for r in rds.audit() if r["event"] == "password_set"}
    assert actors == {rds.master_role}


def test_aurora_cluster_secret_as_admin_on_its_cluster_endpoint(rds, client_bin):
    cluster, _, _ = rds.aurora()
    rds.point_app(cluster["Endpoint"], masterarn=cluster["secret"])
    ready(rds)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 0, proc.stderr
    assert (result["sm_calls"], result["rds_calls"]) == (8, 1)
    assert result["proof"]["relation"] == "same"
    check_rotated(rds)


# ----- secrets on the other endpoints of the admin's database ----------------

ENDPOINTS = {
    # endpoint: (how to reach it, relation, RDS calls in "rotate", proved at)
    "writer-instance": ("writer", "writer", 2, "127.0.0.1"),
    "reader-endpoint": ("ReaderEndpoint", "replica", 1, "127.0.0.2"),
    "reader-instance": ("reader", "replica", 2, "127.0.0.2"),
    "cluster-proxy": ("proxy", "proxy", 3, "writer"),
}


@pytest.mark.parametrize("mode", ["rotate", "lambda"])
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_aurora_secret_on_another_endpoint(rds, client_bin, endpoint, mode):
    cluster, writer, reader = rds.aurora()
    how, relation, rds_calls, proved_at = ENDPOINTS[endpoint]
    if how == "proxy":
        host = rds.proxy(cluster=cluster["DBClusterIdentifier"])["Endpoint"]
    elif how == "ReaderEndpoint":
        host = cluster["ReaderEndpoint"]
    else:
        host = (writer if how == "writer" else reader)["Endpoint"]["Address"]
    rds.point_app(host, masterarn=cluster["secret"])
    ready(rds)
    if mode == "rotate":
        proc, result = rds.rotate(client_bin)
        assert proc.returncode == 0, proc.stderr
        assert (result["sm_calls"], result["rds_calls"]) == (8, rds_calls)
    else:
        answers, results = rotate_in_lambda(rds, client_bin)
        assert [a[0] for a in answers] == ["response"] * 4, answers
        result = results[1]             # setSecret: set, proved, AWSCURRENT moved
    proof = result["proof"]
    assert proof["relation"] == relation, proof
    expected_host = cluster["Endpoint"] if proved_at == "writer" else host
    assert proof["host"] == f"{expected_host}:{rds.pg.port}"
    if relation == "replica":
        assert proof["replica_wait_ms"] >= 0
    else:
        assert proof["replica_wait_ms"] is None
    tested = check_rotated(rds)
    assert tested["relation"] == relation and tested["proved_at"] == proof["host"]


def test_proxy_proof_goes_to_the_writer_and_says_so(rds, client_bin):
    db = rds.instance()
    proxy = rds.proxy(instance=db["DBInstanceIdentifier"])
    rds.point_app(proxy["Endpoint"], masterarn=db["secret"])
    ready(rds)
    proc = rds.run(client_bin, "rotate", "--secret-id", rds.app_secret, *rds.resolve_args())
    assert proc.returncode == 0, proc.stderr
    writer = f"{db['Endpoint']['Address']}:{rds.pg.port}"
    assert (f"logins proved at the writer {writer}, not through DB proxy "
            f"\"{proxy['DBProxyName']}\" in front of DB instance "
            f"\"{db['DBInstanceIdentifier']}\" (a proxy authenticates from the secret "
            "itself)") in proc.stdout, proc.stdout
    assert "8 Secrets Manager calls, 3 RDS calls" in proc.stdout, proc.stdout
    assert_rotated(rds, rds.initial_password)


# ----- a real replica ------------------------------------------------------------

def test_read_replica_waits_for_replay_and_passes(rds, client_bin):
    """RDS makes no read replica of an instance whose master secret it
    manages, so the admin here is the hand-made rotator secret on the
    primary's endpoint (RDS finds the instance from it). Replay is paused
    until the replica has refused the new password once: the proof keeps
    trying, and passes when the replica catches up."""
    primary = rds.instance(managed=False)
    replica = rds.replica(primary["DBInstanceIdentifier"])
    admin = json.loads(rds.sm.get_secret_value(SecretId=rds.admin_secret)["SecretString"])
    admin["host"] = primary["Endpoint"]["Address"]
    rds.sm.put_secret_value(SecretId=rds.admin_secret, SecretString=json.dumps(admin))
    rds.point_app(replica["Endpoint"]["Address"])
    ready(rds)
    standby = rds.site.standby
    mark = standby.log_mark()
    refused = f'password authentication failed for user "{rds.app_role}"'
    standby.psql("SELECT pg_wal_replay_pause()")
    try:
        proc = subprocess.Popen(
            [client_bin, "rotate", "--secret-id", rds.app_secret, "--json",
             *rds.resolve_args()], env=rds.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        util.wait_until(lambda: refused in standby.log_since(mark), timeout=30,
                        what="the replica to refuse the new password")
    finally:
        standby.psql("SELECT pg_wal_replay_resume()")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    assert result["proof"]["relation"] == "replica"
    assert result["proof"]["described"] == (
        f"DB instance \"{replica['DBInstanceIdentifier']}\", a read replica of DB instance "
        f"\"{primary['DBInstanceIdentifier']}\"")
    assert result["proof"]["replica_wait_ms"] > 0
    assert (result["sm_calls"], result["rds_calls"]) == (7, 2)
    # the new password works on the replica itself
    new = rds.password("AWSCURRENT")
    standby.connect(user=rds.app_role, dbname=rds.dbname, password=new).close()
    assert_rotated(rds, rds.initial_password)


@pytest.mark.parametrize("mode", ["rotate", "lambda"])
def test_paused_replica_fails_after_the_bound_and_rolls_back(rds, client_bin, mode):
    """Replay paused: the new password never reaches the reader. The proof
    there gives up after --replica-wait, AWSCURRENT never names the new
    password, and the old one is restored: the application, which logs in
    at the reader with AWSCURRENT, is never locked out."""
    cluster, _, _ = rds.aurora()
    rds.point_app(cluster["ReaderEndpoint"], masterarn=cluster["secret"])
    ready(rds)
    standby = rds.site.standby
    standby.psql("SELECT pg_wal_replay_pause()")
    try:
        if mode == "rotate":
            proc, result = rds.rotate(client_bin, "--replica-wait", "1")
            assert proc.returncode == 4, proc.stderr
            assert result["outcome"] == "rolled_back"
            message = result["error"]["message"]
            assert "the new password does not log in: still refused at the reader endpoint " \
                f"of DB cluster \"{cluster['DBClusterIdentifier']}\" after" in message, message
            assert "--replica-wait" in result["error"]["hint"]
        else:
            answers, results = rotate_in_lambda(rds, client_bin,
                                                ("PG_ROTATE_REPLICA_WAIT", "1"))
            kind, body, _ = answers[-1]
            assert [a[0] for a in answers] == ["response", "error"], answers
            assert "still refused at the reader endpoint" in body["errorMessage"], body
        assert rds.password("AWSCURRENT") == rds.initial_password
        standby.connect(user=rds.app_role, dbname=rds.dbname,
                        password=rds.initial_password).close()
        assert rds.can_login(rds.initial_password)
    finally:
        standby.psql("SELECT pg_wal_replay_resume()")
    rds.site.wait_replayed()
    standby.connect(user=rds.app_role, dbname=rds.dbname, password=rds.initial_password).close()


# ----- --resolve: dial one address, verify another name -----------------------

def test_resolve_dials_the_address_and_verifies_the_name(rds, client_bin):
    """A tunnel: the secrets name a host no DNS knows; --resolve dials
    127.0.0.1 for it and TLS (verify-full) checks the certificate against
    the name, not the address. No RDS call is made: the hosts are equal."""
    admin = json.loads(rds.sm.get_secret_value(SecretId=rds.admin_secret)["SecretString"])

    def point_both(host):
        rds.sm.put_secret_value(SecretId=rds.admin_secret,
                                SecretString=json.dumps(dict(admin, host=host)))
        rds.point_app(host)

    host = f"db-{rds.suffix}.tunnel.invalid"
    other = f"other-{rds.suffix}.tunnel.invalid"
    rds.reach(host)
    ready(rds, policy=SM_POLICY)
    # a name the certificate does not hold is refused, though the address is right
    point_both(other)
    proc = rds.run(client_bin, "rotate", "--secret-id", rds.app_secret,
                   "--resolve", f"{other}:{rds.pg.port}:127.0.0.1")
    assert proc.returncode == 1
    assert f"at {other}:{rds.pg.port} (dialled 127.0.0.1)" in proc.stderr, proc.stderr
    assert "does not match host name" in proc.stderr, proc.stderr
    # without --resolve the name is looked up, and DNS does not know it
    point_both(host)
    proc = rds.run(client_bin, "rotate", "--secret-id", rds.app_secret)
    assert proc.returncode == 1
    assert f"could not connect to database \"{rds.dbname}\" at {host}:{rds.pg.port} " \
        "as role" in proc.stderr, proc.stderr
    assert_nothing_changed(rds)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 0, proc.stderr
    assert (result["sm_calls"], result["rds_calls"]) == (7, 0)
    assert_rotated(rds, rds.initial_password)
    # "check" logs in through the same tunnel
    check = rds.run(client_bin, "check", "--secret-id", rds.app_secret, *rds.resolve_args())
    assert check.returncode == 0, check.stderr
    assert "AWSCURRENT logs in" in check.stdout


@pytest.mark.parametrize("spec,why", [
    ("db.example.com:5432", "It needs a host, a port and an address"),
    ("db.example.com:0:127.0.0.1", "The port is not a number from 1 to 65535."),
    ("db.example.com:5432:db.internal", "An address is not a numeric IPv4 address"),
])
def test_resolve_refuses_malformed_entries(client_bin, moto, spec, why):
    proc = subprocess.run([client_bin, "rotate", "--secret-id", "x", "--resolve", spec],
                          env=moto.aws_env(), capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"pg_rotate: error: invalid --resolve entry \"{spec}\"" in proc.stderr
    assert why in proc.stderr and "HOST:PORT:ADDRESS" in proc.stderr


# ----- bad inputs: a clear error naming what to fix, and nothing changed ------

def assert_nothing_changed(s):
    stages = s.stages()
    assert not any("AWSPENDING" in v for v in stages.values()), stages
    assert s.password("AWSCURRENT") == s.initial_password
    assert s.can_login(s.initial_password)


def test_tag_naming_a_deleted_instance(rds, client_bin):
    db = rds.instance()
    rds.rds.delete_instance(db["DBInstanceIdentifier"])
    # the tag's key in another case: compared without regard to case
    orphan = rds.sm.create_secret(
        Name=f"rds-orphan-{rds.suffix}",
        SecretString=json.dumps({"username": rds.master_role,
                                 "password": rds.master_password}),
        Tags=[{"Key": "aws:rds:primarydbinstancearn", "Value": db["DBInstanceArn"]}])["ARN"]
    rds.point_app(db["Endpoint"]["Address"], masterarn=orphan)
    ready(rds)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 1, proc.stderr
    error = result["error"]
    assert error["code"] == "DBInstanceNotFound"
    assert error["message"].startswith(
        f"createSecret for secret \"{rds.app_arn}\": cannot find the writer of admin secret "
        f"\"{orphan}\": could not describe DB instance \"{db['DBInstanceArn']}\": "
        "DBInstanceNotFound"), error
    assert "which RDS does not know: it may have been deleted" in error["hint"]
    assert_nothing_changed(rds)


@pytest.mark.parametrize("mode", ["rotate", "lambda"])
def test_unrelated_host_is_refused_with_both_hosts(rds, client_bin, mode):
    db = rds.instance()
    other = rds.instance(kind="other", managed=False)
    rds.point_app(other["Endpoint"]["Address"], masterarn=db["secret"])
    ready(rds)
    if mode == "lambda":
        answers, results = rotate_in_lambda(rds, client_bin)
        assert [a[0] for a in answers] == ["response", "error"], answers
        assert answers[1][1]["errorType"] == "PgRotate.InvalidInput"
        error = results[1]["error"]
        # createSecret stored the pending value; the password and AWSCURRENT stay
        assert rds.password("AWSCURRENT") == rds.initial_password
        assert rds.can_login(rds.initial_password)
    else:
        proc, result = rds.rotate(client_bin)
        assert proc.returncode == 1, proc.stderr
        error = result["error"]
    port = rds.pg.port
    assert (f"host {other['Endpoint']['Address']}:{port} is not a writer, reader, replica or "
            f"proxy of the admin's database at {db['Endpoint']['Address']}:{port}") \
        in error["message"], error
    assert f"RDS knows {other['Endpoint']['Address']} as DB instance " \
        f"\"{other['DBInstanceIdentifier']}\"." == error["detail"]
    assert "masterarn" in error["hint"]
    if mode == "rotate":
        assert_nothing_changed(rds)


def test_rds_access_denied_names_the_action(rds, client_bin):
    db = rds.instance()
    rds.point_app(db["Endpoint"]["Address"], masterarn=db["secret"])
    ready(rds, policy=SM_POLICY)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 1, proc.stderr
    error = result["error"]
    assert error["code"] == "AccessDenied", error
    assert "could not describe DB instance" in error["message"]
    assert "DescribeDBInstances" in error["detail"] + error["message"]
    assert "read-only RDS action" in error["hint"]
    assert_nothing_changed(rds)


def test_hand_made_admin_on_equal_hosts_needs_no_rds_permission(rds, client_bin):
    """Without any RDS permission, equal hosts work as before RDS support:
    seven Secrets Manager calls, no RDS call."""
    ready(rds, policy=SM_POLICY)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 0, proc.stderr
    assert (result["sm_calls"], result["rds_calls"]) == (7, 0)
    assert result["proof"] == {"host": f"127.0.0.1:{rds.pg.port}", "relation": "same",
                               "described": "the admin's endpoint", "replica_wait_ms": None}


@pytest.mark.parametrize("answer,code,message", [
    ((400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterCombination"
           "</Code><Message>Bad combination.</Message></Error><RequestId>r-1</RequestId>"
           "</ErrorResponse>"),
     "InvalidParameterCombination", "InvalidParameterCombination: Bad combination."),
    ((200, "<DescribeDBInstancesResponse><unclosed>"), "",
     "the response from Amazon RDS is not valid XML"),
    ((200, "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances/>"
           "</DescribeDBInstancesResult></DescribeDBInstancesResponse>"), "",
     "the answer names no DBInstance"),
], ids=["error-document", "malformed-xml", "no-instance"])
def test_rds_error_answers_are_reported(rds, client_bin, answer, code, message):
    db = rds.instance()
    rds.point_app(db["Endpoint"]["Address"], masterarn=db["secret"])
    ready(rds)
    status, body = answer
    with StandIn(lambda req: (status, {"Content-Type": "text/xml"}, body)) as standin:
        proc, result = rds.rotate(client_bin, "--rds-endpoint-url", standin.url,
                                  "--max-attempts", "1")
        assert b"Action=DescribeDBInstances" in standin.requests[0].body
    assert proc.returncode == 1, proc.stderr
    assert result["error"]["code"] == code
    assert message in result["error"]["message"], result["error"]
    assert_nothing_changed(rds)


def test_admin_secret_without_host_or_tag_is_refused(rds, client_bin):
    bare = rds.sm.create_secret(Name=f"bare-{rds.suffix}", SecretString=json.dumps(
        {"username": rds.master_role, "password": rds.master_password}))["ARN"]
    rds.point_app("127.0.0.1", masterarn=bare)
    ready(rds)
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 1, proc.stderr
    assert f"the admin secret \"{bare}\" names no host and is not managed by RDS" \
        in result["error"]["message"]
    assert "ManageMasterUserPassword" in result["error"]["hint"]
    assert_nothing_changed(rds)


# ----- the shipped policy: enough, and each RDS action needed -----------------

def shipped_policy():
    from test_lambda import shipped_policy as shipped
    return shipped()


def without(policy, action):
    from test_lambda import without_action
    return without_action(policy, action)


RDS_ACTION_CASES = {
    "rds:DescribeDBInstances": "instance",
    "rds:DescribeDBClusters": "cluster",
    "rds:DescribeDBProxies": "proxy",
    "rds:DescribeDBProxyTargets": "proxy",
}


def point_for_case(rds, case):
    if case == "instance":
        db = rds.instance()
        rds.point_app(db["Endpoint"]["Address"], masterarn=db["secret"])
    elif case == "cluster":
        cluster, _, _ = rds.aurora()
        rds.point_app(cluster["Endpoint"], masterarn=cluster["secret"])
    else:
        db = rds.instance()
        rds.point_app(rds.proxy(instance=db["DBInstanceIdentifier"])["Endpoint"],
                      masterarn=db["secret"])


@pytest.mark.parametrize("action", RDS_ACTIONS)
def test_shipped_policy_grants_each_rds_action_a_case_needs(rds, client_bin, action):
    policy = shipped_policy()
    listed = {a for st in policy["Statement"] for a in
              ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert set(RDS_ACTIONS) <= listed
    point_for_case(rds, RDS_ACTION_CASES[action])
    ready(rds, policy=without(policy, action))
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 1, proc.stderr
    assert result["error"]["code"] == "AccessDenied", result["error"]
    assert_nothing_changed(rds)
    # the same user with the whole policy: the rotation goes through
    rds.moto.disable_auth()
    rds.moto.boto3_client("iam").put_user_policy(
        UserName=f"client-{rds.suffix}", PolicyName=f"client-{rds.suffix}-policy",
        PolicyDocument=json.dumps(policy))
    rds.moto.enable_auth()
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 0, proc.stderr


# ----- the admin chain: RDS -> master -> rotator -> applications ---------------

@pytest.mark.parametrize("link2", ["extension", "no-extension"])
def test_admin_chain_of_three_links(rds, client_bin, link2):
    """1. RDS rotates its master secret (here done as RDS does it: a new
    password in the database and in the secret); 2. the master, as admin
    (through the extension, or ALTER ROLE with --no-extension), rotates the
    low-privilege rotator's secret; 3. the rotator rotates the application's.
    Each link reads the link above as it is now."""
    db = rds.instance()
    host = db["Endpoint"]["Address"]
    rotator = json.loads(rds.sm.get_secret_value(SecretId=rds.admin_secret)["SecretString"])
    rotator.update(host=host, masterarn=db["secret"])
    rds.sm.put_secret_value(SecretId=rds.admin_secret, SecretString=json.dumps(rotator))
    rds.point_app(host)
    if link2 == "extension":
        rds.pg.psql(f"INSERT INTO rotate.managed_role (role_name) VALUES ('{rds.admin_role}')",
                    dbname=rds.dbname)
    ready(rds)

    # 1. RDS rotates the master secret
    new_master = new_password()
    conn = rds.pg.connect(dbname=rds.dbname)
    with conn.cursor() as cur:
        quiet_session(cur)
        cur.execute(f"ALTER ROLE {rds.ident(rds.master_role)} PASSWORD %s", (new_master,))
    conn.close()
    rds.sm.put_secret_value(SecretId=db["secret"], SecretString=json.dumps(
        {"username": rds.master_role, "password": new_master}))

    # 2. the master rotates the rotator
    extra = ["--no-extension"] if link2 == "no-extension" else []
    proc = rds.run(client_bin, "rotate", "--secret-id", rds.admin_secret, "--json",
                   *rds.resolve_args(), *extra)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert (result["sm_calls"], result["rds_calls"]) == (8, 1)
    rotator_now = json.loads(rds.sm.get_secret_value(
        SecretId=rds.admin_secret, VersionStage="AWSCURRENT")["SecretString"])
    assert rotator_now["password"] != rds.admin_password
    assert rds.can_login(rotator_now["password"], user=rds.admin_role)
    assert not rds.can_login(rds.admin_password, user=rds.admin_role)

    # 3. the rotator, with its new password, rotates the application
    proc, result = rds.rotate(client_bin)
    assert proc.returncode == 0, proc.stderr
    assert (result["sm_calls"], result["rds_calls"]) == (7, 0)
    assert_rotated(rds, rds.initial_password)
    actors = {r["target"]: r["actor"] for r in rds.audit() if r["event"] == "password_set"}
    assert actors[rds.app_role] == rds.admin_role
    if link2 == "extension":
        assert actors[rds.admin_role] == rds.master_role
    else:
        assert rds.admin_role not in actors


def test_admin_dbname_rotates_a_role_that_owns_its_database(rds, client_bin):
    """An application that owns its database cannot be managed there (it
    could drop the audit log). With --admin-dbname the admin works in
    another database of the same server, where the extension and the
    allow-list are; the application keeps logging in to its own."""
    own = f"own_{rds.suffix}"
    rds.pg.psql(f'CREATE DATABASE "{own}" OWNER {rds.ident(rds.app_role)}')
    try:
        value = rds.value()
        value["dbname"] = own
        rds.sm.put_secret_value(SecretId=rds.app_secret, SecretString=json.dumps(value))
        ready(rds, policy=SM_POLICY)
        refused = rds.run(client_bin, "rotate", "--secret-id", rds.app_secret)
        assert refused.returncode == 1
        assert f'extension "pg_rotate" is not installed in database "{own}"' in refused.stderr
        proc = rds.run(client_bin, "rotate", "--secret-id", rds.app_secret,
                       "--admin-dbname", rds.dbname)
        assert proc.returncode == 0, proc.stderr
        new = rds.password("AWSCURRENT")
        rds.pg.connect(user=rds.app_role, dbname=own, password=new).close()
        events = [r["event"] for r in rds.audit() if r["target"] == rds.app_role]
        assert {"password_set", "tested", "finished"} <= set(events)
    finally:
        rds.pg.psql(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
