"""Non-alarm resources: the two topics (e-mail; Slack through AWS Chatbot), the EventBridge failure rules
(plain text to e-mail, Chatbot's custom notification schema to Slack) and the scheduled collector task.
"""

from __future__ import annotations

import json
from typing import Any

from fg_common import ref, sub

CHATBOT_SOURCE = (
    "custom"  # AWS Chatbot custom notifications: version "1.0", source "custom", content.description
)
RUNBOOK = "docs/operations.md"


def topic(name: str, display: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {"TopicName": sub(f"feedguard-${{Environment}}-{name}"), "DisplayName": display},
    }


def topic_policy() -> dict[str, Any]:
    statement = {
        "Sid": "EventBridgeAndCloudWatchPublish",
        "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
        "Action": "sns:Publish",
        "Resource": [ref("AlertsTopic"), ref("ChatTopic")],
        "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
    }
    return {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [ref("AlertsTopic"), ref("ChatTopic")],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        },
    }


def topic_resources() -> dict[str, Any]:
    read_only = sub("arn:${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess")
    return {
        "AlertsTopic": topic("alerts", "feedguard alerts"),
        "ChatTopic": topic("chat", "feedguard alerts for Slack (AWS Chatbot)"),
        "AlertsTopicPolicy": topic_policy(),
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
                "ManagedPolicyArns": [read_only],
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
                "SnsTopicArns": [ref("ChatTopic")],
                "GuardrailPolicies": [read_only],
                "LoggingLevel": "ERROR",
            },
        },
    }


def chatbot_template(title: str, description: str, keywords: list[str]) -> str:
    """An EventBridge InputTemplate rendering Chatbot's custom notification (``<name>`` placeholders kept)."""
    message = {
        "version": "1.0",
        "source": CHATBOT_SOURCE,
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": [f"What the exit code means and what to do: {RUNBOOK}"],
            "keywords": keywords,
        },
    }
    return json.dumps(message)


def failure_rule(
    name: str,
    description: str,
    pattern: dict[str, Any],
    paths: dict[str, str],
    text: str,
    title: str,
    keywords: list[str],
    condition: str | None = None,
) -> dict[str, Any]:
    """A rule sending a matched failure to e-mail (plain text) and to Slack (Chatbot custom notification)."""
    targets = [
        {
            "Id": "email",
            "Arn": ref("AlertsTopic"),
            "InputTransformer": {
                "InputPathsMap": paths,
                "InputTemplate": json.dumps(f"{text} What to do: {RUNBOOK}"),
            },
        },
        {
            "Id": "slack",
            "Arn": ref("ChatTopic"),
            "InputTransformer": {
                "InputPathsMap": paths,
                "InputTemplate": chatbot_template(title, text, keywords),
            },
        },
    ]
    rule: dict[str, Any] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Name": sub(f"feedguard-${{Environment}}-{name}"),
            "Description": description,
            "EventPattern": pattern,
            "State": "ENABLED",
            "Targets": targets,
        },
    }
    if condition:
        rule["Condition"] = condition
    return rule


def counting_rule(name: str, description: str, pattern: dict[str, Any]) -> dict[str, Any]:
    """A target-less rule: its TriggeredRules metric counts matches for the dashboard."""
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Name": sub(f"feedguard-${{Environment}}-{name}"),
            "Description": description,
            "EventPattern": pattern,
            "State": "ENABLED",
        },
    }


def job_rules() -> dict[str, Any]:
    glue = {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]}
    batch = {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]}
    ecs_stopped = {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "lastStatus": ["STOPPED"],
            "group": [sub("service:${ServiceName}")],
            "clusterArn": [{"suffix": sub("/${ClusterName}")}],
            "stopCode": ["TaskFailedToStart", "EssentialContainerExited"],
        },
    }
    return {
        "GlueJobFailedRule": failure_rule(
            "glue-job-failed",
            "feedguard Glue job runs that did not succeed",
            glue
            | {"detail": {"jobName": [{"prefix": "feedguard-"}], "state": ["FAILED", "TIMEOUT", "ERROR"]}},
            {
                "job": "$.detail.jobName",
                "run": "$.detail.jobRunId",
                "state": "$.detail.state",
                "message": "$.detail.message",
            },
            "Glue job <job> run <run> ended <state>: <message>.",
            "feedguard: Glue job <job> <state>",
            ["feedguard", "glue", "<job>"],
        ),
        "BatchJobFailedRule": failure_rule(
            "batch-job-failed",
            "feedguard Batch jobs that failed after retries",
            batch | {"detail": {"jobName": [{"prefix": "feedguard-"}], "status": ["FAILED"]}},
            {
                "job": "$.detail.jobName",
                "id": "$.detail.jobId",
                "reason": "$.detail.statusReason",
                "exit": "$.detail.container.exitCode",
            },
            "Batch job <job> (<id>) FAILED: <reason>, exit code <exit>.",
            "feedguard: Batch job <job> FAILED",
            ["feedguard", "batch", "<job>"],
        ),
        "EcsTaskStoppedRule": failure_rule(
            "ecs-task-stopped",
            "Tasks of the FoodNow Fargate service that failed",
            ecs_stopped,
            {
                "task": "$.detail.taskArn",
                "code": "$.detail.stopCode",
                "reason": "$.detail.stoppedReason",
                "group": "$.detail.group",
            },
            "ECS task <task> of <group> stopped (<code>): <reason>.",
            "feedguard: Fargate task stopped (<code>)",
            ["feedguard", "fargate", "<group>"],
            condition="HasService",
        ),
        "GlueJobSucceededRule": counting_rule(
            "glue-job-succeeded",
            "Counts feedguard Glue runs that succeeded",
            glue | {"detail": {"jobName": [{"prefix": "feedguard-"}], "state": ["SUCCEEDED"]}},
        ),
        "BatchJobSucceededRule": counting_rule(
            "batch-job-succeeded",
            "Counts feedguard Batch jobs that succeeded",
            batch | {"detail": {"jobName": [{"prefix": "feedguard-"}], "status": ["SUCCEEDED"]}},
        ),
    }
