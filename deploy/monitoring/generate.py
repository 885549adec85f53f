"""Generate the feedguard monitoring CloudFormation template (``feedguard-monitoring.yaml``).

The template is repetitive (the same alarms and widgets for every feed), so it is generated from the tables
below; the generated YAML is committed, reviewed and deployed as is, and a test checks it is up to date::

    python deploy/monitoring/generate.py            # rewrite deploy/monitoring/feedguard-monitoring.yaml
    python deploy/monitoring/generate.py --check    # exit 1 when the committed file is stale

What it creates: an SNS topic (email subscription; optional Slack channel through AWS Chatbot), a CloudWatch
dashboard (pipeline metrics per feed, Airflow/MWAA, AWS Batch and Glue job states, ECS/Fargate, MSK), alarms
on the pipeline metrics, MSK consumer lag and job failures, and EventBridge rules that send Glue and Batch job
failures to the topic.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "feedguard-monitoring.yaml"
NAMESPACE = "Feedguard/DataQuality"
DAY = 86400
HOUR = 3600
# The Airflow task ids of deploy/airflow/feedguard_feeds.py (TASK_IDS) that the dashboard graphs.
INGEST_TASKS = ("ingest_glue", "ingest_batch", "verify_run")


@dataclass(frozen=True)
class Feed:
    source: str
    dataset: str
    kind: str  # "daily" file feed or "kafka" stream drained in batches
    duration_param: str

    @property
    def job(self) -> str:
        """The Job dimension: the Glue job / Batch job definition name (deploy/glue, deploy/batch)."""
        return f"feedguard-{self.source}-{self.dataset.replace('_', '-')}"

    @property
    def logical(self) -> str:
        """CloudFormation logical-id prefix: QuickbiteOrders, FoodnowOrderEvents."""
        return "".join(part.capitalize() for part in f"{self.source}_{self.dataset}".split("_"))

    @property
    def slug(self) -> str:
        return f"{self.source}-{self.dataset.replace('_', '-')}"

    @property
    def dag_id(self) -> str:
        return f"feedguard_{self.source}_{self.dataset}"


FEEDS = (
    Feed("quickbite", "orders", "daily", "FileJobMaxDurationSeconds"),
    Feed("mealdash", "orders", "daily", "FileJobMaxDurationSeconds"),
    Feed("foodnow", "order_events", "kafka", "KafkaJobMaxDurationSeconds"),
)


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


# --- parameters, conditions, topic ----------------------------------------------------------------------


def parameters() -> dict[str, Any]:
    def number(default: int, description: str) -> dict[str, Any]:
        return {"Type": "Number", "Default": default, "MinValue": 0, "Description": description}

    def text(default: str, description: str) -> dict[str, Any]:
        return {"Type": "String", "Default": default, "Description": description}

    return {
        "Environment": {
            "Type": "String",
            "Default": "prod",
            "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$",
            "Description": "The jobs' --environment (the Environment dimension of the metrics)",
        },
        "AlertEmail": text("", "Email address subscribed to the alerts topic (empty: no email subscription)"),
        "SlackWorkspaceId": text("", "AWS Chatbot Slack workspace (team) id, authorised once in the console"),
        "SlackChannelId": text("", "Slack channel id for the alerts (empty: no Slack channel)"),
        "CorruptRatioThresholdPct": number(5, "Alarm when a run's CorruptRatio (percent) is above this"),
        "DeadLetterThreshold": number(0, "Alarm when a run dead-letters more records than this"),
        "FileJobMaxDurationSeconds": number(2700, "Alarm when a file ingest run takes longer"),
        "KafkaJobMaxDurationSeconds": number(5400, "Alarm when a Kafka ingest run takes longer"),
        "KafkaDowntimeThresholdSeconds": number(1800, "Alarm when a broker outage lasts longer (the window)"),
        "KafkaConsumerLagThreshold": number(100000, "Alarm when the FoodNow consumer lag is above this"),
        "MskClusterName": text("", "MSK cluster of the FoodNow topic (empty: no MSK widgets or alarm)"),
        "MskConsumerGroup": text("feedguard-foodnow", "Consumer group the Kafka job commits its offsets to"),
        "FoodNowTopic": text("foodnow.order-events", "The FoodNow order-event topic"),
        "MwaaEnvironmentName": text("", "MWAA environment running the feedguard DAGs (empty: no DAG alarms)"),
        "EcsClusterName": text("", "ECS cluster behind the Batch compute environment (Fargate or EC2)"),
    }


def conditions() -> dict[str, Any]:
    def not_empty(name: str) -> dict[str, Any]:
        return {"Fn::Not": [{"Fn::Equals": [ref(name), ""]}]}

    return {
        "HasEmail": not_empty("AlertEmail"),
        "HasSlack": {"Fn::And": [not_empty("SlackWorkspaceId"), not_empty("SlackChannelId")]},
        "HasMsk": not_empty("MskClusterName"),
        "HasMwaa": not_empty("MwaaEnvironmentName"),
    }


def topic_resources() -> dict[str, Any]:
    return {
        "AlertsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": sub("feedguard-${Environment}-alerts"),
                "DisplayName": "feedguard alerts",
            },
        },
        "AlertsTopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [ref("AlertsTopic")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "EventBridgeAndCloudWatchPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
                            "Action": "sns:Publish",
                            "Resource": ref("AlertsTopic"),
                            "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
                        }
                    ],
                },
            },
        },
        "AlertsEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasEmail",
            "Properties": {
                "TopicArn": ref("AlertsTopic"),
                "Protocol": "email",
                "Endpoint": ref("AlertEmail"),
            },
        },
        "ChatbotRole": {
            "Type": "AWS::IAM::Role",
            "Condition": "HasSlack",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "chatbot.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess")],
            },
        },
        "SlackChannel": {
            "Type": "AWS::Chatbot::SlackChannelConfiguration",
            "Condition": "HasSlack",
            "Properties": {
                "ConfigurationName": sub("feedguard-${Environment}-alerts"),
                "IamRoleArn": {"Fn::GetAtt": ["ChatbotRole", "Arn"]},
                "SlackWorkspaceId": ref("SlackWorkspaceId"),
                "SlackChannelId": ref("SlackChannelId"),
                "SnsTopicArns": [ref("AlertsTopic")],
                "GuardrailPolicies": [sub("arn:${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess")],
                "LoggingLevel": "ERROR",
            },
        },
    }


# --- alarms ---------------------------------------------------------------------------------------------


def feed_dimensions(feed: Feed) -> list[dict[str, Any]]:
    return [
        {"Name": "Source", "Value": feed.source},
        {"Name": "Dataset", "Value": feed.dataset},
        {"Name": "Job", "Value": feed.job},
        {"Name": "Environment", "Value": ref("Environment")},
    ]


def alarm(
    name: str,
    description: str,
    *,
    metric: str,
    namespace: Any,
    dimensions: list[dict[str, Any]],
    statistic: str,
    operator: str,
    threshold: Any,
    period: int = HOUR,
    periods: int = 1,
    missing: str = "notBreaching",
    condition: str | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub(f"feedguard-${{Environment}}-{name}"),
            "AlarmDescription": f"{description} Runbook: docs/operations.md",
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "ComparisonOperator": operator,
            "Threshold": threshold,
            "TreatMissingData": missing,
            "AlarmActions": [ref("AlertsTopic")],
            "OKActions": [ref("AlertsTopic")],
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def feed_alarms(feed: Feed) -> dict[str, Any]:
    where = f"{feed.source}/{feed.dataset}"
    dims = feed_dimensions(feed)
    common = {"namespace": NAMESPACE, "dimensions": dims}
    alarms = {
        "CorruptRatio": alarm(
            f"{feed.slug}-corrupt-ratio",
            f"{where}: a run's corrupt-record ratio is above the threshold (intermittent corruption).",
            metric="CorruptRatio",
            statistic="Maximum",
            operator="GreaterThanThreshold",
            threshold=ref("CorruptRatioThresholdPct"),
            **common,
        ),
        "DeadLetters": alarm(
            f"{feed.slug}-dead-letters",
            f"{where}: records were dead-lettered (see <lake>/_dead_letter and the error zone).",
            metric="RecordsDeadLettered",
            statistic="Sum",
            operator="GreaterThanThreshold",
            threshold=ref("DeadLetterThreshold"),
            **common,
        ),
        "SchemaDrift": alarm(
            f"{feed.slug}-schema-drift",
            f"{where}: structural change detected, file(s) quarantined; a new contract version is needed.",
            metric="SchemaDriftDetected",
            statistic="Maximum",
            operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            **common,
        ),
        "DQFailed": alarm(
            f"{feed.slug}-dq-failed",
            f"{where}: a critical Great Expectations check failed; the batch was not published.",
            metric="DQSuccess",
            statistic="Minimum",
            operator="LessThanThreshold",
            threshold=1,
            **common,
        ),
        "JobDuration": alarm(
            f"{feed.slug}-job-duration",
            f"{where}: a run took longer than expected.",
            metric="JobDurationSeconds",
            statistic="Maximum",
            operator="GreaterThanThreshold",
            threshold=ref(feed.duration_param),
            **common,
        ),
        # Missing data is breaching: no run at all must alarm, not stay green.
        "NoData": alarm(
            f"{feed.slug}-no-data",
            f"{where}: no records received"
            + (" in the last 24 hours." if feed.kind == "daily" else " for 3 hours."),
            metric="RecordsRead",
            statistic="Sum",
            operator="LessThanThreshold",
            threshold=1,
            period=DAY if feed.kind == "daily" else HOUR,
            periods=1 if feed.kind == "daily" else 3,
            missing="breaching",
            **common,
        ),
    }
    if feed.kind == "kafka":
        alarms |= {
            "Downtime": alarm(
                f"{feed.slug}-broker-downtime",
                f"{where}: the broker was unreachable longer than the expected-downtime window.",
                metric="DowntimeSeconds",
                statistic="Maximum",
                operator="GreaterThanThreshold",
                threshold=ref("KafkaDowntimeThresholdSeconds"),
                **common,
            ),
            "MessagesLost": alarm(
                f"{feed.slug}-messages-lost",
                f"{where}: messages expired from the topic before they were read (retention loss).",
                metric="MessagesLost",
                statistic="Sum",
                operator="GreaterThanThreshold",
                threshold=0,
                **common,
            ),
            "ConsumerLag": alarm(
                f"{feed.slug}-consumer-lag",
                f"{where}: the job's consumer lag (latest minus committed offsets) is high.",
                metric="ConsumerLag",
                statistic="Maximum",
                operator="GreaterThanThreshold",
                threshold=ref("KafkaConsumerLagThreshold"),
                **common,
            ),
        }
    return {f"{feed.logical}{name}Alarm": resource for name, resource in alarms.items()}


def rule_dimension(rule: str) -> list[dict[str, Any]]:
    return [{"Name": "RuleName", "Value": ref(rule)}]


def platform_alarms() -> dict[str, Any]:
    alarms = {
        "MskConsumerLagAlarm": alarm(
            "msk-consumer-lag",
            "MSK: the feedguard consumer group lags on the FoodNow topic (MaxOffsetLag).",
            metric="MaxOffsetLag",
            namespace="AWS/Kafka",
            dimensions=[
                {"Name": "Cluster Name", "Value": ref("MskClusterName")},
                {"Name": "Consumer Group", "Value": ref("MskConsumerGroup")},
                {"Name": "Topic", "Value": ref("FoodNowTopic")},
            ],
            statistic="Maximum",
            operator="GreaterThanThreshold",
            threshold=ref("KafkaConsumerLagThreshold"),
            period=300,
            periods=3,
            condition="HasMsk",
        ),
        "GlueJobFailedAlarm": alarm(
            "glue-job-failed",
            "A feedguard Glue job run FAILED, TIMEOUT or ERROR (EventBridge rule count).",
            metric="TriggeredRules",
            namespace="AWS/Events",
            dimensions=rule_dimension("GlueJobFailedRule"),
            statistic="Sum",
            operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            period=300,
        ),
        "BatchJobFailedAlarm": alarm(
            "batch-job-failed",
            "A feedguard AWS Batch job FAILED after its retries (EventBridge rule count).",
            metric="TriggeredRules",
            namespace="AWS/Events",
            dimensions=rule_dimension("BatchJobFailedRule"),
            statistic="Sum",
            operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            period=300,
        ),
    }
    for feed in FEEDS:
        alarms[f"{feed.logical}DagFailedAlarm"] = alarm(
            f"{feed.slug}-dag-failed",
            f"Airflow: a run of DAG {feed.dag_id} failed (MWAA DAGDurationFailed).",
            metric="DAGDurationFailed",
            namespace="AmazonMWAA",
            dimensions=[
                {"Name": "Environment", "Value": ref("MwaaEnvironmentName")},
                {"Name": "DAG", "Value": feed.dag_id},
            ],
            statistic="SampleCount",
            operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            period=300,
            condition="HasMwaa",
        )
    return alarms


# --- EventBridge: job failures to the topic -------------------------------------------------------------


def job_rules() -> dict[str, Any]:
    glue_failed = {
        "GlueJobFailedRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": sub("feedguard-${Environment}-glue-job-failed"),
                "Description": "feedguard Glue job runs that did not succeed, to the alerts topic",
                "EventPattern": {
                    "source": ["aws.glue"],
                    "detail-type": ["Glue Job State Change"],
                    "detail": {
                        "jobName": [{"prefix": "feedguard-"}],
                        "state": ["FAILED", "TIMEOUT", "ERROR"],
                    },
                },
                "State": "ENABLED",
                "Targets": [
                    {
                        "Id": "alerts",
                        "Arn": ref("AlertsTopic"),
                        "InputTransformer": {
                            "InputPathsMap": {
                                "job": "$.detail.jobName",
                                "run": "$.detail.jobRunId",
                                "state": "$.detail.state",
                                "message": "$.detail.message",
                            },
                            "InputTemplate": '"Glue job <job> run <run> ended <state>: <message>. '
                            'The exit code and what to do: docs/operations.md"',
                        },
                    }
                ],
            },
        }
    }
    batch_failed = {
        "BatchJobFailedRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": sub("feedguard-${Environment}-batch-job-failed"),
                "Description": "feedguard Batch jobs that failed after their retries, to the alerts topic",
                "EventPattern": {
                    "source": ["aws.batch"],
                    "detail-type": ["Batch Job State Change"],
                    "detail": {"jobName": [{"prefix": "feedguard-"}], "status": ["FAILED"]},
                },
                "State": "ENABLED",
                "Targets": [
                    {
                        "Id": "alerts",
                        "Arn": ref("AlertsTopic"),
                        "InputTransformer": {
                            "InputPathsMap": {
                                "job": "$.detail.jobName",
                                "id": "$.detail.jobId",
                                "reason": "$.detail.statusReason",
                                "exit": "$.detail.container.exitCode",
                            },
                            "InputTemplate": '"Batch job <job> (<id>) FAILED: <reason>, exit code <exit>. '
                            'What to do: docs/operations.md"',
                        },
                    }
                ],
            },
        }
    }
    # Target-less rules: their TriggeredRules metric counts the successes for the dashboard.
    succeeded = {
        "GlueJobSucceededRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": sub("feedguard-${Environment}-glue-job-succeeded"),
                "Description": "Counts feedguard Glue job runs that succeeded (dashboard)",
                "EventPattern": {
                    "source": ["aws.glue"],
                    "detail-type": ["Glue Job State Change"],
                    "detail": {"jobName": [{"prefix": "feedguard-"}], "state": ["SUCCEEDED"]},
                },
                "State": "ENABLED",
            },
        },
        "BatchJobSucceededRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": sub("feedguard-${Environment}-batch-job-succeeded"),
                "Description": "Counts feedguard AWS Batch jobs that succeeded (dashboard)",
                "EventPattern": {
                    "source": ["aws.batch"],
                    "detail-type": ["Batch Job State Change"],
                    "detail": {"jobName": [{"prefix": "feedguard-"}], "status": ["SUCCEEDED"]},
                },
                "State": "ENABLED",
            },
        },
    }
    return glue_failed | batch_failed | succeeded


# --- dashboard ------------------------------------------------------------------------------------------


def widget(
    title: str,
    metrics: list[list[Any]],
    *,
    stat: str = "Sum",
    period: int = HOUR,
    width: int = 8,
    view: str = "timeSeries",
) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": view,
            "stat": stat,
            "period": period,
            "metrics": metrics,
        },
    }


def text_widget(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": 24, "height": 2, "properties": {"markdown": markdown}}


def feed_metric(feed: Feed, name: str, **options: Any) -> list[Any]:
    line: list[Any] = [
        NAMESPACE,
        name,
        "Source",
        feed.source,
        "Dataset",
        feed.dataset,
        "Job",
        feed.job,
        "Environment",
        "${Environment}",
    ]
    return [*line, options] if options else line


def feed_widgets(feed: Feed) -> list[dict[str, Any]]:
    where = f"{feed.source}/{feed.dataset}"
    widgets = [
        text_widget(f"## {where}  (job `{feed.job}`, DAG `{feed.dag_id}`)"),
        widget(
            f"{where}: records",
            [
                feed_metric(feed, "RecordsRead", label="read"),
                feed_metric(feed, "RecordsValid", label="valid"),
                feed_metric(feed, "RecordsDeadLettered", label="dead-lettered"),
            ],
        ),
        widget(f"{where}: corrupt ratio (%)", [feed_metric(feed, "CorruptRatio")], stat="Maximum"),
        widget(
            f"{where}: quality and drift",
            [
                feed_metric(feed, "DQSuccess", label="DQ success (0/1)", stat="Minimum"),
                feed_metric(feed, "ExpectationsFailed", label="expectations failed"),
                feed_metric(feed, "ExpectationsEvaluated", label="expectations evaluated"),
                feed_metric(feed, "SchemaDriftDetected", label="schema drift", stat="Maximum"),
                feed_metric(feed, "FilesQuarantined", label="files quarantined"),
            ],
        ),
        widget(f"{where}: job duration (s)", [feed_metric(feed, "JobDurationSeconds")], stat="Maximum"),
    ]
    if feed.kind == "kafka":
        widgets += [
            widget(f"{where}: consumer lag", [feed_metric(feed, "ConsumerLag")], stat="Maximum"),
            widget(
                f"{where}: outages and loss",
                [
                    feed_metric(feed, "DowntimeSeconds", label="downtime (s)", stat="Maximum"),
                    feed_metric(feed, "MessagesLost", label="messages lost"),
                ],
            ),
        ]
    return widgets


def airflow_widgets() -> list[dict[str, Any]]:
    dag_runs = []
    task_durations = []
    task_failures = []
    for feed in FEEDS:
        dims = ["Environment", "${MwaaEnvironmentName}", "DAG", feed.dag_id]
        dag_runs += [
            [
                "AmazonMWAA",
                "DAGDurationSuccess",
                *dims,
                {"stat": "SampleCount", "label": f"{feed.dag_id} ok"},
            ],
            [
                "AmazonMWAA",
                "DAGDurationFailed",
                *dims,
                {"stat": "SampleCount", "label": f"{feed.dag_id} failed"},
            ],
        ]
        for task in INGEST_TASKS:
            task_durations.append(
                [
                    "AmazonMWAA",
                    "TaskInstanceDuration",
                    *dims,
                    "Task",
                    task,
                    {"label": f"{feed.dag_id}.{task}"},
                ]
            )
            task_failures.append(
                [
                    "AmazonMWAA",
                    "TaskInstanceFinished",
                    *dims,
                    "Task",
                    task,
                    "State",
                    "failed",
                    {"stat": "Sum", "label": f"{feed.dag_id}.{task} failed"},
                ]
            )
    return [
        text_widget("## Airflow (MWAA `${MwaaEnvironmentName}`)"),
        widget("DAG runs (succeeded / failed)", dag_runs, stat="SampleCount", period=DAY),
        widget("Ingest task duration (s)", task_durations, stat="Maximum", period=DAY),
        widget("Ingest task failures", task_failures, period=DAY),
    ]


def jobs_widgets() -> list[dict[str, Any]]:
    def rule(suffix: str, label: str) -> list[Any]:
        return [
            "AWS/Events",
            "TriggeredRules",
            "RuleName",
            f"feedguard-${{Environment}}-{suffix}",
            {"label": label},
        ]

    return [
        text_widget("## Job runs: AWS Glue and AWS Batch, ECS/Fargate capacity"),
        widget(
            "Glue job runs",
            [
                rule("glue-job-succeeded", "succeeded"),
                rule("glue-job-failed", "failed / timeout / error"),
            ],
            period=DAY,
        ),
        widget(
            "Batch job states",
            [
                rule("batch-job-succeeded", "succeeded"),
                rule("batch-job-failed", "failed"),
            ],
            period=DAY,
        ),
        widget(
            "ECS / Fargate CPU and memory (%)",
            [
                ["AWS/ECS", "CPUUtilization", "ClusterName", "${EcsClusterName}", {"label": "CPU"}],
                ["AWS/ECS", "MemoryUtilization", "ClusterName", "${EcsClusterName}", {"label": "memory"}],
                [
                    "ECS/ContainerInsights",
                    "TaskCount",
                    "ClusterName",
                    "${EcsClusterName}",
                    {"label": "tasks", "yAxis": "right"},
                ],
            ],
            stat="Average",
            period=300,
        ),
    ]


def broker_search(metric: str, stat: str, expression_id: str) -> dict[str, str]:
    """A metric-math SEARCH over every broker of the cluster (brokers come and go)."""
    schema = '{AWS/Kafka,"Cluster Name","Broker ID"}'
    query = f'{schema} "Cluster Name"="${{MskClusterName}}" MetricName="{metric}"'
    return {"expression": f"SEARCH('{query}', '{stat}', 300)", "label": metric, "id": expression_id}


def msk_widgets() -> list[dict[str, Any]]:
    lag_dims = [
        "Cluster Name",
        "${MskClusterName}",
        "Consumer Group",
        "${MskConsumerGroup}",
        "Topic",
        "${FoodNowTopic}",
    ]
    return [
        text_widget("## MSK (`${MskClusterName}`)"),
        widget(
            "Consumer lag (feedguard consumer group)",
            [
                ["AWS/Kafka", "MaxOffsetLag", *lag_dims, {"label": "max offset lag"}],
                ["AWS/Kafka", "SumOffsetLag", *lag_dims, {"label": "sum offset lag"}],
                [
                    "AWS/Kafka",
                    "EstimatedMaxTimeLag",
                    *lag_dims,
                    {"label": "max time lag (s)", "yAxis": "right"},
                ],
            ],
            stat="Maximum",
            period=300,
        ),
        widget("Broker CPU (%)", [[broker_search("CpuUser", "Average", "cpu")]], stat="Average", period=300),
        widget(
            "Broker disk used (%)",
            [[broker_search("KafkaDataLogsDiskUsed", "Maximum", "disk")]],
            stat="Maximum",
            period=300,
        ),
    ]


def dashboard() -> dict[str, Any]:
    widgets: list[dict[str, Any]] = [
        text_widget(
            "# feedguard `${Environment}`: what each alarm means and what to do is in docs/operations.md"
        )
    ]
    for feed in FEEDS:
        widgets += feed_widgets(feed)
    widgets += airflow_widgets() + jobs_widgets() + msk_widgets()
    body = json.dumps({"widgets": widgets}, indent=1) + "\n"
    return {
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": sub("feedguard-${Environment}"), "DashboardBody": sub(body)},
        }
    }


# --- the template ---------------------------------------------------------------------------------------


def template() -> dict[str, Any]:
    resources: dict[str, Any] = topic_resources()
    for feed in FEEDS:
        resources |= feed_alarms(feed)
    resources |= platform_alarms() | job_rules() | dashboard()
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "feedguard monitoring: alerts topic (email, Slack via AWS Chatbot), dashboard, "
        "alarms, job-failure rules. Generated by deploy/monitoring/generate.py: edit that, not this file.",
        "Parameters": parameters(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": {
            "AlertsTopicArn": {
                "Description": "Give this to the jobs (--sns_topic_arn)",
                "Value": ref("AlertsTopic"),
            },
            "DashboardName": {"Value": ref("Dashboard")},
            "DashboardUrl": {
                "Value": sub(
                    "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                    "?region=${AWS::Region}#dashboards:name=feedguard-${Environment}"
                )
            },
        },
    }


class _NoAliasDumper(yaml.SafeDumper):
    """CloudFormation rejects YAML anchors and aliases: write shared values out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Multi-line strings (the dashboard JSON) as literal blocks, so the YAML stays readable."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


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
