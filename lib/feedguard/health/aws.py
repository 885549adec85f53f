"""Ask AWS for the Airflow, Batch and Fargate panels: callback metrics, Batch queues, ECS tasks.

The same figures the CloudWatch dashboard shows: the Airflow callbacks' counts (``monitoring.airflow``)
summed over the window from ``GetMetricData``; Batch jobs per queue and state, counted by the collector's own
code (``monitoring.collect``); the ECS tasks of the cluster with their last and health status. Each
part is read only when its setting is given, and a failed call is the part's error (the call and the error's
name), never an exception: the site is built anyway.

Example::

    figures = read_aws(AwsOptions(region="eu-west-1", environment="prod", batch_queues=("feedguard",)))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from feedguard.health.model import AwsFigures, AwsOptions, BatchQueueStatus, DagFigures, EcsService, EcsTask
from feedguard.monitoring import ACTIVE_STATES, FINISHED_STATES, CollectClients, CollectConfig, collect
from feedguard.monitoring import airflow as callbacks
from feedguard.monitoring.batch import BATCH_JOBS, BATCH_JOBS_FINISHED, BATCH_OLDEST_JOB_AGE

# A site build must not hang on an endpoint that does not answer: short timeouts, one retry.
CLIENT_CONFIG: Final = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 2})
AWS_ERRORS: Final = (BotoCoreError, ClientError)
DESCRIBE_TASKS_MAX: Final = 100
METRIC_QUERIES_MAX: Final = 500
TASK_DESIRED_STATES: Final = ("RUNNING", "STOPPED")
CALLBACK_FIELDS: Final = {
    callbacks.TASK_SUCCESSES: "task_successes",
    callbacks.TASK_FAILURES: "task_failures",
    callbacks.TASK_RETRIES: "task_retries",
    callbacks.SLA_MISSES: "sla_misses",
}
DAG_RUN_FIELDS: Final = {"success": "runs_succeeded", "failed": "runs_failed"}


@dataclass(frozen=True)
class AwsClients:
    """boto3 clients (or anything with the same methods) for Batch, ECS and CloudWatch."""

    batch: Any
    ecs: Any
    cloudwatch: Any


def failure(call: str, exc: Exception) -> str:
    """``call: ErrorName: message`` on one line (no traceback)."""
    return f"{call}: {type(exc).__name__}: {' '.join(str(exc).split())}"[:500]


def describe(options: AwsOptions) -> str:
    where = f"endpoint {options.endpoint_url}" if options.endpoint_url else "the default AWS credentials"
    return f"{where}, region {options.region or '(default)'}"


def aws_clients(options: AwsOptions, session: boto3.Session | None = None) -> AwsClients:
    """Clients for ``options`` (raises ``BotoCoreError`` when, say, no region is configured)."""
    boto = session or boto3.Session()

    def client(service: str) -> Any:
        return boto.client(
            service, region_name=options.region, endpoint_url=options.endpoint_url, config=CLIENT_CONFIG
        )

    return AwsClients(client("batch"), client("ecs"), client("cloudwatch"))


def queue_status(batch: Any, queue: str, now: datetime, window_hours: int) -> BatchQueueStatus:
    """Jobs per state of ``queue`` as the collector counts them (finished: stopped in the window)."""
    config = CollectConfig(environment="", queues=(queue,), window_seconds=window_hours * 3600)
    try:
        metrics = collect(CollectClients(batch, ecs=None), config, now=now)
    except AWS_ERRORS as exc:
        return BatchQueueStatus(queue, error=failure(f"Batch ListJobs (queue {queue})", exc))
    value = {(m.name, dict(m.dimensions).get("Status")): m.value for m in metrics}
    jobs = {s: int(value[(BATCH_JOBS, s)]) for s in ACTIVE_STATES}
    jobs |= {s: int(value[(BATCH_JOBS_FINISHED, s)]) for s in FINISHED_STATES}
    oldest = max(value[(BATCH_OLDEST_JOB_AGE, s)] for s in ACTIVE_STATES)
    return BatchQueueStatus(queue, jobs, oldest)


def _task(item: dict[str, Any]) -> EcsTask:
    started = item.get("startedAt")
    return EcsTask(
        task_id=str(item.get("taskArn", "")).rsplit("/", 1)[-1],
        group=str(item.get("group", "")),
        launch_type=str(item.get("launchType", "")),
        last_status=str(item.get("lastStatus", "")),
        desired_status=str(item.get("desiredStatus", "")),
        health_status=str(item.get("healthStatus") or "UNKNOWN"),
        started_at=started.astimezone(UTC).isoformat() if isinstance(started, datetime) else None,
        stopped_reason=str(item.get("stoppedReason") or ""),
    )


def cluster_tasks(ecs: Any, cluster: str, service: str | None) -> list[EcsTask]:
    """Running and recently stopped tasks of ``cluster`` (only the service's, ``group service:<name>``)."""
    arns: list[str] = []
    for desired in TASK_DESIRED_STATES:
        pages = ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus=desired)
        arns += [arn for page in pages for arn in page.get("taskArns", []) if arn not in arns]
    tasks = []
    for start in range(0, len(arns), DESCRIBE_TASKS_MAX):
        described = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_TASKS_MAX])
        tasks += [_task(item) for item in described.get("tasks", [])]
    if service:
        tasks = [t for t in tasks if t.group == f"service:{service}"]
    return sorted(tasks, key=lambda t: (t.desired_status != "RUNNING", t.group, t.task_id))


def ecs_service(ecs: Any, cluster: str, service: str) -> EcsService | None:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
    if not found:
        return None
    s = found[0]
    counts = (int(s.get(k) or 0) for k in ("desiredCount", "runningCount", "pendingCount"))
    return EcsService(service, str(s.get("status", "")), *counts)


def _callback_metrics(cloudwatch: Any, namespace: str, environment: str) -> list[dict[str, Any]]:
    """Every callback metric of ``environment`` CloudWatch lists (once each)."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for name in (callbacks.DAG_RUNS, *CALLBACK_FIELDS):
        pages = cloudwatch.get_paginator("list_metrics").paginate(
            Namespace=namespace, MetricName=name, Dimensions=[{"Name": "Environment", "Value": environment}]
        )
        for metric in (m for page in pages for m in page.get("Metrics", [])):
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            seen.setdefault((name, dims), metric)
    return list(seen.values())


def _sums(cloudwatch: Any, metrics: Sequence[dict[str, Any]], start: datetime, end: datetime) -> list[float]:
    """The Sum of each metric over [start, end), in the order given."""
    period = max(60, int((end - start).total_seconds()) // 60 * 60)
    sums = [0.0] * len(metrics)
    for first in range(0, len(metrics), METRIC_QUERIES_MAX):
        queries = [
            {"Id": f"m{first + i}", "MetricStat": {"Metric": m, "Period": period, "Stat": "Sum"}}
            for i, m in enumerate(metrics[first : first + METRIC_QUERIES_MAX])
        ]
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        )
        for result in (r for page in pages for r in page.get("MetricDataResults", [])):
            sums[int(result["Id"][1:])] += sum(result.get("Values", []))
    return sums


def dag_figures(cloudwatch: Any, options: AwsOptions, environment: str, now: datetime) -> list[DagFigures]:
    """Per DAG: runs succeeded and failed, task successes, failures, retries, SLA misses in the window."""
    metrics = _callback_metrics(cloudwatch, options.namespace, environment)
    sums = _sums(cloudwatch, metrics, now - timedelta(hours=options.window_hours), now)
    fields: dict[str, dict[str, float]] = {}
    for metric, total in zip(metrics, sums, strict=True):
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        name = metric["MetricName"]
        field = CALLBACK_FIELDS.get(name) or DAG_RUN_FIELDS.get(dims.get("State", ""))
        if field and "DAG" in dims:
            per_dag = fields.setdefault(dims["DAG"], {})
            per_dag[field] = per_dag.get(field, 0.0) + total
    return [DagFigures(dag, **values) for dag, values in sorted(fields.items())]


def _read_parts(clients: AwsClients, options: AwsOptions, figures: AwsFigures, now: datetime) -> AwsFigures:
    parts: dict[str, Any] = {}
    if options.batch_queues:
        parts["batch"] = [
            queue_status(clients.batch, q, now, options.window_hours) for q in options.batch_queues
        ]
    if options.ecs_cluster:
        call = f"ECS ListTasks/DescribeTasks (cluster {options.ecs_cluster})"
        try:
            parts["tasks"] = cluster_tasks(clients.ecs, options.ecs_cluster, options.ecs_service)
            if options.ecs_service:
                call = f"ECS DescribeServices ({options.ecs_service})"
                parts["service"] = ecs_service(clients.ecs, options.ecs_cluster, options.ecs_service)
        except AWS_ERRORS as exc:
            parts["ecs_error"] = failure(call, exc)
    if options.environment:
        try:
            parts["dags"] = dag_figures(clients.cloudwatch, options, options.environment, now)
        except AWS_ERRORS as exc:
            parts["airflow_error"] = failure("CloudWatch ListMetrics/GetMetricData", exc)
    return replace(figures, **parts)


def read_aws(
    options: AwsOptions, clients: AwsClients | None = None, now: datetime | None = None
) -> AwsFigures:
    """What AWS says for each configured panel (never raises a botocore error)."""
    figures = AwsFigures(options, describe(options))
    try:
        clients = clients or aws_clients(options)
    except AWS_ERRORS as exc:
        error = failure("creating the AWS clients", exc)
        return replace(
            figures,
            batch=[BatchQueueStatus(q, error=error) for q in options.batch_queues] or None,
            ecs_error=error if options.ecs_cluster else "",
            airflow_error=error if options.environment else "",
        )
    return _read_parts(clients, options, figures, now or datetime.now(UTC))
