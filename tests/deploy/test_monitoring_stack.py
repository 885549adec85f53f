"""deploy/monitoring: the template lints, is up to date with its generator, and deploys to a real moto server.

moto's CloudFormation creates the topics, the EventBridge rules, the ECS and IAM resources and the dashboard,
but skips AWS::CloudWatch::Alarm, AWS::SNS::Subscription, AWS::SNS::TopicPolicy and AWS::Scheduler::Schedule
(with a warning) and AWS::Chatbot (conditioned off here). `apply_unsupported` creates the alarms, the
subscription and the policy through their own APIs on the same server, after checking the alarms against
botocore's input shape; the assertions read everything back through the AWS APIs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters
from test_monitoring_helpers import BARE, FULL, TEMPLATE, Resolver, client, generator, template

from feedguard.kafka.config import default_consumer_group

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")


def test_template_is_what_the_generator_writes() -> None:
    assert generator.main(["--check"]) == 0, "run: python deploy/monitoring/generate.py"


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_in_the_template() -> None:
    text = TEMPLATE.read_text()
    assert "hooks.slack.com" not in text.lower() and "password" not in text.lower()
    assert "NoEcho" not in text, "the template takes no secret parameter"


def apply_unsupported(endpoint: str, tpl: dict[str, Any], resolver: Resolver) -> int:
    """Create the alarms, the e-mail subscription and the topic policy through their APIs; count alarms."""
    shape = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm")
    cloudwatch, sns, alarms = client("cloudwatch", endpoint), client("sns", endpoint), 0
    for resource in tpl["Resources"].values():
        if not resolver.active(resource):
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            props["Threshold"] = float(props["Threshold"])
            validate_parameters(props, shape.input_shape)
            cloudwatch.put_metric_alarm(**props)
            alarms += 1
        elif resource["Type"] == "AWS::SNS::Subscription":
            sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])
        elif resource["Type"] == "AWS::SNS::TopicPolicy":
            for topic in props["Topics"]:
                policy = json.dumps(props["PolicyDocument"])
                sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
    return alarms


def deploy(endpoint: str, name: str, params: dict[str, str]) -> dict[str, Any]:
    cfn, tpl = client("cloudformation", endpoint), template()
    values = [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
                     Parameters=values)  # fmt: skip
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}  # fmt: skip
    resolver = Resolver(tpl, params, physical)
    env = params["Environment"]
    return {
        "status": described["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        "physical": physical,
        "resolver": resolver,
        "created_alarms": apply_unsupported(endpoint, tpl, resolver),
        "dashboard": json.loads(
            client("cloudwatch", endpoint).get_dashboard(DashboardName=f"feedguard-{env}")["DashboardBody"]
        ),
        "alarms": {a["AlarmName"]: a for page in client("cloudwatch", endpoint).get_paginator(
            "describe_alarms").paginate(AlarmNamePrefix=f"feedguard-{env}-") for a in page["MetricAlarms"]},
        "endpoint": endpoint,
    }  # fmt: skip


@pytest.fixture(scope="module")
def full(moto_endpoint: str) -> dict[str, Any]:
    return deploy(moto_endpoint, "feedguard-monitoring-prod", FULL)


@pytest.fixture(scope="module")
def bare(moto_endpoint: str) -> dict[str, Any]:
    return deploy(moto_endpoint, "feedguard-monitoring-dev", BARE)


def test_stack_is_created_with_its_topics_dashboard_and_collector(full: dict[str, Any]) -> None:
    assert full["status"] == "CREATE_COMPLETE"
    assert full["outputs"]["AlertsTopicArn"].endswith(":feedguard-prod-alerts")
    assert full["outputs"]["ChatTopicArn"].endswith(":feedguard-prod-chat")
    assert {"CollectorCluster", "CollectorTaskDefinition", "EcsTaskStoppedRule"} <= set(full["physical"])
    assert "SlackChannel" not in full["physical"]  # no Slack ids given: condition off
    # moto keeps no cluster settings: the template's own value is checked.
    settings = template()["Resources"]["CollectorCluster"]["Properties"]["ClusterSettings"]
    assert settings == [{"Name": "containerInsights", "Value": "enhanced"}]


def test_every_alarm_exists_and_notifies_email_and_slack(full: dict[str, Any]) -> None:
    assert len(full["alarms"]) == full["created_alarms"] == len(generator.alarms())  # everything configured
    topics = [full["outputs"]["AlertsTopicArn"], full["outputs"]["ChatTopicArn"]]
    for alarm in full["alarms"].values():
        assert alarm["AlarmActions"] == topics and alarm["OKActions"] == topics


def test_msk_lag_watches_the_group_the_kafka_job_commits_to(full: dict[str, Any]) -> None:
    lag = full["alarms"]["feedguard-prod-msk-consumer-lag"]
    assert (lag["Namespace"], lag["MetricName"]) == ("AWS/Kafka", "MaxOffsetLag")
    assert {d["Name"]: d["Value"] for d in lag["Dimensions"]} == {
        "Cluster Name": "feedguard-msk",
        "Consumer Group": default_consumer_group("foodnow", "order_events"),  # feedguard-foodnow-order_events
        "Topic": "foodnow.order-events",
    }


def test_deployed_dashboard_is_the_generators_data_structure(full: dict[str, Any]) -> None:
    resolver = full["resolver"]
    expected = resolver.resolve(json.loads(json.dumps(generator.dashboard_body(resolver.active_conditions())),
                                           object_hook=lambda d: d))  # fmt: skip
    expected = json.loads(resolver.resolve({"Fn::Sub": json.dumps(expected)}))
    assert len(full["dashboard"]["widgets"]) == len(expected["widgets"])
    for got, want in zip(full["dashboard"]["widgets"], expected["widgets"], strict=True):
        assert got == want
    alarm_widget = full["dashboard"]["widgets"][-1]
    assert alarm_widget["type"] == "alarm"
    assert sorted(a.rsplit(":", 1)[1] for a in alarm_widget["properties"]["alarms"]) == sorted(full["alarms"])


def metric_namespaces(dashboard: dict[str, Any]) -> set[str]:
    text = json.dumps(dashboard)
    return {ns for ns in ("AWS/Kafka", "AmazonMWAA", "ECS/ContainerInsights", "AWS/ECS") if ns in text}


def test_unconfigured_components_are_left_out_not_drawn_empty(bare: dict[str, Any]) -> None:
    assert bare["status"] == "CREATE_COMPLETE"
    assert metric_namespaces(bare["dashboard"]) == set()
    titles = [w["properties"].get("title", "") for w in bare["dashboard"]["widgets"] if w["type"] != "text"]
    assert not [t for t in titles if t.startswith(("Batch", "Fargate", "MSK", "Airflow (MWAA)"))]
    assert "Overview: DAG success rate, last 24 h (%)" in titles
    optional = ("msk-", "fargate-", "batch-jobs", "task-stuck")
    assert not [n for n in bare["alarms"] if n.removeprefix("feedguard-dev-").startswith(optional)]
    assert "CollectorCluster" not in bare["physical"] and "EcsTaskStoppedRule" not in bare["physical"]
    alarms = bare["dashboard"]["widgets"][-1]["properties"]["alarms"]
    assert sorted(a.rsplit(":", 1)[1] for a in alarms) == sorted(bare["alarms"])


def test_failure_rules_send_text_to_email_and_chatbot_notifications_to_slack(full: dict[str, Any]) -> None:
    events = client("events", full["endpoint"])
    for name in ("glue-job-failed", "batch-job-failed", "ecs-task-stopped"):
        targets = events.list_targets_by_rule(Rule=f"feedguard-prod-{name}")["Targets"]
        assert [t["Arn"] for t in targets] == [
            full["outputs"]["AlertsTopicArn"],
            full["outputs"]["ChatTopicArn"],
        ]
        assert "docs/operations.md" in json.loads(targets[0]["InputTransformer"]["InputTemplate"])
        chat = json.loads(targets[1]["InputTransformer"]["InputTemplate"])
        assert (chat["version"], chat["source"]) == ("1.0", "custom")
