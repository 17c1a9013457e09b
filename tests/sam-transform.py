"""Transforms infra/template.yaml with AWS SAM's own translator (what CloudFormation runs on
deploy) and checks what comes out: the transform succeeds, the stack stays under
CloudFormation's 500-resource limit, every operation's role attaches the managed policies
the generator chose, and every function has its alarm. It also checks that samconfig.toml's dev
and prod environments each set every parameter of the template, and nothing else.

Usage: python tests/sam-transform.py infra/template.yaml
"""

import json
import os
import sys
import tomllib
from collections import Counter

import yaml
from samtranslator.translator.transform import transform

LIMIT = 500


class Loader(yaml.SafeLoader):
    pass


def tag(loader, suffix, node):
    """CloudFormation's short forms (!Ref X, !GetAtt A.B, !Sub ...) as their long forms."""
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


Loader.add_multi_constructor("!", tag)


class NoManagedPolicies:
    def load(self):
        return {}


def environment_problems(template, samconfig_path):
    """Every environment of samconfig.toml sets exactly the template's parameters."""
    with open(samconfig_path, "rb") as f:
        config = tomllib.load(f)
    wanted = set(template["Parameters"])
    problems = []
    for env in ("dev", "prod"):
        overrides = config.get(env, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
        given = {o.split("=", 1)[0] for o in overrides}
        for name in sorted(wanted - given):
            problems.append(f"samconfig.toml [{env}] does not set {name}")
        for name in sorted(given - wanted):
            problems.append(f"samconfig.toml [{env}] sets {name}, which the template does not have")
    return problems


def role_of(function):
    """The name of the role resource a function runs as (SAM's `<Function>Role`, or its own)."""
    role = function["Properties"]["Role"]
    return role["Fn::GetAtt"][0]


def statements(role):
    return [st for p in role.get("Policies", []) for st in p["PolicyDocument"]["Statement"]]


def notifier_problems(resources):
    """The notifier runs as its own role: no managed policy of AWS's (SAM would attach
    AWSLambdaDynamoDBExecutionRole: every stream, every log group), the table's stream only,
    its own log group only."""
    problems = []
    name = role_of(resources["NotifierFunction"])
    if name == "NotifierFunctionRole":
        return ["the notifier runs as a role SAM made, with AWS's stream policy over every stream"]
    role = resources[name]["Properties"]
    foreign = [p for p in role.get("ManagedPolicyArns", []) if not isinstance(p, dict)]
    if foreign:
        problems.append("the notifier's role attaches AWS managed policies: " + ", ".join(map(str, foreign)))
    for st in statements(role):
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st["Effect"] != "Allow":
            continue
        if any(a.startswith("dynamodb:") and "Stream" in a or a == "dynamodb:GetRecords" for a in actions):
            if st["Resource"] != {"Fn::GetAtt": ["Table", "StreamArn"]}:
                problems.append(f"the notifier reads streams beyond the table's: {st['Resource']}")
        if any(a.startswith("logs:") for a in actions):
            if st["Resource"] != {"Fn::GetAtt": ["NotifierLogGroup", "Arn"]}:
                problems.append(f"the notifier writes logs beyond its own log group: {st['Resource']}")
    granted = {a for st in statements(role) for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    for needed in ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                   "dynamodb:ListStreams", "logs:PutLogEvents", "sqs:SendMessage", "ses:SendEmail", "sns:Publish"):
        if needed not in granted:
            problems.append(f"the notifier's role does not allow {needed}")
    return problems


def main(path):
    with open(path) as f:
        template = yaml.load(f, Loader=Loader)
    samconfig = os.path.join(os.path.dirname(os.path.abspath(path)), "..", "samconfig.toml")
    problems = environment_problems(template, samconfig)
    # sam build replaces the local CodeUri with the uploaded artifact.
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/guardpost.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = transform(template, {}, NoManagedPolicies())
    resources = out["Resources"]
    kinds = Counter(r["Type"] for r in resources.values())
    functions = [n for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    alarmed = {
        d["Value"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for m in r["Properties"].get("Metrics", [])
        for d in m.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
        if d["Name"] == "FunctionName"
    }
    problems += [f"{n} has no alarm" for n in functions if n not in alarmed]
    for name in functions:
        role = resources[role_of(resources[name])]["Properties"]
        refs = [p["Ref"] for p in role.get("ManagedPolicyArns", []) if isinstance(p, dict)]
        inline = role.get("Policies", [])
        if name != "NotifierFunction" and inline:
            problems.append(f"{name} has inline policies; operations attach the shared managed ones")
        if name == "HealthFunction" and refs:
            problems.append("health touches no AWS service but attaches " + ", ".join(refs))
        if name not in ("HealthFunction",) and "TableReadPolicy" not in refs:
            problems.append(f"{name} cannot read the table")
    problems += notifier_problems(resources)
    note = resources["NoteAssignmentUsePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    leading = [st.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys") for st in note]
    if leading != [["T#*#USAGE#*"]]:
        problems.append(f"the read-only functions may write beyond the usage partitions: {leading}")
    if len(resources) >= LIMIT:
        problems.append(f"{len(resources)} resources: CloudFormation allows {LIMIT} per stack")
    print(f"sam transform: {len(resources)} resources (limit {LIMIT}), {len(functions)} functions, "
          f"{kinds['AWS::CloudWatch::Alarm']} alarms, {kinds['AWS::IAM::ManagedPolicy']} managed policies")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
