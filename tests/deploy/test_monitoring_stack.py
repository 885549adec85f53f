"""deploy/monitoring: the template lints, is up to date with its generator, and deploys to a real moto server.

moto's CloudFormation creates the SNS topic, the EventBridge rules and the dashboard itself, but has no
support for AWS::CloudWatch::Alarm, AWS::SNS::Subscription or AWS::SNS::TopicPolicy (it skips them with a
warning) nor AWS::Chatbot (conditioned off here: no Slack ids given). `apply_unsupported` creates those
resources through their own APIs on the same server, with the template's properties resolved against the
deployed stack, after checking them against botocore's input shapes; the assertions then read everything
back through the CloudWatch, SNS and EventBridge APIs.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.validate import validate_parameters
from deploy_helpers import DEPLOY

MONITORING = DEPLOY / "monitoring"
TEMPLATE = MONITORING / "feedguard-monitoring.yaml"
REGION = "eu-west-1"
PARAMETERS = {
    "Environment": "prod",
    "AlertEmail": "data-oncall@example.com",
    "MskClusterName": "feedguard-msk",
    "MwaaEnvironmentName": "feedguard-airflow",
    "EcsClusterName": "feedguard-batch",
}
# moto warns for each resource type its CloudFormation skips; apply_unsupported covers them.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")
FEEDS = {
    "quickbite-orders": ("quickbite", "orders", "feedguard-quickbite-orders"),
    "mealdash-orders": ("mealdash", "orders", "feedguard-mealdash-orders"),
    "foodnow-order-events": ("foodnow", "order_events", "feedguard-foodnow-order-events"),
}


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generator = load_module("feedguard_monitoring_generate", MONITORING / "generate.py")


def template() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return data


# --- static checks --------------------------------------------------------------------------------------


def test_template_is_what_the_generator_writes() -> None:
    assert generator.main(["--check"]) == 0, "run: python deploy/monitoring/generate.py"


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_in_the_template() -> None:
    text = TEMPLATE.read_text().lower()
    assert "hooks.slack.com" not in text and "password" not in text
    assert "NoEcho" not in TEMPLATE.read_text(), "the template takes no secret parameter"


# --- a minimal CloudFormation resolver for what moto skips ----------------------------------------------


class Resolver:
    """Resolve Ref / Fn::Sub / Fn::GetAtt / conditions against a deployed stack."""

    def __init__(self, tpl: dict[str, Any], params: dict[str, str], physical: dict[str, str]) -> None:
        defaults = {k: str(v.get("Default", "")) for k, v in tpl["Parameters"].items()}
        self.values = {
            **defaults,
            **params,
            **physical,
            "AWS::Region": REGION,
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
        }
        self.conditions = {name: self.truth(expr) for name, expr in tpl.get("Conditions", {}).items()}

    def truth(self, expr: Any) -> bool:
        if "Fn::Equals" in expr:
            left, right = (self.resolve(x) for x in expr["Fn::Equals"])
            return bool(left == right)
        if "Fn::Not" in expr:
            return not self.truth(expr["Fn::Not"][0])
        if "Fn::And" in expr:
            return all(self.truth(x) for x in expr["Fn::And"])
        if "Condition" in expr:
            return self.conditions[expr["Condition"]]
        raise AssertionError(f"unsupported condition {expr}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                return self.values[value["Ref"]]
            if set(value) == {"Fn::Sub"}:
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self.values[m.group(1)], value["Fn::Sub"])
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def active(self, resource: dict[str, Any]) -> bool:
        return "Condition" not in resource or self.conditions[resource["Condition"]]


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for the moto server, with fake credentials (never a real account)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def alarm_request(properties: dict[str, Any]) -> dict[str, Any]:
    request = dict(properties)
    request["Threshold"] = float(request["Threshold"])
    return request


def apply_unsupported(endpoint: str, tpl: dict[str, Any], resolver: Resolver) -> dict[str, int]:
    """Create the alarms, the email subscription and the topic policy through their APIs."""
    session = botocore.session.get_session()
    put_alarm_shape = session.get_service_model("cloudwatch").operation_model("PutMetricAlarm").input_shape
    cloudwatch = client("cloudwatch", endpoint)
    sns = client("sns", endpoint)
    created = {"alarms": 0, "subscriptions": 0, "policies": 0}
    for resource in tpl["Resources"].values():
        if not resolver.active(resource):
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            request = alarm_request(props)
            validate_parameters(request, put_alarm_shape)
            cloudwatch.put_metric_alarm(**request)
            created["alarms"] += 1
        elif resource["Type"] == "AWS::SNS::Subscription":
            sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])
            created["subscriptions"] += 1
        elif resource["Type"] == "AWS::SNS::TopicPolicy":
            for topic in props["Topics"]:
                policy = json.dumps(props["PolicyDocument"])
                sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
            created["policies"] += 1
    return created


# --- the deployed stack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> dict[str, Any]:
    cfn = client("cloudformation", moto_endpoint)
    tpl = template()
    cfn.create_stack(
        StackName="feedguard-monitoring",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
    )
    described = cfn.describe_stacks(StackName="feedguard-monitoring")["Stacks"][0]
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName="feedguard-monitoring")["StackResourceSummaries"]
    }
    resolver = Resolver(tpl, PARAMETERS, physical)
    created = apply_unsupported(moto_endpoint, tpl, resolver)
    return {
        "endpoint": moto_endpoint,
        "status": described["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        "physical": physical,
        "created": created,
        "template": tpl,
        "cloudwatch": client("cloudwatch", moto_endpoint),
        "sns": client("sns", moto_endpoint),
        "events": client("events", moto_endpoint),
    }


def alarms_by_name(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pages = stack["cloudwatch"].get_paginator("describe_alarms").paginate(AlarmNamePrefix="feedguard-prod-")
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def test_stack_is_created_with_its_topic_and_dashboard(stack: dict[str, Any]) -> None:
    assert stack["status"] == "CREATE_COMPLETE"
    topic_arn = stack["outputs"]["AlertsTopicArn"]
    assert topic_arn.endswith(":feedguard-prod-alerts")
    assert stack["outputs"]["DashboardName"] == "feedguard-prod"
    assert "SlackChannel" not in stack["physical"]  # no Slack ids given: condition off


def test_every_alarm_exists_and_notifies_the_topic(stack: dict[str, Any]) -> None:
    alarms = alarms_by_name(stack)
    expected_count = sum(
        1
        for r in stack["template"]["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r.get("Condition") in (None, "HasMsk", "HasMwaa")
    )
    assert len(alarms) == expected_count == stack["created"]["alarms"]
    topic_arn = stack["outputs"]["AlertsTopicArn"]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic_arn] and alarm["OKActions"] == [topic_arn]


@pytest.mark.parametrize("slug", FEEDS)
def test_pipeline_alarms_per_feed(stack: dict[str, Any], slug: str) -> None:
    source, dataset, job = FEEDS[slug]
    alarms = alarms_by_name(stack)
    dims = [
        {"Name": "Source", "Value": source},
        {"Name": "Dataset", "Value": dataset},
        {"Name": "Job", "Value": job},
        {"Name": "Environment", "Value": "prod"},
    ]
    expected = {
        "corrupt-ratio": ("CorruptRatio", "GreaterThanThreshold", 5.0),
        "dead-letters": ("RecordsDeadLettered", "GreaterThanThreshold", 0.0),
        "schema-drift": ("SchemaDriftDetected", "GreaterThanOrEqualToThreshold", 1.0),
        "dq-failed": ("DQSuccess", "LessThanThreshold", 1.0),
        "job-duration": (
            "JobDurationSeconds",
            "GreaterThanThreshold",
            5400.0 if source == "foodnow" else 2700.0,
        ),
        "no-data": ("RecordsRead", "LessThanThreshold", 1.0),
    }
    if source == "foodnow":
        expected |= {
            "broker-downtime": ("DowntimeSeconds", "GreaterThanThreshold", 1800.0),
            "messages-lost": ("MessagesLost", "GreaterThanThreshold", 0.0),
            "consumer-lag": ("ConsumerLag", "GreaterThanThreshold", 100000.0),
        }
    for suffix, (metric, operator, threshold) in expected.items():
        alarm = alarms[f"feedguard-prod-{slug}-{suffix}"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Feedguard/DataQuality", metric)
        assert alarm["Dimensions"] == dims
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (operator, threshold)
    no_data = alarms[f"feedguard-prod-{slug}-no-data"]
    assert no_data["TreatMissingData"] == "breaching"
    if source != "foodnow":  # daily feeds: one day without records
        assert (no_data["Period"], no_data["EvaluationPeriods"]) == (86400, 1)


def test_platform_alarms(stack: dict[str, Any]) -> None:
    alarms = alarms_by_name(stack)
    lag = alarms["feedguard-prod-msk-consumer-lag"]
    assert (lag["Namespace"], lag["MetricName"]) == ("AWS/Kafka", "MaxOffsetLag")
    assert {d["Name"]: d["Value"] for d in lag["Dimensions"]} == {
        "Cluster Name": "feedguard-msk",
        "Consumer Group": "feedguard-foodnow",
        "Topic": "foodnow.order-events",
    }
    for name, rule in (("glue-job-failed", "GlueJobFailedRule"), ("batch-job-failed", "BatchJobFailedRule")):
        alarm = alarms[f"feedguard-prod-{name}"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "TriggeredRules")
        assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": stack["physical"][rule]}]
    for dag in ("feedguard_quickbite_orders", "feedguard_mealdash_orders", "feedguard_foodnow_order_events"):
        slug = dag.removeprefix("feedguard_").replace("_", "-")
        alarm = alarms[f"feedguard-prod-{slug}-dag-failed"]
        assert alarm["Namespace"] == "AmazonMWAA"
        assert {"Name": "DAG", "Value": dag} in alarm["Dimensions"]


def test_job_failure_rules_send_to_the_topic(stack: dict[str, Any]) -> None:
    events = stack["events"]
    topic_arn = stack["outputs"]["AlertsTopicArn"]
    for name, source, field, states in (
        ("feedguard-prod-glue-job-failed", "aws.glue", "state", {"FAILED", "TIMEOUT", "ERROR"}),
        ("feedguard-prod-batch-job-failed", "aws.batch", "status", {"FAILED"}),
    ):
        rule = events.describe_rule(Name=name)
        pattern = json.loads(rule["EventPattern"])
        assert pattern["source"] == [source]
        assert set(pattern["detail"][field]) == states
        assert pattern["detail"]["jobName"] == [{"prefix": "feedguard-"}]
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        assert [t["Arn"] for t in targets] == [topic_arn]
        assert "docs/operations.md" in targets[0]["InputTransformer"]["InputTemplate"]


def test_email_subscription_and_topic_policy(stack: dict[str, Any]) -> None:
    topic_arn = stack["outputs"]["AlertsTopicArn"]
    subs = stack["sns"].list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "data-oncall@example.com")]
    policy = json.loads(stack["sns"].get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    principals = policy["Statement"][0]["Principal"]["Service"]
    assert set(principals) == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}


def test_dashboard_covers_pipeline_airflow_batch_ecs_and_msk(stack: dict[str, Any]) -> None:
    body = json.loads(stack["cloudwatch"].get_dashboard(DashboardName="feedguard-prod")["DashboardBody"])
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    plain = [[x for x in m if not isinstance(x, dict)] for m in metrics]
    pipeline = {(m[1], m[3], m[5]) for m in plain if m and m[0] == "Feedguard/DataQuality"}
    for source, dataset, _job in FEEDS.values():
        for metric in (
            "RecordsRead",
            "RecordsValid",
            "RecordsDeadLettered",
            "CorruptRatio",
            "DQSuccess",
            "SchemaDriftDetected",
            "FilesQuarantined",
            "JobDurationSeconds",
            "ExpectationsFailed",
        ):
            assert (metric, source, dataset) in pipeline
    for metric in ("ConsumerLag", "DowntimeSeconds", "MessagesLost"):
        assert (metric, "foodnow", "order_events") in pipeline
    assert all("prod" in m for m in plain if m and m[0] == "Feedguard/DataQuality")
    names = {(m[0], m[1]) for m in plain if m}
    assert {
        ("AWS/Kafka", "MaxOffsetLag"),
        ("AWS/Kafka", "SumOffsetLag"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("AWS/Events", "TriggeredRules"),
        ("AmazonMWAA", "TaskInstanceDuration"),
        ("AmazonMWAA", "DAGDurationFailed"),
    } <= names
    expressions = " ".join(
        x["expression"] for m in metrics for x in m if isinstance(x, dict) and "expression" in x
    )
    assert (
        "CpuUser" in expressions and "KafkaDataLogsDiskUsed" in expressions and "feedguard-msk" in expressions
    )


def test_dashboard_graphs_the_airflow_task_ids_the_dags_define(stack: dict[str, Any]) -> None:
    feeds = load_module("feedguard_feeds", DEPLOY / "airflow" / "feedguard_feeds.py")
    body = json.loads(stack["cloudwatch"].get_dashboard(DashboardName="feedguard-prod")["DashboardBody"])
    graphed = {
        (m[m.index("DAG") + 1], m[m.index("Task") + 1])
        for w in body["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if "Task" in m
    }
    expected = {(f.dag_id, t) for f in feeds.FEEDS for t in generator.INGEST_TASKS}
    assert graphed == expected
    assert set(generator.INGEST_TASKS) <= set(feeds.TASK_IDS)
