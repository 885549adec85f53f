"""The Kafka run's summary (the run log's JSON) and its message-loss alert.

The summary has the file job's keys (``records_read`` ... ``message``) plus the Kafka ones: ``topic``,
``batch_seq``, ``partitions`` (offsets, lag, loss per partition), ``consumer_lag`` (total, published as
ConsumerLag), ``messages_lost`` and ``lost_ranges``, ``downtime_seconds`` and ``outages``.

Example::

    summary = report_kafka_run(spark, summary, contract, lake, reporters)  # metrics, alerts, loss alert
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import cast

from pyspark.sql import SparkSession

from feedguard.alerts import AlertMessage, deliver
from feedguard.alerts.rules import ONCALL, AlertKind
from feedguard.contracts.contract import Contract
from feedguard.errors import EXIT_OK, EXIT_TRANSIENT
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.outage import BrokerUnavailableError, OutageGuard
from feedguard.kafka.state import Batch, BatchState
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import iso, run_header
from feedguard.runtime.reporting import Reporters, report_run
from feedguard.summary import (
    KafkaRunSummary,
    LostRange,
    OutageEntry,
    PartitionEntry,
    RunSummary,
    as_run_summary,
)

log = logging.getLogger(__name__)
MESSAGE_LOSS = "message_loss"


@dataclass
class BatchResult:
    """What one batch wrote, counted from the Delta log (or read back when a write was skipped)."""

    valid: int
    dead: int
    dead_by_type: dict[str, int]
    dead_by_partition: dict[int, int]
    skipped: tuple[str, ...] = ()  # writes an earlier run had already made


@dataclass
class Progress:
    """What the run learnt so far: enough for a summary even when the broker goes away half-way."""

    earliest: dict[int, int] = field(default_factory=dict)
    latest: dict[int, int] = field(default_factory=dict)
    state: BatchState | None = None
    batch: Batch | None = None
    result: BatchResult | None = None
    next_offsets: dict[int, int] = field(default_factory=dict)
    group_committed: bool = False
    failure: BrokerUnavailableError | None = None


def lag_by_partition(
    earliest: dict[int, int], latest: dict[int, int], committed: dict[int, int]
) -> dict[int, int]:
    """Latest minus committed offset per partition (minus earliest where nothing is committed yet)."""
    return {p: latest[p] - committed.get(p, earliest[p]) for p in sorted(latest)}


def run_status(progress: Progress) -> tuple[str, int]:
    """The run's status word and exit code."""
    if progress.failure is not None:
        return "broker_unavailable", EXIT_TRANSIENT
    if progress.batch is not None and progress.result is not None and progress.batch.plan.messages_lost:
        return "succeeded_with_message_loss", EXIT_OK
    if progress.result is not None and progress.result.dead:
        return "succeeded_with_dead_letters", EXIT_OK
    return "succeeded", EXIT_OK


def _partitions(progress: Progress, lag: dict[int, int], lag_after: dict[int, int]) -> list[PartitionEntry]:
    if progress.batch is None:
        return []
    result = progress.result
    return [
        {
            "partition": p.partition,
            "earliest": p.earliest,
            "latest": p.latest,
            "start": p.start,
            "end": p.end,
            "messages": p.count,
            "dead_lettered": result.dead_by_partition.get(p.partition, 0) if result else None,
            "lag_before": lag.get(p.partition),
            "lag_after": lag_after.get(p.partition),
            "lost": ({"start": p.lost.start, "end": p.lost.end, "count": p.lost.count} if p.lost else None),
        }
        for p in progress.batch.plan.partitions
    ]


def _message(status: str, progress: Progress, topic: str) -> str:
    batch, result = progress.batch, progress.result
    if progress.failure is not None:
        text = str(progress.failure)
        if batch is not None and result is not None:
            text += (
                f" Batch {batch.seq} is committed in the lake ({result.valid + result.dead} messages);"
                " only the consumer-group commit on the broker is missing, and the next run makes it."
            )
        return text
    if batch is None or not batch.needs_run:
        return f"{status}: no new messages on {topic}"
    assert result is not None
    text = (
        f"{status}: batch {batch.seq} of {topic}: read {result.valid + result.dead} messages, "
        f"{result.valid} valid, {result.dead} dead-lettered"
    )
    if batch.plan.messages_lost:
        text += f"; {batch.plan.messages_lost} message(s) expired before they were read (retention)"
    if batch.resumed:
        text += f"; re-executed the unfinished batch (already written: {', '.join(result.skipped) or 'none'})"
    return text


def _lags(progress: Progress) -> tuple[dict[int, int], dict[int, int]]:
    """Consumer lag per partition before the run and once its offsets are committed."""
    if not progress.latest or progress.state is None:
        return {}, {}
    return (
        lag_by_partition(progress.earliest, progress.latest, progress.state.committed),
        lag_by_partition(progress.earliest, progress.latest, progress.next_offsets),
    )


def _lost_ranges(progress: Progress) -> list[LostRange]:
    """The offset ranges retention removed before this run's batch could read them."""
    batch = progress.batch
    if batch is None or progress.result is None:
        return []
    return [
        {"partition": r.partition, "start": r.start, "end": r.end, "count": r.count}
        for r in batch.plan.lost_ranges
    ]


def _outages(guard: OutageGuard) -> list[OutageEntry]:
    return [
        {
            "what": o.what,
            "started_at": iso(o.started_at),
            "ended_at": iso(o.ended_at),
            "duration_seconds": round(o.duration_seconds, 3),
            "attempts": len(o.attempts),
            "recovered": o.recovered,
            "in_maintenance_window": o.in_maintenance_window,
        }
        for o in guard.outages
    ]


def _counts(result: BatchResult | None) -> KafkaRunSummary:
    valid, dead = (result.valid, result.dead) if result else (0, 0)
    return {
        "records_read": valid + dead,
        "records_valid": valid,
        "records_dead_lettered": dead,
        "dead_letters_by_type": result.dead_by_type if result else {},
        "corrupt_ratio_pct": round(100.0 * dead / (valid + dead), 4) if valid + dead else 0.0,
        "files": [],
    }


def _offsets(feed: KafkaFeed, progress: Progress, guard: OutageGuard) -> KafkaRunSummary:
    """The topic, the batch, its offsets, lag, loss and the outages the run went through."""
    batch = progress.batch
    lag, lag_after = _lags(progress)
    lost = _lost_ranges(progress)
    return {
        "topic": feed.topic,
        "consumer_group": feed.consumer_group,
        "consumer_group_committed": progress.group_committed,
        "batch_seq": batch.seq if batch is not None and batch.needs_run else None,
        "batch_resumed": bool(batch and batch.resumed),
        "partitions": _partitions(progress, lag, lag_after),
        "consumer_lag": sum(lag.values()) if lag else None,
        "consumer_lag_by_partition": {str(p): n for p, n in lag.items()},
        "consumer_lag_after_run": {str(p): n for p, n in lag_after.items()},
        "messages_lost": sum(r["count"] for r in lost),
        "lost_ranges": lost,
        "downtime_seconds": round(guard.total_downtime_seconds, 3),
        "outages": _outages(guard),
    }


def kafka_summary(
    ctx: RunContext,
    feed: KafkaFeed,
    *,
    job_name: str,
    lake_root: str,
    progress: Progress,
    guard: OutageGuard,
    started: dt.datetime,
    ended: dt.datetime,
) -> RunSummary:
    """The run summary (see the module docstring)."""
    status, exit_code = run_status(progress)
    summary: KafkaRunSummary = {
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_seconds": round((ended - started).total_seconds(), 3),
        "message": _message(status, progress, feed.topic),
        "lake_path": lake_root,
    }
    for part in (_counts(progress.result), _offsets(feed, progress, guard)):
        summary.update(part)
    summary.update(cast(KafkaRunSummary, run_header(ctx, job_name, status, exit_code)))  # a checked part
    return as_run_summary(summary)


def message_loss_alert(summary: RunSummary, contract: Contract) -> AlertMessage:
    """A critical alert listing the offset ranges that retention removed before the job read them."""
    where = f"{summary['source']}/{summary['dataset']}"
    ranges = summary.get("lost_ranges") or []
    lines = [
        f"{summary['messages_lost']} message(s) of topic {summary['topic']} expired (retention) before run "
        f"{summary['run_id']} of {where} could read them. Everything still on the broker was loaded.",
        "",
        f"Status: {summary['status']} (exit {summary['exit_code']}) | "
        f"Contract: v{summary['contract_version']}",
        "Lost offsets (first to last, per partition):",
        *[f"- partition {r['partition']}: {r['start']} to {r['end'] - 1} ({r['count']})" for r in ranges],
        "",
        "What to do: send the producer these ranges and the time span from <lake>/_kafka_sla, ask them to "
        "re-publish those events, and make the topic's retention longer than the longest outage plus "
        "catch-up (docs/operations.md, Kafka retention loss).",
    ]
    owner = contract.owner.email
    return AlertMessage(
        # alerts.rules has no kind for an event like this one; the channels only use it as a label.
        kind=cast(AlertKind, MESSAGE_LOSS),
        severity="critical",
        source=str(summary["source"]),
        dataset=str(summary["dataset"]),
        run_id=str(summary["run_id"]),
        recipients=(ONCALL, f"owner:{owner}") if owner else (ONCALL,),
        subject=f"[feedguard] CRITICAL {where}: {summary['messages_lost']} messages lost to retention"[:100],
        text="\n".join(lines),
    )


def report_kafka_run(
    spark: SparkSession, summary: RunSummary, contract: Contract, lake: Lake, reporters: Reporters
) -> RunSummary:
    """:func:`feedguard.runtime.reporting.report_run`, plus the message-loss alert when messages were lost."""
    summary = report_run(spark, summary, contract, lake, reporters)
    if summary.get("messages_lost"):
        message = message_loss_alert(summary, contract)
        delivered = deliver([message], reporters.notifiers).summary_fields()
        summary["alerts"] = [*summary.get("alerts", []), MESSAGE_LOSS]
        summary["alerts_sent"] = [*summary.get("alerts_sent", []), *delivered.get("alerts_sent", [])]
        summary["alerts_failed"] = [*summary.get("alerts_failed", []), *delivered.get("alerts_failed", [])]
        log.warning("alert: %s", message.subject)
    return summary
