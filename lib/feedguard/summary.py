"""The run summary's schema: every key a run summary may hold, with its type, per kind of run.

A run summary is the JSON under ``<lake>/_runs/<run_id>.json`` and the ``summary_json`` column of the run
log; jobs, metrics, alerts and the Data Docs read it. Each kind of run has its typed variant, which its
builder is checked against: :class:`FileRunSummary` (file ingest, failed file run), :class:`KafkaRunSummary`
and :class:`ReplaySummary`, each the keys of every run (:class:`RunSummaryCore`, reporting's keys included)
plus its own. :class:`RunSummary` holds every key of every kind: it is what the consumers (run log, metrics,
alerts, Data Docs, the CLI) take, and what a summary read back from JSON is. Keys are optional
(``total=False``); :func:`undeclared_keys` lets tests check summaries that were read back from JSON.

Example::

    summary: KafkaRunSummary = {**run_header(ctx, job, status, code), "topic": feed.topic, ...}
    report_run(spark, as_run_summary(summary), contract, lake, reporters)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypedDict, cast

# A value json.dumps writes as JSON (a tuple as a list).
JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
Evidence: TypeAlias = dict[str, JsonValue]  # a verdict's evidence: free-form, JSON-serialisable


class FileEntry(TypedDict):
    """One input file of a file run."""

    path: str
    records_read: int
    records_valid: int
    records_dead_lettered: int
    verdict: str
    evidence: Evidence
    quarantined_to: str | None


class FailedExpectationEntry(TypedDict):
    """One failed expectation of the quality gate (``dq_failures``)."""

    expectation_type: str
    column: str | None
    severity: str
    unexpected_count: int | None
    unexpected_percent: float | None
    partial_unexpected_values: list[JsonValue]


class AlertDelivery(TypedDict):
    """One alert sent (or not) on one channel (``alerts_sent``, ``alerts_failed``)."""

    channel: str
    kind: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None


class LostRange(TypedDict):
    """Offsets ``start`` (inclusive) to ``end`` (exclusive) of a partition, expired before they were read."""

    partition: int
    start: int
    end: int
    count: int


class LostOffsets(TypedDict):
    start: int
    end: int
    count: int


class PartitionEntry(TypedDict):
    """One partition of a Kafka batch: its offsets, lag and loss."""

    partition: int
    earliest: int
    latest: int
    start: int
    end: int
    messages: int
    dead_lettered: int | None
    lag_before: int | None
    lag_after: int | None
    lost: LostOffsets | None


class OutageEntry(TypedDict):
    """One broker outage the Kafka run went through (also a row of ``_kafka_sla``)."""

    what: str
    started_at: str
    ended_at: str
    duration_seconds: float
    attempts: int
    recovered: bool
    in_maintenance_window: bool


class RunSummaryCore(TypedDict, total=False):
    """The keys of every run, and what reporting (metrics, alerts, Data Docs) adds to any of them."""

    run_id: str
    job_name: str | None
    source: str
    dataset: str
    contract_version: int
    status: str
    exit_code: int
    records_read: int
    records_valid: int
    records_dead_lettered: int
    dead_letters_by_type: dict[str, int]
    files: list[FileEntry]
    corrupt_ratio_pct: float
    started_at: str
    ended_at: str
    duration_seconds: float
    message: str
    lake_path: str
    # Added by reporting.
    metrics_destination: str
    metrics_sent: int
    metrics_spooled: int
    metrics_flushed: int
    metrics_dropped: int
    metrics_error: str | None
    metrics_spool_path: str | None
    alerts: list[str]
    alerts_sent: list[AlertDelivery]
    alerts_failed: list[AlertDelivery]
    docs_path: str


class FileRunSummary(RunSummaryCore, total=False):
    """A file run (``jobs/ingest_files.py``), finished or failed at some step."""

    blank_lines_skipped: int
    values_rounded: int
    files_skipped_already_processed: int
    files_skipped_duplicate_content: dict[str, str]
    superseded_runs: dict[str, list[str]]
    rows_superseded: dict[str, int]
    files_quarantined: int
    verdicts: dict[str, str]
    schema_drift_detected: bool
    drift_reports: dict[str, dict[str, str]]
    stage_seconds: dict[str, float]
    failed_step: str
    error: str
    auto_accepted: bool
    # The quality gate.
    dq_success: bool | None
    dq_failures: list[FailedExpectationEntry]
    expectations_evaluated: int
    expectations_failed: int


class KafkaRunSummary(RunSummaryCore, total=False):
    """A Kafka run (``jobs/ingest_kafka.py``, one batch of the consumer service)."""

    topic: str
    consumer_group: str
    consumer_group_committed: bool
    batch_seq: int | None
    batch_resumed: bool
    partitions: list[PartitionEntry]
    consumer_lag: int | None
    consumer_lag_by_partition: dict[str, int]
    consumer_lag_after_run: dict[str, int]
    messages_lost: int
    lost_ranges: list[LostRange]
    downtime_seconds: float
    outages: list[OutageEntry]
    closed_by_run_id: str


class ReplaySummary(RunSummaryCore, total=False):
    """A replay of dead letters (``feedguard replay``)."""

    kind: str  # "replay", or "auto_accept" for a drift loaded at once under its proposed version
    filter: dict[str, str | None]
    # An auto-accepted drift.
    accepted_file: str
    accepted_contract: str
    compatibility: str


class RunSummary(FileRunSummary, KafkaRunSummary, ReplaySummary, total=False):
    """A run summary of any kind, as its consumers read it: every key of every variant."""


AnyRunSummary: TypeAlias = FileRunSummary | KafkaRunSummary | ReplaySummary


def as_run_summary(summary: AnyRunSummary) -> RunSummary:
    """A variant as a :class:`RunSummary`: sound, since its keys are RunSummary's, all optional.

    (mypy does not let a TypedDict with fewer keys stand for one with more, even when those are optional.)
    """
    return cast(RunSummary, summary)


def summary_from_json(text: str | bytes) -> RunSummary:
    """A run summary read back from ``<lake>/_runs/<run_id>.json`` or the run log's ``summary_json``."""
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"a run summary is a JSON object, not {type(loaded).__name__}")
    return cast(RunSummary, loaded)


def summary_to_json(summary: RunSummary, *, indent: int | None = 2) -> str:
    """The JSON text of a run summary, keys sorted (what ``_runs/`` and ``summary_json`` hold)."""
    return json.dumps(summary, indent=indent, sort_keys=True, default=str)


SUMMARY_KEYS = frozenset(RunSummary.__annotations__)


def undeclared_keys(summary: Mapping[str, Any]) -> set[str]:
    """Keys of a summary (e.g. read back from JSON) that :class:`RunSummary` does not declare."""
    return set(summary) - SUMMARY_KEYS
