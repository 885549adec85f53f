"""Generate the feedguard monitoring CloudFormation template (``feedguard-monitoring.yaml``).

The dashboard, its widgets and the alarms are built as data (``fg_panels``, ``fg_alarms``,
``fg_platform_alarms``), checked as data by the tests (every metric against ``metric-catalogue.yaml`` or the
metrics the project publishes), and only then written out; the generated YAML is committed and a test checks
it is up to date::

    python deploy/monitoring/generate.py            # rewrite deploy/monitoring/feedguard-monitoring.yaml
    python deploy/monitoring/generate.py --check    # exit 1 when the committed file is stale

What it creates: the alerts topics (e-mail; Slack through AWS Chatbot), one dashboard of six panels (Overview,
Airflow DAGs, AWS Batch, AWS Fargate, Kafka/MSK, Alerts & Notifications) whose sections for unconfigured
components are left out (``Fn::If`` in the body), the alarms of every panel, EventBridge rules that send Glue,
Batch and ECS failures to both channels, and the scheduled ``feedguard monitoring collect`` Fargate task.
``ITEMS`` maps each of the design's 43 widgets and alerts to what implements it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the fg_* modules sit beside this file

from fg_alarms import feed_alarms  # noqa: E402
from fg_collector import collector_resources  # noqa: E402
from fg_common import CONSUMER_GROUP, FEEDS, Section, ref, sub  # noqa: E402
from fg_panels import sections  # noqa: E402
from fg_platform_alarms import platform_alarms  # noqa: E402
from fg_resources import job_rules, topic_resources  # noqa: E402

TEMPLATE = HERE / "feedguard-monitoring.yaml"
CATALOGUE = HERE / "metric-catalogue.yaml"
ALARM_WIDGET_TITLE = "6. Alerts & Notifications: every alarm of the stack"

# The design's 43 items: (panel, item, kind, what implements it: a widget title or a logical resource id).
ITEMS: tuple[tuple[str, str, str, str], ...] = (
    ("Overview", "DAG success rate (24 h, %)", "widget", "Overview: DAG success rate, last 24 h (%)"),
    ("Overview", "Batch jobs by status (pie)", "widget", "Overview: Batch jobs by status, last 24 h"),
    ("Overview", "Fargate task health (%)", "widget", "Overview: Fargate task health (%)"),
    ("Overview", "Kafka cluster health", "widget", "Overview: Kafka cluster health"),
    ("Airflow DAGs", "run timeline", "widget", "Airflow: DAG runs succeeded / failed"),
    ("Airflow DAGs", "average task duration per DAG", "widget", "Airflow (MWAA): average task duration per DAG (ms)"),
    ("Airflow DAGs", "retries per DAG and task", "widget", "Airflow: retries per DAG and task"),
    ("Airflow DAGs", "SLA misses (count)", "widget", "Airflow: SLA misses per DAG and task"),
    ("Airflow DAGs", "SLA misses (list)", "widget", "Airflow (MWAA): the SLA misses"),
    ("Airflow DAGs", "alert: DAG failure", "alarm", "DagFailedAlarm"),
    ("Airflow DAGs", "alert: SLA miss", "alarm", "SlaMissAlarm"),
    ("Airflow DAGs", "alert: task stuck (while running)", "alarm", "TaskStuckAlarm"),
    ("AWS Batch", "job queue length", "widget", "Batch: job queue length"),
    ("AWS Batch", "job status distribution", "widget", "Batch: job status distribution"),
    ("AWS Batch", "job duration trend", "widget", "Batch: average job duration (s)"),
    ("AWS Batch", "compute environment utilisation", "widget", "Batch: compute environment utilisation (%)"),
    ("AWS Batch", "alert: failed jobs", "alarm", "BatchJobFailedAlarm"),
    ("AWS Batch", "alert: jobs stuck in a state", "alarm", "BatchJobsStuckAlarm"),
    ("AWS Batch", "alert: under-utilised compute", "alarm", "BatchUnderUtilisedAlarm"),
    ("AWS Batch", "alert: over-utilised compute", "alarm", "BatchOverUtilisedAlarm"),
    ("AWS Fargate", "task status", "widget", "Fargate: tasks running / pending / desired / stopped with a failure"),
    ("AWS Fargate", "CPU and memory per service", "widget", "Fargate: service CPU and memory (%)"),
    ("AWS Fargate", "CPU and memory per task", "widget", "Fargate: CPU (units) and memory (MiB) per task"),
    ("AWS Fargate", "network in / out per task", "widget", "Fargate: network in / out per task (bytes/s)"),
    ("AWS Fargate", "container logs (errors, warnings)", "widget", "Fargate: recent errors and warnings"),
    ("AWS Fargate", "alert: task failures", "alarm", "FargateTaskFailedAlarm"),
    ("AWS Fargate", "alert: high CPU", "alarm", "FargateCpuHighAlarm"),
    ("AWS Fargate", "alert: high memory", "alarm", "FargateMemoryHighAlarm"),
    ("AWS Fargate", "alert: unhealthy container", "alarm", "FargateUnhealthyAlarm"),
    ("Kafka / MSK", "broker health (CPU, memory, disk)", "widget", "MSK: broker CPU user (%)"),
    ("Kafka / MSK", "topic throughput", "widget", "MSK: topic throughput (messages/s, bytes/s)"),
    ("Kafka / MSK", "consumer lag per group", "widget", "MSK: consumer lag of the FoodNow job's group"),
    ("Kafka / MSK", "partition status", "widget", "MSK: partition status"),
    ("Kafka / MSK", "alert: broker down", "alarm", "MskBrokerDownAlarm"),
    ("Kafka / MSK", "alert: consumer lag", "alarm", "MskConsumerLagAlarm"),
    ("Kafka / MSK", "alert: disk use", "alarm", "MskDiskAlarm"),
    ("Kafka / MSK", "alert: under-replicated partitions", "alarm", "MskUnderReplicatedAlarm"),
    ("Alerts & Notifications", "one alarm-status widget", "widget", ALARM_WIDGET_TITLE),
    ("Alerts & Notifications", "e-mail delivery", "resource", "AlertsEmailSubscription"),
    ("Alerts & Notifications", "Slack delivery (AWS Chatbot)", "resource", "SlackChannel"),
    ("Alerts & Notifications", "Glue failure events", "resource", "GlueJobFailedRule"),
    ("Alerts & Notifications", "Batch failure events", "resource", "BatchJobFailedRule"),
    ("Alerts & Notifications", "ECS task stopped events", "resource", "EcsTaskStoppedRule"),
)  # fmt: skip


def parameters() -> dict[str, Any]:
    def number(default: int, description: str) -> dict[str, Any]:
        return {"Type": "Number", "Default": default, "MinValue": 0, "Description": description}

    def text(default: str, description: str) -> dict[str, Any]:
        return {"Type": "String", "Default": default, "Description": description}

    return {
        "Environment": {"Type": "String", "Default": "prod", "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$",
                        "Description": "The jobs' --environment (the Environment dimension of the metrics)"},
        "AlertEmail": text("", "Email address subscribed to the alerts topic (empty: no email subscription)"),
        "SlackWorkspaceId": text("", "AWS Chatbot Slack workspace (team) id, authorised once in the console"),
        "SlackChannelId": text("", "Slack channel id for the alerts (empty: no Slack channel)"),
        "CorruptRatioThresholdPct": number(5, "Alarm when a run's CorruptRatio (percent) is above this"),
        "DeadLetterThreshold": number(0, "Alarm when a run dead-letters more records than this"),
        "FileJobMaxDurationSeconds": number(2700, "Alarm when a file ingest run takes longer"),
        "KafkaJobMaxDurationSeconds": number(5400, "Alarm when a Kafka ingest run takes longer"),
        "KafkaDowntimeThresholdSeconds": number(1800, "Alarm when a broker outage lasts longer (the window)"),
        "KafkaConsumerLagThreshold": number(100000, "Alarm when the FoodNow consumer lag is above this"),
        "MskClusterName": text("", "MSK cluster of the FoodNow topic (empty: no MSK widgets or alarms)"),
        "MskConsumerGroup": text(CONSUMER_GROUP, "Consumer group the Kafka job commits to (its --consumer_group)"),
        "MskBrokerCount": number(3, "Brokers the MSK cluster should have up (1 to 6 are watched)"),
        "MskDiskThresholdPct": number(85, "Alarm when a broker's data-log disk is fuller than this (percent)"),
        "FoodNowTopic": text("foodnow.order-events", "The FoodNow order-event topic"),
        "MwaaEnvironmentName": text("", "MWAA environment running the DAGs (empty: no MWAA widgets or alarms)"),
        "TaskStuckThresholdSeconds": number(5400, "Alarm when an ingest task has been running longer"),
        "ClusterName": text("", "ECS cluster of the FoodNow Fargate service (empty: no Fargate panel)"),
        "ServiceName": text("", "ECS service of the FoodNow consumer (empty: no Fargate panel)"),
        "ServiceContainerName": text("consumer", "The service's container with the health check"),
        "ServiceLogGroup": text("/feedguard/foodnow-consumer", "CloudWatch log group of the service's containers"),
        "FargateCpuThresholdPct": number(85, "Alarm when the service's CPU is above this (percent)"),
        "FargateMemoryThresholdPct": number(85, "Alarm when the service's memory is above this (percent)"),
        "BatchJobQueue": text("feedguard", "AWS Batch job queue of the feedguard jobs"),
        "BatchComputeEnvironment": text("feedguard", "AWS Batch compute environment behind the queue"),
        "BatchStuckThresholdSeconds": number(3600, "Alarm when a Batch job waits longer in one state"),
        "BatchUnderUtilisedPct": number(20, "Alarm when vCPUs in use / desired stay below this for 6 h"),
        "BatchOverUtilisedPct": number(90, "Alarm when vCPUs in use / maximum is above this"),
        "CollectorImage": text("", "The feedguard image (deploy/batch) for the collector (empty: no Batch panel)"),
        "CollectorSubnets": {"Type": "CommaDelimitedList", "Default": "", "Description": "Subnets of the task"},
        "CollectorSecurityGroups": {"Type": "CommaDelimitedList", "Default": "",
                                    "Description": "Security groups of the collector task (egress to AWS APIs)"},
    }  # fmt: skip


def conditions() -> dict[str, Any]:
    def not_empty(name: str) -> dict[str, Any]:
        return {"Fn::Not": [{"Fn::Equals": [ref(name), ""]}]}

    return {
        "HasEmail": not_empty("AlertEmail"),
        "HasSlack": {"Fn::And": [not_empty("SlackWorkspaceId"), not_empty("SlackChannelId")]},
        "HasMsk": not_empty("MskClusterName"),
        "HasMwaa": not_empty("MwaaEnvironmentName"),
        "HasService": {"Fn::And": [not_empty("ClusterName"), not_empty("ServiceName")]},
        "HasCollector": {"Fn::And": [not_empty("CollectorImage"), not_empty("BatchJobQueue")]},
    }


def alarms() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for feed in FEEDS:
        out |= feed_alarms(feed)
    return out | platform_alarms()


def alarm_arn(resource: dict[str, Any]) -> str:
    name = resource["Properties"]["AlarmName"]["Fn::Sub"]
    return f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{name}"


def alarm_widget(arns: list[str]) -> dict[str, Any]:
    return {"type": "alarm", "width": 24, "height": 8,
            "properties": {"title": ALARM_WIDGET_TITLE, "alarms": arns, "sortBy": "stateUpdatedTimestamp"}}  # fmt: skip


def dashboard_body(active: set[str]) -> dict[str, Any]:
    """The dashboard as CloudWatch gets it when the conditions in ``active`` hold (``${...}`` unresolved)."""
    widgets = [w for s in sections() if s.condition is None or s.condition in active for w in s.widgets]
    always = [alarm_arn(r) for r in alarms().values() if "Condition" not in r]
    arns = always + [alarm_arn(r) for r in alarms().values() if r.get("Condition") in active]
    return {"widgets": [*widgets, alarm_widget(arns)]}


def _chunk(items: list[Any]) -> str:
    return ",\n".join(json.dumps(x, indent=1) for x in items)


def _text(text: str) -> Any:
    """``Fn::Sub`` when the text holds ``${...}``, else the plain string."""
    return sub(text) if "${" in text else text


def dashboard_join() -> dict[str, Any]:
    """The same body as ``Fn::Join`` pieces: each optional section behind ``Fn::If`` on its condition."""
    parts: list[Any] = ['{"widgets":[']
    first = True
    for section in sections() + [Section("alarms", None, [])]:
        if section.name == "alarms":
            pieces = _alarm_pieces()
        else:
            text = ("" if first else ",") + _chunk(section.widgets)
            body = _text(text)
            pieces = [body if section.condition is None else {"Fn::If": [section.condition, body, ""]}]
        parts += pieces
        first = False
    parts.append("]}")
    return {"Fn::Join": ["", parts]}


def _alarm_pieces() -> list[Any]:
    head = json.dumps(alarm_widget([]), separators=(",", ":"))
    opening, closing = head.split('"alarms":[]')
    pieces: list[Any] = [_text("," + opening + '"alarms":[')]
    always = [alarm_arn(r) for r in alarms().values() if "Condition" not in r]
    pieces.append(sub(",\n".join(json.dumps(a) for a in always)))
    for resource in alarms().values():
        if "Condition" in resource:
            pieces.append({"Fn::If": [resource["Condition"], sub("," + json.dumps(alarm_arn(resource))), ""]})
    pieces.append("]" + closing)
    return pieces


def template() -> dict[str, Any]:
    dashboard = {"Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": sub("feedguard-${Environment}"), "DashboardBody": dashboard_join()}}}  # fmt: skip
    resources = topic_resources() | alarms() | job_rules() | collector_resources() | dashboard
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "feedguard monitoring: six-panel dashboard, alarms, failure rules, alerts to e-mail and "
        "Slack, the scheduled collector. Generated by deploy/monitoring/generate.py: edit that, not this file.",
        "Parameters": parameters(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": {
            "AlertsTopicArn": {"Description": "Give this to the jobs (--sns_topic_arn)", "Value": ref("AlertsTopic")},
            "ChatTopicArn": {"Description": "The topic AWS Chatbot posts to Slack", "Value": ref("ChatTopic")},
            "DashboardName": {"Value": ref("Dashboard")},
            "DashboardUrl": {"Value": sub("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                                          "?region=${AWS::Region}#dashboards:name=feedguard-${Environment}")},
        },
    }  # fmt: skip


class _NoAliasDumper(yaml.SafeDumper):
    """CloudFormation rejects YAML anchors and aliases: write shared values out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Multi-line strings (the dashboard JSON) as literal blocks, so the YAML stays readable."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_NoAliasDumper.add_representer(str, _str_representer)


def render() -> str:
    header = (
        "# Generated by deploy/monitoring/generate.py: edit that script, then run it. Do not edit by hand.\n"
    )
    body = yaml.dump(template(), Dumper=_NoAliasDumper, sort_keys=False, width=110, allow_unicode=False)
    return header + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate deploy/monitoring/feedguard-monitoring.yaml")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed template is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TEMPLATE.exists() or TEMPLATE.read_text() != text:
            print(f"{TEMPLATE} is stale: run python deploy/monitoring/generate.py", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(text)
    print(TEMPLATE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
