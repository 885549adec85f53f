"""The platform alarms of the panels: Airflow, AWS Batch, Fargate, MSK, and the job-failure rule counts.

Each alarm carries the condition of the component it watches, so an unconfigured component has no alarm.
"""

from __future__ import annotations

from typing import Any

from fg_alarms import alarm, dims, env_dim, math, stat
from fg_common import (
    BATCH_WAIT_STATES,
    CONSUMER_GROUP,
    FEEDS,
    FIVE_MINUTES,
    HOUR,
    INGEST_TASKS,
    MAX_MSK_BROKERS,
    NAMESPACE,
    ref,
    sub,
)

GT, GE, LT = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"


def airflow_alarms() -> dict[str, Any]:
    failed = [
        stat(
            f"f{i}",
            NAMESPACE,
            "AirflowDagRuns",
            dims(("DAG", f.dag_id), ("State", "failed"), env_dim()),
            "Sum",
        )
        for i, f in enumerate(FEEDS)
    ]
    sla = [
        stat(
            f"s{i}{j}", NAMESPACE, "AirflowSlaMisses", dims(("DAG", f.dag_id), ("Task", t), env_dim()), "Sum"
        )
        for i, f in enumerate(FEEDS)
        for j, t in enumerate(INGEST_TASKS)
    ]
    running = [
        stat(
            f"r{i}{j}",
            NAMESPACE,
            "IngestRunningSeconds",
            dims(("DAG", f.dag_id), ("Task", t), env_dim()),
            "Maximum",
        )
        for i, f in enumerate(FEEDS)
        for j, t in enumerate(INGEST_TASKS)
    ]
    out = {
        "DagFailedAlarm": alarm(
            "dag-failed",
            "Airflow: a feedguard DAG run failed (DAG failure callback).",
            Metrics=[*failed, math("SUM(METRICS('f'))", "failed DAG runs")],
            ComparisonOperator=GE,
            Threshold=1,
        ),
        "SlaMissAlarm": alarm(
            "sla-missed",
            "Airflow: an ingest task missed its SLA (SLA-miss callback).",
            Metrics=[*sla, math("SUM(METRICS('s'))", "SLA misses")],
            ComparisonOperator=GE,
            Threshold=1,
        ),
        "TaskStuckAlarm": alarm(
            "task-stuck",
            "Airflow: an ingest task has been running longer than the threshold "
            "(its Glue run or Batch job, measured while it runs by feedguard monitoring collect).",
            "HasCollector",
            Metrics=[*running, math("MAX(METRICS('r'))", "longest running ingest (s)")],
            ComparisonOperator=GT,
            Threshold=ref("TaskStuckThresholdSeconds"),
        ),
    }
    for feed in FEEDS:  # MWAA's own figure too: it alarms even when the callbacks cannot publish
        out[f"{feed.logical}DagFailedAlarm"] = alarm(
            f"{feed.slug}-dag-failed",
            f"Airflow (MWAA): a run of DAG {feed.dag_id} failed (DAGDurationFailed).",
            "HasMwaa",
            Namespace="AmazonMWAA",
            MetricName="DAGDurationFailed",
            Dimensions=dims(("Environment", ref("MwaaEnvironmentName")), ("DAG", feed.dag_id)),
            Statistic="SampleCount",
            ComparisonOperator=GE,
            Threshold=1,
            Period=FIVE_MINUTES,
        )
    return out


def batch_alarms() -> dict[str, Any]:
    queue = ("JobQueue", ref("BatchJobQueue"))
    waits = [
        stat(f"w{i}", NAMESPACE, "BatchOldestJobAgeSeconds", dims(queue, ("Status", s), env_dim()), "Maximum")
        for i, s in enumerate(BATCH_WAIT_STATES)
    ]
    ce = ("ComputeEnvironment", ref("BatchComputeEnvironment"))

    def ce_stat(query_id: str, metric: str, period: int) -> dict[str, Any]:
        return stat(query_id, NAMESPACE, metric, dims(ce, env_dim()), "Average", period)

    return {
        "BatchJobsStuckAlarm": alarm(
            "batch-jobs-stuck",
            "AWS Batch: a job has waited in SUBMITTED, PENDING, "
            "RUNNABLE or STARTING longer than the threshold.",
            "HasCollector",
            Metrics=[*waits, math("MAX(METRICS('w'))", "oldest waiting job (s)")],
            ComparisonOperator=GT,
            Threshold=ref("BatchStuckThresholdSeconds"),
        ),
        "BatchUnderUtilisedAlarm": alarm(
            "batch-under-utilised",
            "AWS Batch: the compute environment keeps "
            "capacity it does not use (vCPUs in use / desired below the threshold for 6 hours).",
            "HasCollector",
            Metrics=[
                ce_stat("used", "ComputeEnvironmentVcpusInUse", HOUR),
                ce_stat("desired", "ComputeEnvironmentVcpusDesired", HOUR),
                math("IF(desired > 0, 100 * used / desired, 100)", "vCPUs in use / desired (%)"),
            ],
            ComparisonOperator=LT,
            Threshold=ref("BatchUnderUtilisedPct"),
            periods=6,
        ),
        "BatchOverUtilisedAlarm": alarm(
            "batch-over-utilised",
            "AWS Batch: the compute environment is near its maximum vCPUs (jobs will queue).",
            "HasCollector",
            Metrics=[
                ce_stat("used", "ComputeEnvironmentVcpusInUse", FIVE_MINUTES),
                ce_stat("max", "ComputeEnvironmentVcpusMax", FIVE_MINUTES),
                math("IF(max > 0, 100 * used / max, 0)", "vCPUs in use / maximum (%)"),
            ],
            ComparisonOperator=GT,
            Threshold=ref("BatchOverUtilisedPct"),
            periods=3,
        ),
    }


def fargate_alarms() -> dict[str, Any]:
    service = [("ClusterName", ref("ClusterName")), ("ServiceName", ref("ServiceName"))]

    def ecs(name: str, metric: str, threshold: str, what: str) -> dict[str, Any]:
        return alarm(
            name,
            f"Fargate: the service's {what} is above the threshold.",
            "HasService",
            Namespace="AWS/ECS",
            MetricName=metric,
            Dimensions=dims(*service),
            Statistic="Average",
            ComparisonOperator=GT,
            Threshold=ref(threshold),
            Period=FIVE_MINUTES,
            periods=3,
        )

    return {
        "FargateTaskFailedAlarm": alarm(
            "fargate-task-failed",
            "Fargate: a task of the service stopped with a failure (EventBridge rule count).",
            "HasService",
            Namespace="AWS/Events",
            MetricName="TriggeredRules",
            Dimensions=dims(("RuleName", ref("EcsTaskStoppedRule"))),
            Statistic="Sum",
            ComparisonOperator=GE,
            Threshold=1,
            Period=FIVE_MINUTES,
        ),
        "FargateCpuHighAlarm": ecs("fargate-cpu-high", "CPUUtilization", "FargateCpuThresholdPct", "CPU"),
        "FargateMemoryHighAlarm": ecs(
            "fargate-memory-high", "MemoryUtilization", "FargateMemoryThresholdPct", "memory"
        ),
        "FargateUnhealthyAlarm": alarm(
            "fargate-unhealthy",
            "Fargate: a container of the service fails its "
            "health check (Container Insights, enhanced observability).",
            "HasService",
            Namespace="ECS/ContainerInsights",
            MetricName="UnHealthyContainerHealthStatus",
            Dimensions=dims(*service, ("ContainerName", ref("ServiceContainerName"))),
            Statistic="Maximum",
            ComparisonOperator=GE,
            Threshold=1,
            Period=60,
            periods=3,
        ),
    }


def broker_stats(prefix: str, metric: str, statistic: str) -> list[dict[str, Any]]:
    return [
        stat(
            f"{prefix}{i}",
            "AWS/Kafka",
            metric,
            dims(("Cluster Name", ref("MskClusterName")), ("Broker ID", str(i))),
            statistic,
        )
        for i in range(1, MAX_MSK_BROKERS + 1)
    ]


def msk_alarms() -> dict[str, Any]:
    up = " + ".join(f"IF(FILL(b{i}, -1) >= 0, 1, 0)" for i in range(1, MAX_MSK_BROKERS + 1))
    cluster = ("Cluster Name", ref("MskClusterName"))
    return {
        "MskBrokerDownAlarm": alarm(
            "msk-broker-down",
            "MSK: fewer brokers report than MskBrokerCount (a broker is down).",
            "HasMsk",
            Metrics=[
                *broker_stats("b", "CpuUser", "Average"),
                math(sub(f"${{MskBrokerCount}} - ({up})"), "brokers down"),
            ],
            ComparisonOperator=GE,
            Threshold=1,
            periods=2,
            TreatMissingData="breaching",
        ),
        "MskConsumerLagAlarm": alarm(
            "msk-consumer-lag",
            "MSK: the FoodNow consumer group lags (MaxOffsetLag).",
            "HasMsk",
            Namespace="AWS/Kafka",
            MetricName="MaxOffsetLag",
            Dimensions=dims(
                cluster, ("Consumer Group", ref("MskConsumerGroup")), ("Topic", ref("FoodNowTopic"))
            ),
            Statistic="Maximum",
            ComparisonOperator=GT,
            Threshold=ref("KafkaConsumerLagThreshold"),
            Period=FIVE_MINUTES,
            periods=3,
        ),
        "MskDiskAlarm": alarm(
            "msk-disk",
            "MSK: a broker's data-log disk is fuller than the threshold.",
            "HasMsk",
            Metrics=[
                *broker_stats("d", "KafkaDataLogsDiskUsed", "Maximum"),
                math("MAX(METRICS('d'))", "fullest broker disk (%)"),
            ],
            ComparisonOperator=GT,
            Threshold=ref("MskDiskThresholdPct"),
        ),
        "MskUnderReplicatedAlarm": alarm(
            "msk-under-replicated",
            "MSK: partitions are under-replicated.",
            "HasMsk",
            Metrics=[
                *broker_stats("u", "UnderReplicatedPartitions", "Maximum"),
                math("SUM(METRICS('u'))", "under-replicated partitions"),
            ],
            ComparisonOperator=GT,
            Threshold=0,
            periods=2,
        ),
    }


def rule_alarms() -> dict[str, Any]:
    def rule(name: str, logical: str, what: str) -> dict[str, Any]:
        return alarm(
            name,
            f"{what} (EventBridge rule count).",
            Namespace="AWS/Events",
            MetricName="TriggeredRules",
            Dimensions=dims(("RuleName", ref(logical))),
            Statistic="Sum",
            ComparisonOperator=GE,
            Threshold=1,
            Period=FIVE_MINUTES,
        )

    return {
        "GlueJobFailedAlarm": rule("glue-job-failed", "GlueJobFailedRule", "A feedguard Glue job run failed"),
        "BatchJobFailedAlarm": rule("batch-job-failed", "BatchJobFailedRule", "A feedguard Batch job failed"),
    }


def platform_alarms() -> dict[str, Any]:
    # CONSUMER_GROUP is the default of the MskConsumerGroup parameter (generate.parameters).
    assert CONSUMER_GROUP
    return airflow_alarms() | batch_alarms() | fargate_alarms() | msk_alarms() | rule_alarms()
