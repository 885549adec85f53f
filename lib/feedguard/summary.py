"""The run summary's schema: every key a run summary may hold, with its type.

A run summary is the JSON under ``<lake>/_runs/<run_id>.json`` and the ``summary_json`` column of the run
log; jobs, metrics, alerts and the Data Docs read it. The builders (file run, failed file run, Kafka run,
replay) are typed against :class:`RunSummary`, so mypy rejects a key that is not declared here or a value
of the wrong type; :func:`undeclared_keys` lets tests check summaries that were read back from JSON.
Keys are optional (``total=False``): each kind of run fills its own set (``docs/operations.md`` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict


class FileEntry(TypedDict):
    """One input file of a file run."""

    path: str
    records_read: int
    records_valid: int
    records_dead_lettered: int
    verdict: str
    evidence: dict[str, Any]
    quarantined_to: str | None


class RunSummary(TypedDict, total=False):
    """Every key of a run summary (file runs, Kafka runs, replays, and what reporting adds)."""

    # Every run.
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
    # File runs.
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
    dq_failures: list[dict[str, Any]]
    expectations_evaluated: int
    expectations_failed: int
    # Kafka runs.
    topic: str
    consumer_group: str
    consumer_group_committed: bool
    batch_seq: int | None
    batch_resumed: bool
    partitions: list[dict[str, Any]]
    consumer_lag: int | None
    consumer_lag_by_partition: dict[str, int]
    consumer_lag_after_run: dict[str, int]
    messages_lost: int
    lost_ranges: list[dict[str, int]]
    downtime_seconds: float
    outages: list[dict[str, Any]]
    closed_by_run_id: str
    # Replays.
    kind: str
    filter: dict[str, str | None]
    # Added by reporting (metrics, alerts, Data Docs).
    metrics_destination: str
    metrics_sent: int
    metrics_spooled: int
    metrics_flushed: int
    metrics_dropped: int
    metrics_error: str | None
    metrics_spool_path: str | None
    alerts: list[str]
    alerts_sent: list[dict[str, Any]]
    alerts_failed: list[dict[str, Any]]
    docs_path: str


SUMMARY_KEYS = frozenset(RunSummary.__annotations__)


def undeclared_keys(summary: Mapping[str, Any]) -> set[str]:
    """Keys of a summary (e.g. read back from JSON) that :class:`RunSummary` does not declare."""
    return set(summary) - SUMMARY_KEYS
