"""What the health site shows, as typed records read once from the lake (and the local broker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedguard.metrics.model import DEFAULT_NAMESPACE

RunSummary = Mapping[str, Any]  # a <lake>/_runs/<run_id>.json document (its schema: lake.runlog)


@dataclass(frozen=True)
class AwsOptions:
    """Where the Airflow, Batch and Fargate panels read AWS: the default credentials, or an endpoint (moto).

    A panel reads AWS only when its own setting is given: ``environment`` (the Airflow callbacks' metrics),
    ``batch_queues``, ``ecs_cluster`` (and optionally the service whose tasks to show).
    """

    region: str | None = None
    endpoint_url: str | None = None
    environment: str | None = None
    batch_queues: tuple[str, ...] = ()
    ecs_cluster: str | None = None
    ecs_service: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    window_hours: int = 24


@dataclass(frozen=True)
class HealthOptions:
    """Where the lake and the contracts are; optional live sources: a broker, AWS, the consumer service."""

    lake: str
    contracts_dir: str = "contracts"
    kafka_bootstrap: str | None = None
    examples_per_reason: int = 20
    latest_runs: int = 50
    aws: AwsOptions | None = None
    service_health_url: str | None = None


@dataclass(frozen=True)
class DeadLetterCount:
    """Dead letters of one feed with one reason in one file (or Kafka partition)."""

    feed: str
    error_type: str
    where: str
    status: str
    count: int


@dataclass(frozen=True)
class DeadLetterExample:
    """One dead letter as the site shows it: raw text already masked (PII, secrets) and cut short."""

    feed: str
    run_id: str
    error_type: str
    error_detail: str
    where: str
    line: int | None
    status: str
    raw_text: str


@dataclass(frozen=True)
class SlaRow:
    """A row of ``<lake>/_kafka_sla``: an outage or a retention loss."""

    topic: str
    kind: str
    outage_start: str
    outage_end: str
    duration_seconds: float | None
    messages_lost: int
    in_maintenance_window: bool
    attempts: int
    failed_call: str
    detected_by_run_id: str
    consumer_lag_at_recovery: int | None


@dataclass(frozen=True)
class MetricRow:
    """A row of ``<lake>/_metrics``."""

    run_id: str
    feed: str
    metric_name: str
    value: float
    unit: str
    timestamp: str
    destination: str


@dataclass(frozen=True)
class OffsetBatch:
    """A batch of ``<lake>/_kafka_offsets`` summed over partitions: messages read and when committed."""

    topic: str
    batch_seq: int
    run_id: str
    messages: int
    latest_offsets: int
    committed_at: str


@dataclass(frozen=True)
class PartitionStatus:
    topic: str
    partition: int
    leader: int
    replicas: int
    in_sync: int


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


@dataclass(frozen=True)
class BrokerStatus:
    """What the local broker said when the site was built (``reachable`` False: ``error`` says why)."""

    bootstrap: str
    reachable: bool
    error: str = ""
    brokers: int = 0
    partitions: Sequence[PartitionStatus] = ()
    groups: Sequence[GroupLag] = ()


@dataclass(frozen=True)
class BatchQueueStatus:
    """A Batch job queue: jobs per active state now and per finished state in the window (or the error)."""

    queue: str
    jobs: Mapping[str, int] = field(default_factory=dict)
    oldest_wait_seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class EcsTask:
    """An ECS task of the cluster as ``DescribeTasks`` gives it."""

    task_id: str
    group: str
    launch_type: str
    last_status: str
    desired_status: str
    health_status: str
    started_at: str | None = None
    stopped_reason: str = ""


@dataclass(frozen=True)
class EcsService:
    name: str
    status: str
    desired: int
    running: int
    pending: int


@dataclass(frozen=True)
class DagFigures:
    """Sums of one DAG's callback metrics over the window (``feedguard.monitoring.airflow``)."""

    dag: str
    runs_succeeded: float = 0.0
    runs_failed: float = 0.0
    task_successes: float = 0.0
    task_failures: float = 0.0
    task_retries: float = 0.0
    sla_misses: float = 0.0

    @property
    def success_rate_pct(self) -> float | None:
        runs = self.runs_succeeded + self.runs_failed
        return round(100.0 * self.runs_succeeded / runs, 1) if runs else None


@dataclass(frozen=True)
class AwsFigures:
    """What AWS said when the site was built. A part is None when its setting was not given, or when the
    call failed: then its ``*_error`` names the call and the error."""

    options: AwsOptions
    source: str
    batch: Sequence[BatchQueueStatus] | None = None
    tasks: Sequence[EcsTask] | None = None
    service: EcsService | None = None
    ecs_error: str = ""
    dags: Sequence[DagFigures] | None = None
    airflow_error: str = ""


@dataclass(frozen=True)
class ServiceStatus:
    """The consumer service's ``/healthz`` answer (``reachable`` False: ``error`` says why)."""

    url: str
    reachable: bool
    error: str = ""
    http_status: int | None = None
    snapshot: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthData:
    """Everything the pages are rendered from."""

    lake: str
    runs: Sequence[RunSummary]
    dead_counts: Sequence[DeadLetterCount] = ()
    dead_examples: Sequence[DeadLetterExample] = ()
    sla: Sequence[SlaRow] = ()
    metrics: Sequence[MetricRow] = ()
    offsets: Sequence[OffsetBatch] = ()
    alert_state: Mapping[str, Any] = field(default_factory=dict)
    sink_files: Mapping[str, Sequence[str]] = field(default_factory=dict)
    broker: BrokerStatus | None = None
    aws: AwsFigures | None = None
    service: ServiceStatus | None = None

    def feeds(self) -> list[str]:
        """``source/dataset`` of every feed with a run, sorted."""
        return sorted({feed_of(run) for run in self.runs})

    def runs_of(self, feed: str) -> list[RunSummary]:
        """The feed's runs, oldest first."""
        return sorted(
            (r for r in self.runs if feed_of(r) == feed), key=lambda r: str(r.get("started_at", ""))
        )


def feed_of(run: RunSummary) -> str:
    return f"{run.get('source', 'unknown')}/{run.get('dataset', 'unknown')}"


def feed_page_name(feed: str) -> str:
    """``feed-quickbite-orders.html``: a file name for a feed (letters, digits, ``-`` and ``_`` only)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in feed.replace("/", "-"))
    return f"feed-{safe}.html"
