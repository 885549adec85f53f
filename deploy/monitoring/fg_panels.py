"""The six panels of the dashboard as sections of widgets (data, not text): Overview, Airflow DAGs, AWS Batch,
AWS Fargate, Kafka/MSK (the last two in ``fg_platform_panels``); the sixth, Alerts & Notifications, is the
alarm-status widget generate.py adds.

Units are stated in the titles and must match the catalogue (MWAA durations are milliseconds).
"""

from __future__ import annotations

from typing import Any

from fg_common import (
    BATCH_WAIT_STATES,
    DAY,
    FEEDS,
    FIVE_MINUTES,
    HOUR,
    INGEST_TASKS,
    MAX_MSK_BROKERS,
    NAMESPACE,
    TASK_IDS,
    Feed,
    Section,
    expr,
    line,
    log_widget,
    text_widget,
    widget,
)
from fg_platform_panels import SERVICE, fargate, msk

ENV = ("Environment", "${Environment}")
QUEUE = ("JobQueue", "${BatchJobQueue}")
CE = ("ComputeEnvironment", "${BatchComputeEnvironment}")


def own(name: str, dims: list[tuple[str, str]], **options: Any) -> list[Any]:
    return line(NAMESPACE, name, [*dims, ENV], **options)


def feed_metric(feed: Feed, name: str, **options: Any) -> list[Any]:
    dims = [("Source", feed.source), ("Dataset", feed.dataset), ("Job", feed.job)]
    return own(name, dims, **options)


def feed_widgets(feed: Feed) -> list[dict[str, Any]]:
    where = f"{feed.source}/{feed.dataset}"
    widgets = [
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
                feed_metric(feed, "DQSuccess", label="DQ pass (0/1)", stat="Minimum"),
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
            widget(f"{where}: consumer lag (messages)", [feed_metric(feed, "ConsumerLag")], stat="Maximum"),
            widget(
                f"{where}: outages and loss",
                [
                    feed_metric(feed, "DowntimeSeconds", label="downtime (s)", stat="Maximum"),
                    feed_metric(feed, "MessagesLost", label="messages lost"),
                ],
            ),
        ]
    return widgets


def dag_runs(state: str, prefix: str) -> list[list[Any]]:
    return [
        own("AirflowDagRuns", [("DAG", f.dag_id), ("State", state)], id=f"{prefix}{i}", visible=False)
        for i, f in enumerate(FEEDS)
    ]


def overview() -> list[Section]:
    rate = "100 * SUM(METRICS('ok')) / (SUM(METRICS('ok')) + SUM(METRICS('ko')))"
    success = widget(
        "Overview: DAG success rate, last 24 h (%)",
        [*dag_runs("success", "ok"), *dag_runs("failed", "ko"), expr(rate, "DAG runs succeeded (%)", "rate")],
        view="singleValue",
        period=DAY,
        width=6,
    )
    pie = widget(
        "Overview: Batch jobs by status, last 24 h",
        [
            own("BatchJobsFinished", [QUEUE, ("Status", "SUCCEEDED")], label="succeeded"),
            own("BatchJobsFinished", [QUEUE, ("Status", "FAILED")], label="failed"),
            own("BatchJobs", [QUEUE, ("Status", "RUNNING")], label="running", stat="Maximum"),
        ],
        view="pie",
        period=DAY,
        width=6,
    )
    health = widget(
        "Overview: Fargate task health (%)",
        [
            line("ECS/ContainerInsights", "RunningTaskCount", SERVICE, id="run", visible=False),
            line("ECS/ContainerInsights", "DesiredTaskCount", SERVICE, id="want", visible=False),
            expr("IF(want > 0, 100 * run / want, 100)", "healthy (%)", "healthy"),
            expr("100 - IF(want > 0, 100 * run / want, 100)", "unhealthy (%)", "unhealthy"),
        ],
        stat="Average",
        view="singleValue",
        period=FIVE_MINUTES,
        width=6,
    )
    up = " + ".join(f"IF(FILL(b{i}, -1) >= 0, 1, 0)" for i in range(1, MAX_MSK_BROKERS + 1))
    brokers = [
        line(
            "AWS/Kafka",
            "CpuUser",
            [("Cluster Name", "${MskClusterName}"), ("Broker ID", str(i))],
            id=f"b{i}",
            visible=False,
        )
        for i in range(1, MAX_MSK_BROKERS + 1)
    ]
    kafka = widget(
        "Overview: Kafka cluster health",
        [
            *brokers,
            expr(up, "brokers up", "up"),
            expr(f"${{MskBrokerCount}} - ({up})", "brokers down", "down"),
            line(
                "AWS/Kafka",
                "ActiveControllerCount",
                [("Cluster Name", "${MskClusterName}")],
                label="active controllers",
                stat="Sum",
            ),
        ],
        stat="Average",
        view="singleValue",
        period=FIVE_MINUTES,
        width=6,
    )
    pipeline = [w for feed in FEEDS for w in feed_widgets(feed)]
    return [
        Section("overview", None, [text_widget("# 1. Overview (runbooks: docs/operations.md)"), success]),
        Section("overview-batch", "HasCollector", [pie]),
        Section("overview-fargate", "HasService", [health]),
        Section("overview-kafka", "HasMsk", [kafka]),
        Section("overview-feeds", None, [text_widget("## Feeds: records, dead letters, DQ pass"), *pipeline]),
    ]


def airflow() -> list[Section]:
    timeline = widget(
        "Airflow: DAG runs succeeded / failed",
        [
            *[
                own("AirflowDagRuns", [("DAG", f.dag_id), ("State", s)], label=f"{f.dag_id} {s}")
                for f in FEEDS
                for s in ("success", "failed")
            ]
        ],
        period=HOUR,
        width=12,
    )
    retries = widget(
        "Airflow: retries per DAG and task",
        [
            own("AirflowTaskRetries", [("DAG", f.dag_id), ("Task", t)], label=f"{f.dag_id}.{t}")
            for f in FEEDS
            for t in TASK_IDS
        ],
        period=DAY,
        width=12,
    )
    sla = widget(
        "Airflow: SLA misses per DAG and task",
        [
            own("AirflowSlaMisses", [("DAG", f.dag_id), ("Task", t)], label=f"{f.dag_id}.{t}")
            for f in FEEDS
            for t in INGEST_TASKS
        ],
        period=DAY,
        width=12,
        view="bar",
    )
    running = widget(
        "Airflow: ingest tasks running now (s)",
        [
            own("IngestRunningSeconds", [("DAG", f.dag_id), ("Task", t)], label=f"{f.dag_id}.{t}")
            for f in FEEDS
            for t in INGEST_TASKS
        ],
        stat="Maximum",
        period=FIVE_MINUTES,
        width=12,
    )
    mwaa = [("Environment", "${MwaaEnvironmentName}")]
    duration = widget(
        "Airflow (MWAA): average task duration per DAG (ms)",
        [
            line(
                "AmazonMWAA",
                "TaskInstanceDuration",
                [*mwaa, ("DAG", f.dag_id), ("Task", t)],
                label=f"{f.dag_id}.{t}",
            )
            for f in FEEDS
            for t in TASK_IDS
        ],
        stat="Average",
        period=DAY,
        width=12,
        yAxis={"left": {"label": "milliseconds"}},
    )
    misses = log_widget(
        "Airflow (MWAA): the SLA misses",
        "airflow-${MwaaEnvironmentName}-DAGProcessing",
        "fields @timestamp, @message | filter @message like /FEEDGUARD_SLA_MISS/ | sort @timestamp desc "
        "| limit 50",
    )
    return [
        Section("airflow", None, [text_widget("# 2. Airflow DAGs"), timeline, retries, sla]),
        Section("airflow-collector", "HasCollector", [running]),
        Section("airflow-mwaa", "HasMwaa", [duration, misses]),
    ]


def batch() -> list[Section]:
    queue = widget(
        "Batch: job queue length",
        [own("BatchJobs", [QUEUE, ("Status", s)], label=s.lower()) for s in BATCH_WAIT_STATES],
        stat="Maximum",
        period=FIVE_MINUTES,
    )
    states = widget(
        "Batch: job status distribution",
        [
            own("BatchJobs", [QUEUE, ("Status", "RUNNING")], label="running", stat="Maximum"),
            own("BatchJobsFinished", [QUEUE, ("Status", "SUCCEEDED")], label="succeeded"),
            own("BatchJobsFinished", [QUEUE, ("Status", "FAILED")], label="failed"),
        ],
        period=HOUR,
        stacked=True,
    )
    duration = widget(
        "Batch: average job duration (s)",
        [own("BatchJobDurationSeconds", [QUEUE])],
        stat="Average",
        period=HOUR,
    )
    use = widget(
        "Batch: compute environment utilisation (%)",
        [
            own("ComputeEnvironmentVcpusInUse", [CE], id="cpu", visible=False),
            own("ComputeEnvironmentVcpusMax", [CE], id="cpumax", visible=False),
            own("ComputeEnvironmentMemoryInUseMiB", [CE], id="mem", visible=False),
            own("ComputeEnvironmentMemoryMaxMiB", [CE], id="memmax", visible=False),
            expr("IF(cpumax > 0, 100 * cpu / cpumax, 0)", "vCPUs in use / maximum (%)", "cpupct"),
            expr("IF(memmax > 0, 100 * mem / memmax, 0)", "memory in use / registered (%)", "mempct"),
        ],
        stat="Average",
        period=FIVE_MINUTES,
        width=24,
    )
    return [
        Section(
            "batch",
            "HasCollector",
            [text_widget("# 3. AWS Batch (queue `${BatchJobQueue}`)"), queue, states, duration, use],
        )
    ]


def sections() -> list[Section]:
    return overview() + airflow() + batch() + fargate() + msk()
