"""``feedguard monitoring collect``: one pass over Batch, ECS and Glue, returned as metrics to publish.

Run every few minutes (the monitoring stack schedules it with EventBridge Scheduler as a Fargate task). Each
pass publishes, in the project's namespace with the ``Environment`` dimension:

* ``BatchJobs`` and ``BatchOldestJobAgeSeconds`` per ``JobQueue`` and ``Status`` (SUBMITTED ... RUNNING),
  ``BatchJobsFinished`` (SUCCEEDED, FAILED) and ``BatchJobDurationSeconds`` for jobs that ended in the window;
* ``ComputeEnvironmentVcpusInUse`` / ``...VcpusDesired`` / ``...VcpusMax`` and ``...MemoryInUseMiB`` /
  ``...MemoryMaxMiB`` per ``ComputeEnvironment``;
* ``IngestRunningSeconds`` per ``DAG`` and ``Task``: how long the oldest Glue run (``ingest_glue``) or Batch
  job (``ingest_batch``) of each feed has been running, so a stuck Airflow ingest task alarms while it runs.

Example::

    clients = CollectClients(batch=boto3.client("batch"), ecs=boto3.client("ecs"), glue=boto3.client("glue"))
    config = CollectConfig(environment="prod", queues=("feedguard",), compute_environments=("feedguard-ec2",),
                           ingest_jobs=(ingest_job("foodnow", "order_events"),))
    metrics = collect(clients, config, now=datetime.now(UTC))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from feedguard.metrics.model import Metric
from feedguard.monitoring.batch import (
    ACTIVE_STATES,
    FINISHED_STATES,
    JobSummary,
    compute_environment_metrics,
    epoch_ms,
    list_jobs,
    queue_metrics,
)

INGEST_RUNNING: Final = "IngestRunningSeconds"
TASK_INGEST_GLUE: Final = "ingest_glue"  # the Airflow task ids of deploy/airflow/feedguard_feeds.py
TASK_INGEST_BATCH: Final = "ingest_batch"
GLUE_RUNNING_STATES: Final = frozenset({"STARTING", "RUNNING", "WAITING", "STOPPING"})
DEFAULT_WINDOW_SECONDS: Final = 300


@dataclass(frozen=True)
class IngestJob:
    """A feed's Glue job / Batch job definition name and the Airflow DAG that runs it."""

    job_name: str
    dag_id: str


def ingest_job(source: str, dataset: str) -> IngestJob:
    """The deploy/ names: job ``feedguard-<source>-<data-set>``, DAG ``feedguard_<source>_<data_set>``.

    >>> ingest_job("foodnow", "order_events")
    IngestJob(job_name='feedguard-foodnow-order-events', dag_id='feedguard_foodnow_order_events')
    """
    return IngestJob(f"feedguard-{source}-{dataset.replace('_', '-')}", f"feedguard_{source}_{dataset}")


@dataclass(frozen=True)
class CollectClients:
    """boto3 clients (or anything with the same methods) for Batch, ECS and Glue."""

    batch: Any
    ecs: Any
    glue: Any | None = None


@dataclass(frozen=True)
class CollectConfig:
    environment: str
    queues: Sequence[str] = ()
    compute_environments: Sequence[str] = ()
    ingest_jobs: Sequence[IngestJob] = field(default_factory=tuple)
    window_seconds: int = DEFAULT_WINDOW_SECONDS


def collect(clients: CollectClients, config: CollectConfig, now: datetime | None = None) -> list[Metric]:
    """Every metric of one collection pass (see the module docstring)."""
    moment = now or datetime.now(UTC)
    metrics: list[Metric] = []
    active_batch: list[JobSummary] = []
    for queue in config.queues:
        jobs = {status: list(list_jobs(clients.batch, queue, status)) for status in ACTIVE_STATES}
        jobs |= {status: list(list_jobs(clients.batch, queue, status)) for status in FINISHED_STATES}
        metrics += queue_metrics(queue, jobs, moment, config.window_seconds, config.environment)
        active_batch += [j for status in ACTIVE_STATES for j in jobs[status] if j.status == status]
    metrics += compute_environment_metrics(
        clients.batch, clients.ecs, config.compute_environments, moment, config.environment
    )
    metrics += ingest_running_metrics(clients.glue, config, active_batch, moment)
    return metrics


def _glue_running_since(glue: Any, job_name: str) -> list[datetime]:
    """Start times of the job's runs that have not ended (the newest page of runs is enough)."""
    try:
        runs = glue.get_job_runs(JobName=job_name, MaxResults=50).get("JobRuns", [])
    except glue.exceptions.EntityNotFoundException:
        return []
    return [
        r["StartedOn"] for r in runs if r.get("JobRunState") in GLUE_RUNNING_STATES and r.get("StartedOn")
    ]


def ingest_running_metrics(
    glue: Any | None, config: CollectConfig, active_batch: Sequence[JobSummary], now: datetime
) -> list[Metric]:
    """``IngestRunningSeconds`` per DAG and ingest task (0 when nothing runs, so the alarm has data)."""
    now_ms = epoch_ms(now)
    out = []
    for job in config.ingest_jobs:
        glue_ages = (
            [(now - s).total_seconds() for s in _glue_running_since(glue, job.job_name)] if glue else []
        )
        # Airflow names a Batch job "<job definition>-<ts_nodash>"; a manual one may carry the bare name.
        batch_ages = [
            (now_ms - j.created_ms) / 1000
            for j in active_batch
            if j.name == job.job_name or j.name.startswith(f"{job.job_name}-")
        ]
        for task, ages in ((TASK_INGEST_GLUE, glue_ages), (TASK_INGEST_BATCH, batch_ages)):
            dims = (("DAG", job.dag_id), ("Task", task), ("Environment", config.environment))
            out.append(Metric(INGEST_RUNNING, max([0.0, *ages]), "Seconds", dims, now))
    return out
