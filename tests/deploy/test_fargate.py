"""deploy/fargate: the FoodNow consumer service template lints, matches botocore's shapes and the job's flags,
deploys to a real moto server, and the image's entrypoint runs the service under python.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.validate import validate_parameters
from deploy_helpers import DEPLOY, accepted_flags, flag_name
from test_batch import dry_run, image_home  # noqa: F401 (image_home is a fixture)

TEMPLATE = DEPLOY / "fargate" / "foodnow-consumer.yaml"
REGION, ACCOUNT = "eu-west-1", "123456789012"
MSK_UUID = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-2"
PARAMETERS = {
    "Environment": "prod",
    "Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/feedguard:0.1.0",
    "LakeBucket": "feedguard-lake-123456789012",
    "BootstrapServers": "b-1.msk.example:9094,b-2.msk.example:9094",
    "MskClusterArn": f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/feedguard-msk/{MSK_UUID}",
    "AlertsTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:feedguard-prod-alerts",
    "SlackSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:feedguard/slack-webhook-AbCdEf",
    "Subnets": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "SecurityGroups": "sg-0123456789abcdef0",
}


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms."""


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def template() -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)
    return data


class Resolver:
    """Resolves the intrinsics the template uses against parameters and (fake) physical ids."""

    def __init__(self, tpl: dict[str, Any], params: dict[str, str]) -> None:
        defaults = {k: str(v.get("Default", "")) for k, v in tpl["Parameters"].items()}
        self.tpl = tpl
        self.values: dict[str, Any] = {**defaults, **params, "AWS::Region": REGION,
                                       "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                                       "AWS::StackName": "feedguard-foodnow-consumer"}  # fmt: skip
        for name, spec in tpl["Parameters"].items():
            if spec["Type"].startswith("List<"):
                self.values[name] = self.values[name].split(",")
        for name in tpl["Resources"]:
            self.values.setdefault(name, f"{name.lower()}-physical-id")

    def sub(self, text: str, extra: dict[str, Any]) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str({**self.values, **extra}[m.group(1)]), text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {k: self.resolve(v) for k, v in value.items()}
        (name, arg), = value.items()  # fmt: skip
        if name == "Ref":
            return self.values[arg]
        if name == "Fn::GetAtt":
            return f"arn:aws:iam::{ACCOUNT}:role/{arg[0]}" if arg[1] == "Arn" else f"{arg[0]}-{arg[1]}"
        if name == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self.sub(text, extra)
        if name == "Fn::FindInMap":
            table, key, item = self.resolve(arg)
            return self.tpl["Mappings"][table][str(key)][item]
        if name == "Fn::Split":
            return str(self.resolve(arg[1])).split(arg[0])
        if name == "Fn::Select":
            return self.resolve(arg[1])[int(arg[0])]
        raise AssertionError(f"unsupported intrinsic {name}")


def api_form(value: Any, key: str = "") -> Any:
    """CloudFormation's ECS property names as the API spells them (camelCase; log options kept as is)."""
    if isinstance(value, list):
        return [api_form(v) for v in value]
    if isinstance(value, dict) and key != "Options":
        return {k[0].lower() + k[1:]: api_form(v, k) for k, v in value.items()}
    return value


def resolved(name: str) -> dict[str, Any]:
    tpl = template()
    props: dict[str, Any] = Resolver(tpl, PARAMETERS).resolve(tpl["Resources"][name]["Properties"])
    return props


def container() -> dict[str, Any]:
    (definition,) = resolved("TaskDefinition")["ContainerDefinitions"]
    return dict(definition)


# --- static checks --------------------------------------------------------------------------------------


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_task_definition_matches_botocores_register_task_definition_shape() -> None:
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    request = api_form(resolved("TaskDefinition"))
    validate_parameters(request, shape.input_shape)
    assert (request["cpu"], request["memory"], request["networkMode"]) == ("2048", "4096", "awsvpc")


def test_the_service_matches_botocores_create_service_shape() -> None:
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("CreateService")
    request = api_form(resolved("Service"))
    validate_parameters(request, shape.input_shape)
    assert (request["desiredCount"], request["launchType"]) == (1, "FARGATE")
    assert request["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }


def test_the_container_runs_the_continuous_job_with_flags_it_accepts() -> None:
    command = container()["Command"]
    assert command[:2] == ["ingest_kafka", "--continuous"]
    flags = {flag_name(item) for item in command[1:] if item.startswith("--")}
    assert flags <= accepted_flags("ingest_kafka"), flags - accepted_flags("ingest_kafka")
    assert command[command.index("--health_address") + 1] == "127.0.0.1:8080"
    assert command[command.index("--lake_path") + 1] == "s3://feedguard-lake-123456789012/lake"
    assert "--run_id" not in command  # every batch gets its own


def test_the_health_check_asks_healthz_and_the_stop_timeout_covers_the_jobs_own() -> None:
    spec = container()
    check = spec["HealthCheck"]
    assert (
        check["Command"][:2] == ["CMD", "python"] and "http://127.0.0.1:8080/healthz" in check["Command"][-1]
    )
    assert check["StartPeriod"] >= 120  # JVM start and the first batch
    command = spec["Command"]
    assert int(command[command.index("--stop_timeout_seconds") + 1]) + 15 <= spec["StopTimeout"] <= 120
    assert {e["Name"]: e["Value"] for e in spec["Environment"]}["FEEDGUARD_VCPUS"] == "2"
    assert spec["LogConfiguration"]["LogDriver"] == "awslogs"


def test_the_task_role_grants_only_what_the_consumer_uses() -> None:
    (policy,) = resolved("TaskRole")["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    actions = sorted(a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                              else s["Action"]))  # fmt: skip
    assert not [a for a in actions if "*" in a]
    assert all(s["Resource"] != "*" or "Condition" in s for s in statements.values())
    assert statements["LakeReadWrite"]["Resource"] == "arn:aws:s3:::feedguard-lake-123456789012/lake/*"
    assert statements["MskReadTopic"]["Resource"].endswith(
        f":topic/feedguard-msk/{MSK_UUID}/foodnow.order-events"
    )
    assert statements["SlackWebhookSecret"]["Resource"] == PARAMETERS["SlackSecretArn"]


# --- the image's entrypoint -----------------------------------------------------------------------------


def test_the_entrypoint_runs_a_continuous_job_under_python_with_the_spark_submit_options(
    image_home: Path,  # noqa: F811 (the fixture)
) -> None:
    cmd = dry_run(image_home, "ingest_kafka", "--continuous", "--source", "foodnow",
                  FEEDGUARD_VCPUS="2", FEEDGUARD_MEMORY_MIB="8192")  # fmt: skip
    assert cmd[0] == "env" and cmd[2:4] == ["python", str(image_home / "jobs" / "ingest_kafka.py")]
    name, _, value = cmd[1].partition("=")
    submit = shlex.split(value)  # as pyspark's launcher splits PYSPARK_SUBMIT_ARGS
    assert name == "PYSPARK_SUBMIT_ARGS" and submit[-1] == "pyspark-shell"
    assert submit[submit.index("--master") + 1] == "local[2]"
    assert submit[submit.index("--driver-memory") + 1] == f"{8192 * 70 // 100}m"
    jars = submit[submit.index("--jars") + 1].split(",")
    assert len(jars) == 7 and Path(jars[0]).name == "feedguard-jvm-0.1.0.jar"  # then Delta and Kafka
    assert cmd[4:] == ["--continuous", "--source", "foodnow"]
    batch = dry_run(image_home, "ingest_kafka", "--source", "foodnow")
    assert batch[0].endswith("spark-submit")  # the scheduled drain is unchanged


# --- the deployed stack ---------------------------------------------------------------------------------


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> dict[str, Any]:
    cfn = client("cloudformation", moto_endpoint)
    cfn.create_stack(
        StackName="feedguard-foodnow-consumer",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    described = cfn.describe_stacks(StackName="feedguard-foodnow-consumer")["Stacks"][0]
    return {
        "status": described["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        "ecs": client("ecs", moto_endpoint),
        "events": client("events", moto_endpoint),
        "logs": client("logs", moto_endpoint),
    }


def test_the_stack_deploys_a_cluster_with_container_insights_and_exports_its_names(
    stack: dict[str, Any],
) -> None:
    assert stack["status"] == "CREATE_COMPLETE"
    assert (stack["outputs"]["ClusterName"], stack["outputs"]["ServiceName"]) == (
        "feedguard-consumers", "feedguard-foodnow-order-events",
    )  # fmt: skip
    # moto's CloudFormation drops ClusterSettings: apply the template's through the API, checked by its shape.
    ecs, settings = stack["ecs"], api_form(resolved("Cluster")["ClusterSettings"])
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("UpdateCluster")
    validate_parameters({"cluster": "feedguard-consumers", "settings": settings}, shape.input_shape)
    ecs.update_cluster(cluster="feedguard-consumers", settings=settings)
    clusters = ecs.describe_clusters(clusters=["feedguard-consumers"], include=["SETTINGS"])["clusters"]
    assert [c["settings"] for c in clusters] == [[{"name": "containerInsights", "value": "enhanced"}]]


def test_the_deployed_service_runs_one_fargate_task_of_the_consumer_definition(stack: dict[str, Any]) -> None:
    ecs = stack["ecs"]
    (service,) = ecs.describe_services(cluster="feedguard-consumers",
                                       services=["feedguard-foodnow-order-events"])["services"]  # fmt: skip
    assert service["desiredCount"] == 1  # (moto's CloudFormation drops LaunchType: checked on the template)
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (spec,) = definition["containerDefinitions"]
    assert spec["healthCheck"]["command"][:2] == ["CMD", "python"] and spec["stopTimeout"] == 120
    options = spec["logConfiguration"]["options"]
    assert options["awslogs-group"] == "/feedguard/foodnow-consumer"
    groups = stack["logs"].describe_log_groups(logGroupNamePrefix="/feedguard/foodnow-consumer")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [options["awslogs-group"]]


def test_stopped_tasks_and_failed_deployments_go_to_the_alerts_topic(stack: dict[str, Any]) -> None:
    events = stack["events"]
    rules = {
        r["Description"]: r for r in events.list_rules()["Rules"] if "consumer" in r.get("Description", "")
    }
    assert len(rules) == 2
    for rule in rules.values():
        pattern = json.loads(rule["EventPattern"])
        assert pattern["source"] == ["aws.ecs"]
        (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert target["Arn"] == PARAMETERS["AlertsTopicArn"]
        assert "docs/operations.md" in target["InputTransformer"]["InputTemplate"]
    stopped = next(json.loads(r["EventPattern"]) for r in rules.values()
                   if "ECS Task State Change" in r["EventPattern"])  # fmt: skip
    assert stopped["detail"]["lastStatus"] == ["STOPPED"]
    assert stopped["detail"]["group"] == ["service:feedguard-foodnow-order-events"]
