"""The scheduled ``feedguard monitoring collect`` step: EventBridge Scheduler runs a Fargate task every five
minutes in a small cluster of its own (Container Insights enhanced), with the feedguard image (deploy/batch).

A Fargate task, not a Lambda: the image already holds the package and its pinned dependencies, and a task
has no 15-minute or package-size limit to watch.
"""

from __future__ import annotations

from typing import Any

from fg_common import ref, sub

CONDITION = "HasCollector"


def _role(
    service: str, statements: list[dict[str, Any]] | None = None, managed: list[Any] | None = None
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    }
    if statements:
        props["Policies"] = [
            {
                "PolicyName": "feedguard-monitoring",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            }
        ]
    if managed:
        props["ManagedPolicyArns"] = managed
    return {"Type": "AWS::IAM::Role", "Condition": CONDITION, "Properties": props}


def collector_resources() -> dict[str, Any]:
    read = {
        "Effect": "Allow",
        "Resource": "*",
        "Action": [
            "batch:ListJobs",
            "batch:DescribeComputeEnvironments",
            "ecs:ListContainerInstances",
            "ecs:DescribeContainerInstances",
            "glue:GetJobRuns",
        ],
    }
    put = {
        "Effect": "Allow",
        "Resource": "*",
        "Action": "cloudwatch:PutMetricData",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "Feedguard/DataQuality"}},
    }
    command = [
        "monitoring",
        "collect",
        "--environment",
        ref("Environment"),
        "--queues",
        ref("BatchJobQueue"),
        "--compute-environments",
        ref("BatchComputeEnvironment"),
        "--metrics",
        "cloudwatch",
    ]
    container = {
        "Name": "collect",
        "Image": ref("CollectorImage"),
        "EntryPoint": ["feedguard"],
        "Command": command,
        "Essential": True,
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": ref("CollectorLogGroup"),
                "awslogs-region": ref("AWS::Region"),
                "awslogs-stream-prefix": "collect",
            },
        },
    }
    return {
        "CollectorCluster": {
            "Type": "AWS::ECS::Cluster",
            "Condition": CONDITION,
            "Properties": {
                "ClusterName": sub("feedguard-${Environment}-monitoring"),
                "ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}],
            },
        },
        "CollectorLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Condition": CONDITION,
            "Properties": {
                "LogGroupName": sub("/feedguard/${Environment}/monitoring-collect"),
                "RetentionInDays": 30,
            },
        },
        "CollectorTaskRole": _role("ecs-tasks.amazonaws.com", [read, put]),
        "CollectorExecutionRole": _role(
            "ecs-tasks.amazonaws.com",
            managed=[
                sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            ],
        ),
        "CollectorTaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Condition": CONDITION,
            "Properties": {
                "Family": sub("feedguard-${Environment}-monitoring-collect"),
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": "256",
                "Memory": "512",
                "TaskRoleArn": {"Fn::GetAtt": ["CollectorTaskRole", "Arn"]},
                "ExecutionRoleArn": {"Fn::GetAtt": ["CollectorExecutionRole", "Arn"]},
                "ContainerDefinitions": [container],
            },
        },
        "CollectorSchedulerRole": _role(
            "scheduler.amazonaws.com",
            [
                {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": ref("CollectorTaskDefinition")},
                {
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": [
                        {"Fn::GetAtt": ["CollectorTaskRole", "Arn"]},
                        {"Fn::GetAtt": ["CollectorExecutionRole", "Arn"]},
                    ],
                },
            ],
        ),
        # The collector's parameters default to empty (no collector): cfn-lint would check those defaults.
        "CollectorSchedule": {
            "Type": "AWS::Scheduler::Schedule",
            "Condition": CONDITION,
            "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}},
            "Properties": {
                "Name": sub("feedguard-${Environment}-monitoring-collect"),
                "Description": "feedguard monitoring collect: Batch jobs, compute use, running ingests",
                "ScheduleExpression": "rate(5 minutes)",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": {"Fn::GetAtt": ["CollectorCluster", "Arn"]},
                    "RoleArn": {"Fn::GetAtt": ["CollectorSchedulerRole", "Arn"]},
                    "EcsParameters": {
                        "TaskDefinitionArn": ref("CollectorTaskDefinition"),
                        "LaunchType": "FARGATE",
                        "NetworkConfiguration": {
                            "AwsvpcConfiguration": {
                                "Subnets": ref("CollectorSubnets"),
                                "SecurityGroups": ref("CollectorSecurityGroups"),
                                "AssignPublicIp": "DISABLED",
                            }
                        },
                    },
                },
            },
        },
    }
