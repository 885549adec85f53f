"""The AWS parts of the Airflow, Batch and Fargate panels, and the consumer service's health.

Each part shows what AWS (or the service) said when the site was built; when its setting was not given it
says so and names the ``feedguard docs build`` flag that fills it; when the call failed it names the call
and the error.
"""

from __future__ import annotations

from feedguard.health.html import Cell, Markup, esc, span, table
from feedguard.health.model import AwsFigures, EcsTask, ServiceStatus
from feedguard.monitoring import ACTIVE_STATES, FINISHED_STATES
from feedguard.quality.pages import pct

WHERE_FLAGS = "[--aws-region REGION | --aws-endpoint-url URL]"
SERVICE_FIELDS = (
    ("status", "status"),
    ("state", "state"),
    ("last_success_at", "last successful batch"),
    ("seconds_since_progress", "seconds since progress"),
    ("broker_reachable", "broker reachable"),
    ("consumer_lag", "consumer lag"),
    ("last_run_id", "last run"),
    ("last_status", "last run status"),
    ("last_error", "last error"),
    ("batches", "batches"),
    ("restarts", "consumer restarts"),
)


def only_in_aws(text: str, flags: str) -> Markup:
    """The note of a panel whose AWS source was not given: what is missing and the flag that fills it."""
    return Markup(
        f"<p class='aws'><strong>Only in AWS:</strong> {esc(text)} To show it here: "
        f"<code>feedguard docs build {esc(flags)} {esc(WHERE_FLAGS)}</code>.</p>"
    )


def _heading(aws: AwsFigures, what: str) -> str:
    return f"<h3>{esc(what)} from AWS</h3><p class='muted'>Read from {esc(aws.source)}.</p>"


def _failed(error: str, ident: str) -> str:
    return f"<p class='bad' id='{ident}'>Failed: {esc(error)}</p>"


def airflow_source(aws: AwsFigures | None) -> str:
    if aws is None or not aws.options.environment:
        return only_in_aws(
            "DAG runs, task outcomes and SLA misses are in MWAA and on the dashboard's Airflow widgets (the "
            "DAG callbacks' metrics; locally, make airflow-venv then make test-deploy checks the DAG).",
            "--environment ENV",
        )
    return airflow_aws(aws)


def batch_source(aws: AwsFigures | None) -> str:
    if aws is None or not aws.options.batch_queues:
        return only_in_aws(
            "Batch job states and attempts per queue are in AWS Batch and on the dashboard's Batch widgets "
            "(the collector's BatchJobs metrics).",
            "--batch-queue QUEUE",
        )
    return batch_aws(aws)


def fargate_source(aws: AwsFigures | None) -> str:
    if aws is None or not aws.options.ecs_cluster:
        return only_in_aws(
            "ECS task states and health checks, and the containers' CPU and memory (Container Insights of "
            "the cluster named by EcsClusterName in deploy/monitoring), are in AWS.",
            "--ecs-cluster CLUSTER [--ecs-service SERVICE]",
        )
    return fargate_aws(aws, aws.options.ecs_cluster) + (
        "<p class='muted'>The containers' CPU and memory: Container Insights on the dashboard's Fargate "
        "widgets.</p>"
    )


def airflow_aws(aws: AwsFigures) -> str:
    """DAG runs and task outcomes in the window, from the callbacks' CloudWatch metrics."""
    head = _heading(aws, f"DAG callbacks, last {aws.options.window_hours} h,")
    if aws.airflow_error:
        return head + _failed(aws.airflow_error, "airflow-aws-error")
    if not aws.dags:
        where = f"Environment={aws.options.environment} in {aws.options.namespace}"
        return head + (
            f"<p class='muted'>No callback metric for {esc(where)} in the window: the DAGs' callbacks "
            "publish them (deploy/airflow/feedguard_callbacks.py).</p>"
        )
    rows: list[list[Cell]] = []
    for d in aws.dags:
        rate = d.success_rate_pct
        counts = (d.task_successes, d.task_failures, d.task_retries, d.sla_misses)
        runs = [_count(d.runs_succeeded), _count(d.runs_failed), pct(rate) if rate is not None else None]
        rows.append([d.dag, *runs, *map(_count, counts)])
    headers = ["DAG", "runs succeeded", "runs failed", "success rate", "task successes", "task failures"]
    return head + table([*headers, "retries", "SLA misses"], rows, table_id="airflow-aws")


def batch_aws(aws: AwsFigures) -> str:
    """Jobs per state of each queue (active now, finished in the window) and the oldest wait."""
    queues = aws.batch or ()
    rows: list[list[Cell]] = [
        [
            q.queue,
            *[q.jobs[s] for s in ACTIVE_STATES],
            q.oldest_wait_seconds,
            *[q.jobs[s] for s in FINISHED_STATES],
        ]
        for q in queues
        if not q.error
    ]
    errors = "".join(_failed(q.error, f"batch-aws-error-{i}") for i, q in enumerate(queues) if q.error)
    finished = [f"{s} ({aws.options.window_hours} h)" for s in FINISHED_STATES]
    headers = ["queue", *ACTIVE_STATES, "oldest wait (s)", *finished]
    shown = table(headers, rows, table_id="batch-aws") if rows else ""  # every queue failed: errors only
    return _heading(aws, "Batch jobs") + errors + shown


def _task_summary(cluster: str, tasks: list[EcsTask]) -> str:
    running = [t for t in tasks if t.last_status == "RUNNING"]
    healthy = sum(1 for t in running if t.health_status == "HEALTHY")
    unhealthy = sum(1 for t in running if t.health_status == "UNHEALTHY")
    share = pct(100.0 * healthy / len(running)) if running else "—"
    stopped = sum(1 for t in tasks if t.desired_status == "STOPPED")
    return (
        f"<p id='fargate-aws-summary'>Cluster {esc(cluster)}: {len(tasks)} task(s), {len(running)} running, "
        f"{healthy} healthy ({share}), {unhealthy} unhealthy, {len(running) - healthy - unhealthy} without "
        f"a health status; {stopped} stopping or stopped.</p>"
    )


def fargate_aws(aws: AwsFigures, cluster: str) -> str:
    """The service's counts and the cluster's tasks with their last and health status."""
    head = _heading(aws, "ECS tasks")
    if aws.ecs_error:
        return head + _failed(aws.ecs_error, "fargate-aws-error")
    service, s = "", aws.service
    if s:
        found: list[list[Cell]] = [[s.name, s.status, s.desired, s.running, s.pending]]
        headers = ["service", "status", "desired", "running", "pending"]
        service = table(headers, found, table_id="fargate-service")
    elif aws.options.ecs_service:
        service = (
            f"<p class='bad'>Service {esc(aws.options.ecs_service)} not found in cluster {esc(cluster)}.</p>"
        )
    tasks = list(aws.tasks or ())
    rows: list[list[Cell]] = [
        [t.task_id, t.group, t.launch_type, t.last_status, t.desired_status, _health(t), *_times(t)]
        for t in tasks
    ]
    headers = [
        "task",
        "group",
        "launch type",
        "last status",
        "desired",
        "health",
        "started",
        "stopped reason",
    ]
    return head + service + _task_summary(cluster, tasks) + table(headers, rows, table_id="fargate-tasks")


def _times(task: EcsTask) -> tuple[Cell, Cell]:
    return task.started_at, task.stopped_reason or None


def _health(task: EcsTask) -> Markup:
    css = {"HEALTHY": "ok", "UNHEALTHY": "bad"}.get(task.health_status, "muted")
    return span(css, task.health_status)


def service_section(status: ServiceStatus | None) -> str:
    """The consumer service's ``/healthz`` answer, or why there is none."""
    if status is None:
        return (
            "<p class='muted' id='service-health-none'>No consumer service health endpoint given: build the "
            "site with <code>feedguard docs build --service-health-url http://127.0.0.1:8080/healthz</code> "
            "while the service runs (<code>ingest_kafka.py --continuous --health_address 127.0.0.1:8080"
            "</code>).</p>"
        )
    if not status.reachable:
        return (
            f"<p class='bad' id='service-health-error'>The consumer service at {esc(status.url)} did not "
            f"answer when the site was built: {esc(status.error)}</p>"
        )
    snap = status.snapshot
    healthy = snap.get("status") == "healthy"
    rows: list[list[Cell]] = [[label, _value(snap.get(key))] for key, label in SERVICE_FIELDS]
    rows[0][1] = span("ok" if healthy else "bad", str(snap.get("status")))
    return (
        f"<h3>Consumer service</h3><p class='muted'>{esc(status.url)} answered HTTP {status.http_status}.</p>"
        + table(["", "value"], rows, table_id="service-health")
    )


def _count(value: float) -> Cell:
    """A sum of counts: whole numbers without a decimal point."""
    return int(value) if float(value).is_integer() else value


def _value(value: object) -> Cell:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str | int | float) or value is None else str(value)
