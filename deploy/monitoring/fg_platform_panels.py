"""Panels 4 and 5 of the dashboard, AWS Fargate and Kafka/MSK, as sections of widgets (data, not text).

Units are stated in the titles and must match the catalogue.
"""

from __future__ import annotations

from typing import Any

from fg_common import (
    FIVE_MINUTES,
    Section,
    expr,
    line,
    log_widget,
    search,
    text_widget,
    widget,
)

SERVICE = [("ClusterName", "${ClusterName}"), ("ServiceName", "${ServiceName}")]
MSK_CLUSTER = {"Cluster Name": "${MskClusterName}"}


def fargate() -> list[Section]:
    task_dims = ["ClusterName", "ServiceName", "TaskId"]
    where = {"ClusterName": "${ClusterName}", "ServiceName": "${ServiceName}"}

    def per_task(metric: str, stat: str, label: str, eid: str) -> list[Any]:
        return expr(search("ECS/ContainerInsights", task_dims, where, metric, stat), label, eid)

    status = widget(
        "Fargate: tasks running / pending / desired / stopped with a failure",
        [
            line("ECS/ContainerInsights", "RunningTaskCount", SERVICE, label="running"),
            line("ECS/ContainerInsights", "PendingTaskCount", SERVICE, label="pending"),
            line("ECS/ContainerInsights", "DesiredTaskCount", SERVICE, label="desired"),
            line(
                "AWS/Events",
                "TriggeredRules",
                [("RuleName", "feedguard-${Environment}-ecs-task-stopped")],
                label="stopped (failure)",
                stat="Sum",
            ),
        ],
        stat="Maximum",
        period=FIVE_MINUTES,
    )
    service = widget(
        "Fargate: service CPU and memory (%)",
        [
            line("AWS/ECS", "CPUUtilization", SERVICE, label="CPU"),
            line("AWS/ECS", "MemoryUtilization", SERVICE, label="memory"),
        ],
        stat="Average",
        period=FIVE_MINUTES,
    )
    tasks = widget(
        "Fargate: CPU (units) and memory (MiB) per task",
        [
            per_task("CpuUtilized", "Average", "CPU", "cpu"),
            per_task("MemoryUtilized", "Average", "memory", "mem"),
        ],
        stat="Average",
        period=FIVE_MINUTES,
    )
    network = widget(
        "Fargate: network in / out per task (bytes/s)",
        [
            per_task("NetworkRxBytes", "Average", "in", "rx"),
            per_task("NetworkTxBytes", "Average", "out", "tx"),
        ],
        stat="Average",
        period=FIVE_MINUTES,
        width=24,
    )
    logs = log_widget(
        "Fargate: recent errors and warnings",
        "${ServiceLogGroup}",
        "fields @timestamp, @logStream, @message | filter @message like /(?i)(error|warn)/ "
        "| sort @timestamp desc | limit 50",
    )
    title = text_widget(
        "# 4. AWS Fargate (`${ServiceName}` in `${ClusterName}`, Container Insights enhanced)"
    )
    return [Section("fargate", "HasService", [title, status, service, tasks, network, logs])]


def msk() -> list[Section]:
    broker = ["Cluster Name", "Broker ID"]

    def per_broker(metric: str, stat: str, eid: str) -> list[Any]:
        return expr(search("AWS/Kafka", broker, MSK_CLUSTER, metric, stat), metric, eid)

    lag_dims = [
        ("Cluster Name", "${MskClusterName}"),
        ("Consumer Group", "${MskConsumerGroup}"),
        ("Topic", "${FoodNowTopic}"),
    ]
    topic = MSK_CLUSTER | {"Topic": "${FoodNowTopic}"}
    return [
        Section(
            "msk",
            "HasMsk",
            [
                text_widget("# 5. Kafka / MSK (`${MskClusterName}`)"),
                widget(
                    "MSK: broker CPU user (%)",
                    [per_broker("CpuUser", "Average", "cpu")],
                    stat="Average",
                    period=FIVE_MINUTES,
                ),
                widget(
                    "MSK: broker memory used (bytes)",
                    [per_broker("MemoryUsed", "Average", "mem")],
                    stat="Average",
                    period=FIVE_MINUTES,
                ),
                widget(
                    "MSK: broker data-log disk used (%)",
                    [per_broker("KafkaDataLogsDiskUsed", "Maximum", "disk")],
                    stat="Maximum",
                    period=FIVE_MINUTES,
                ),
                widget(
                    "MSK: topic throughput (messages/s, bytes/s)",
                    [
                        per_broker("MessagesInPerSec", "Sum", "msgs"),
                        expr(
                            search("AWS/Kafka", [*broker, "Topic"], topic, "BytesInPerSec", "Sum"),
                            "bytes in",
                            "bin",
                        ),
                        expr(
                            search("AWS/Kafka", [*broker, "Topic"], topic, "BytesOutPerSec", "Sum"),
                            "bytes out",
                            "bout",
                        ),
                    ],
                    stat="Sum",
                    period=FIVE_MINUTES,
                    width=12,
                ),
                widget(
                    "MSK: consumer lag of the FoodNow job's group",
                    [
                        line("AWS/Kafka", "MaxOffsetLag", lag_dims, label="max offset lag (messages)"),
                        line("AWS/Kafka", "SumOffsetLag", lag_dims, label="sum offset lag (messages)"),
                        line(
                            "AWS/Kafka",
                            "EstimatedMaxTimeLag",
                            lag_dims,
                            label="max time lag (s)",
                            yAxis="right",
                        ),
                    ],
                    stat="Maximum",
                    period=FIVE_MINUTES,
                    width=12,
                ),
                widget(
                    "MSK: partition status",
                    [
                        per_broker("UnderReplicatedPartitions", "Maximum", "under"),
                        line(
                            "AWS/Kafka",
                            "OfflinePartitionsCount",
                            [("Cluster Name", "${MskClusterName}")],
                            label="offline",
                        ),
                        line(
                            "AWS/Kafka",
                            "ActiveControllerCount",
                            [("Cluster Name", "${MskClusterName}")],
                            label="active controllers",
                            stat="Sum",
                        ),
                    ],
                    stat="Maximum",
                    period=FIVE_MINUTES,
                    width=24,
                ),
            ],
        )
    ]
