"""deploy/: the SAM template passes cfn-lint, and its execution role and the
standalone deploy/rotation-policy.json (which the IAM tests attach to a moto
user) grant the same actions, statement by statement."""

import json
import os
import shutil

import pytest
import yaml

from harness import util
from harness.util import REPO

TEMPLATE = os.path.join(REPO, "deploy", "template.yaml")
POLICY = os.path.join(REPO, "deploy", "rotation-policy.json")


def find_cfn_lint():
    """cfn-lint on PATH (pyenv on our machines), else where test/deps.sh
    installs it: the private virtualenv it shares with moto_server."""
    venv = os.environ.get("PG_ROTATE_MOTO_VENV",
                          os.path.expanduser("~/.local/share/pg_rotate/moto"))
    in_venv = os.path.join(venv, "bin", "cfn-lint")
    return (os.environ.get("CFN_LINT") or shutil.which("cfn-lint")
            or (in_venv if os.access(in_venv, os.X_OK) else None))


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !If, ...) read as
    their long forms ({"Ref": ...}, {"Fn::If": [...]})."""


def _short_form(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _short_form)


def load_template():
    with open(TEMPLATE) as f:
        return yaml.load(f, Loader=CfnLoader)


def load_policy():
    with open(POLICY) as f:
        return json.load(f)


def as_list(value):
    return [value] if isinstance(value, str) else list(value)


def template_statements(template):
    """Every statement of the execution role's policies, with both branches
    of an Fn::If (the VPC and KMS statements exist only when configured)."""
    role = template["Resources"]["RotationRole"]["Properties"]
    statements = []
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if isinstance(statement, dict) and "Fn::If" in statement:
                _, when_true, when_false = statement["Fn::If"]
                statements += [s for s in (when_true, when_false) if "Sid" in s]
            else:
                statements.append(statement)
    return statements


def test_cfn_lint_passes_on_the_template():
    cfn_lint = find_cfn_lint()
    if cfn_lint is None:
        pytest.fail("cfn-lint not found on PATH nor in ~/.local/share/pg_rotate/moto: "
                    "run \"make deps\"")
    proc = util.run([cfn_lint, "--", TEMPLATE], check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cfn_lint_finds_a_broken_copy(tmp_path):
    """The linter really checks this template: a wrong runtime is an error."""
    cfn_lint = find_cfn_lint()
    if cfn_lint is None:
        pytest.fail("cfn-lint not found: run \"make deps\"")
    with open(TEMPLATE) as f:
        text = f.read()
    assert "Runtime: provided.al2023" in text
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace("Runtime: provided.al2023", "Runtime: provided.al2099"))
    proc = util.run([cfn_lint, "--", str(broken)], check=False, timeout=300)
    assert proc.returncode == 2 and "provided.al2099" in proc.stdout, proc.stdout   # an error


def test_policy_json_is_a_policy_document():
    policy = load_policy()
    assert isinstance(policy, dict)
    assert policy["Version"] == "2012-10-17"
    assert isinstance(policy["Statement"], list) and policy["Statement"]
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Sid"] and statement["Action"] and statement["Resource"]


def test_template_and_policy_json_grant_the_same_actions():
    from_template = {s["Sid"]: sorted(as_list(s["Action"]))
                     for s in template_statements(load_template())}
    from_json = {s["Sid"]: sorted(as_list(s["Action"]))
                 for s in load_policy()["Statement"]}
    assert from_template == from_json


def test_role_is_least_privilege():
    """Only the rotation function's needs, each on the narrowest resource:
    secret actions on the named secrets, the admin secret read-only, RDS
    read-only in the function's own account and region,
    wildcards only where the action takes no resource, KMS only through
    Secrets Manager."""
    by_sid = {s["Sid"]: s for s in template_statements(load_template())}
    actions = {a for s in by_sid.values() for a in as_list(s["Action"])}
    assert not [a for a in actions if "*" in a], actions
    assert {a for a in actions if a.startswith("secretsmanager:")} == {
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:GetRandomPassword"}
    assert by_sid["RotateTheSecrets"]["Resource"] == {"Ref": "RotatedSecretArns"}
    assert by_sid["ReadTheAdminSecret"]["Resource"] == {"Ref": "AdminSecretArn"}
    assert sorted(as_list(by_sid["ReadTheAdminSecret"]["Action"])) == [
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    rds = by_sid["DescribeTheDatabases"]
    assert sorted(as_list(rds["Action"])) == [
        "rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DescribeDBProxies",
        "rds:DescribeDBProxyTargets"]
    assert rds["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:*"}
    assert {a for a in actions if a.startswith("rds:")} == set(as_list(rds["Action"]))
    wildcard = sorted(sid for sid, s in by_sid.items() if s["Resource"] == "*")
    assert wildcard == ["GeneratePasswords", "ManageVpcNetworkInterfaces"]
    kms = by_sid["UseTheSecretsKey"]
    assert kms["Resource"] == {"Ref": "KmsKeyArn"}
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}


def test_function_and_invoke_permission():
    resources = load_template()["Resources"]
    fn = resources["RotationFunction"]
    assert fn["Type"] == "AWS::Serverless::Function"
    props = fn["Properties"]
    assert (props["Runtime"], props["Handler"], props["Architectures"]) == \
        ("provided.al2023", "bootstrap", ["x86_64"])
    # CodeUri is relative to the template; make lambda-zip writes the zip at the root.
    code = os.path.normpath(os.path.join(os.path.dirname(TEMPLATE), props["CodeUri"]))
    assert code == os.path.join(REPO, "lambda.zip")
    env = props["Environment"]["Variables"]
    assert {"SECRETS_MANAGER_ENDPOINT", "EXCLUDE_CHARACTERS", "PASSWORD_LENGTH",
            "EXCLUDE_NUMBERS", "EXCLUDE_PUNCTUATION", "EXCLUDE_UPPERCASE",
            "EXCLUDE_LOWERCASE", "REQUIRE_EACH_INCLUDED_TYPE"} <= set(env)
    params = load_template()["Parameters"]
    assert params["ExcludeCharacters"]["Default"] == ":/@\"'\\"
    perm = resources["SecretsManagerInvokePermission"]["Properties"]
    assert perm["Principal"] == "secretsmanager.amazonaws.com"
    assert perm["Action"] == "lambda:InvokeFunction"
    assert perm["SourceAccount"] == {"Ref": "AWS::AccountId"}
    schedule = resources["ExampleRotationSchedule"]
    assert schedule["Type"] == "AWS::SecretsManager::RotationSchedule"
    assert schedule["Condition"] == "CreateSchedule"


def test_alarm_on_failed_rotations():
    """The example alarm watches the function's own metric of failed steps
    (the EMF lines, test_lambda.py checks the names match), in the
    namespace the function is given, across all its secrets; no data is no
    failure; an SNS topic only when one is given."""
    template = load_template()
    alarm = template["Resources"]["RotationFailureAlarm"]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm" and alarm["Condition"] == "HasMetrics"
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == \
        ({"Ref": "MetricsNamespace"}, "Failed", "Sum")
    assert "Dimensions" not in props
    assert (props["Threshold"], props["ComparisonOperator"], props["TreatMissingData"]) == \
        (1, "GreaterThanOrEqualToThreshold", "notBreaching")
    assert props["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"
    env = template["Resources"]["RotationFunction"]["Properties"]["Environment"]["Variables"]
    assert env["PG_ROTATE_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert env["PG_ROTATE_ANCHOR_IN_SECRET"] == {"Ref": "AnchorInSecret"}
    assert template["Conditions"]["HasMetrics"] == \
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "MetricsNamespace"}, ""]}]}
