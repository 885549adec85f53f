"""The Kafka ingest flow: offsets, write-ahead plan, read once, route, write once, prove, commit.

``run_kafka_ingest`` is what ``jobs/ingest_kafka.py`` calls. Every broker call (offsets, the Spark read,
the consumer-group commit) goes through an :class:`~feedguard.kafka.outage.OutageGuard`; a broker that stays
away past the window ends the run with exit 75 and a summary that says so (the planned batch, if any,
is re-executed by the next run). See :mod:`feedguard.kafka.state` for the exactly-once protocol.

Example::

    guard = kafka_guard(outage_policy("30", None))
    summary = run_kafka_ingest(spark, contract, lake, feed, ctx, job_name="ingest-foodnow", guard=guard)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from feedguard.contracts.contract import Contract
from feedguard.ingest.routing import RunContext, error_type
from feedguard.kafka.broker_offsets import commit_group_offsets, fetch_offsets
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.conservation import Counts, measure, prove_conservation
from feedguard.kafka.offsets import BatchPlan, OffsetRange
from feedguard.kafka.outage import BrokerUnavailableError, OutageGuard, OutagePolicy
from feedguard.kafka.report import BatchResult, Progress, kafka_summary, lag_by_partition
from feedguard.kafka.routing import (
    flag_empty_messages,
    for_routing,
    kafka_dead_letter_rows,
    kafka_valid_rows,
)
from feedguard.kafka.sinks import app_id, append_once
from feedguard.kafka.sla import append_sla_entries, sla_entries
from feedguard.kafka.source import is_kafka_unreachable, load_kafka_batch
from feedguard.kafka.state import (
    COMMITTED,
    PLANNED,
    Batch,
    append_offset_rows,
    choose_batch,
    offset_rows,
    read_batch_state,
)
from feedguard.lake.cache import persist_uncompressed
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import utc_now
from feedguard.lake.sinks import write_error_zone
from feedguard.parse.json_records import parse_json_records
from feedguard.summary import RunSummary

log = logging.getLogger(__name__)

# Stages after which ``after_write`` is called (a crash right after one must not lose or duplicate).
STAGES = ("planned", "valid_write", "dead_letter_write", "offsets_commit")
AfterWrite = Callable[[str], None]


def kafka_guard(policy: OutagePolicy, **kwargs: Any) -> OutageGuard:
    """An outage guard that also recognises the Spark Kafka source's broker errors as transient."""
    return OutageGuard(policy, is_transient=is_kafka_unreachable, **kwargs)


def run_kafka_ingest(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    feed: KafkaFeed,
    ctx: RunContext,
    *,
    job_name: str,
    guard: OutageGuard,
    after_write: AfterWrite | None = None,
) -> RunSummary:
    """Ingest the topic's next batch (or re-execute an unfinished one); return the run summary."""
    started = utc_now()
    progress = Progress()
    try:
        _ingest_next_batch(spark, contract, lake, feed, ctx, guard, after_write, progress)
    except BrokerUnavailableError as exc:
        progress.failure = exc
    finally:  # outages are ledgered even when the run fails for another reason
        _record_sla(spark, lake, feed, ctx, guard, progress)
    return kafka_summary(
        ctx,
        feed,
        job_name=job_name,
        lake_root=lake.root,
        progress=progress,
        guard=guard,
        started=started,
        ended=utc_now(),
    )


def _ingest_next_batch(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    feed: KafkaFeed,
    ctx: RunContext,
    guard: OutageGuard,
    after_write: AfterWrite | None,
    progress: Progress,
) -> None:
    """Fetch the offsets, choose the batch, execute it, commit the consumer group's offsets.

    Each step records what it learnt in ``progress`` at once, so that a broker going away half-way
    still leaves enough for the run's summary.
    """
    progress.earliest, progress.latest = guard.call(
        lambda: fetch_offsets(feed.bootstrap, feed.topic, timeout_ms=feed.timeout_ms, security=feed.security),
        what="fetch offsets",
    )
    progress.state = read_batch_state(spark, lake.kafka_offsets, feed.topic)
    batch = choose_batch(
        progress.state, feed.topic, progress.earliest, progress.latest, feed.max_offsets_per_partition
    )
    progress.batch = batch
    progress.next_offsets = dict(progress.state.committed)
    if batch.needs_run:
        progress.result = execute_batch(spark, contract, lake, feed, ctx, batch, guard, after_write)
        progress.next_offsets.update(batch.plan.next_offsets)
    if progress.next_offsets:
        guard.call(
            lambda: commit_group_offsets(
                feed.bootstrap,
                feed.consumer_group,
                feed.topic,
                progress.next_offsets,
                metadata=ctx.run_id,
                timeout_ms=feed.timeout_ms,
                security=feed.security,
            ),
            what="commit consumer-group offsets",
        )
        progress.group_committed = True


def _record_sla(
    spark: SparkSession, lake: Lake, feed: KafkaFeed, ctx: RunContext, guard: OutageGuard, progress: Progress
) -> None:
    """Ledger rows for the outages this run saw, and for a retention loss once its batch is committed."""
    lost: tuple[OffsetRange, ...] = ()
    if progress.batch is not None and progress.result is not None:
        lost = progress.batch.plan.lost_ranges
    lag = None
    if progress.latest and progress.state is not None:
        lag = sum(lag_by_partition(progress.earliest, progress.latest, progress.state.committed).values())
    entries = sla_entries(
        feed.topic,
        guard.outages,
        run_id=ctx.run_id,
        lost_ranges=lost,
        consumer_lag_at_recovery=lag,
        away_since=progress.state.last_committed_at if progress.state else None,
        detected_at=utc_now(),
    )
    append_sla_entries(spark, lake.kafka_sla, entries)


def execute_batch(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    feed: KafkaFeed,
    ctx: RunContext,
    batch: Batch,
    guard: OutageGuard,
    after_write: AfterWrite | None = None,
) -> BatchResult:
    """Plan (write-ahead), read and measure once, write valid and dead letters once each, prove, commit."""
    hook = after_write or (lambda stage: None)
    plan = batch.plan
    if not batch.resumed or batch.replanned:
        append_offset_rows(spark, lake.kafka_offsets, offset_rows(batch, PLANNED, ctx.run_id, utc_now()))
        hook("planned")
    else:
        log.warning(
            "re-executing batch %d of %s, planned by a run that did not finish", batch.seq, plan.topic
        )
    for lost in plan.lost_ranges:
        log.warning(
            "partition %d of %s: offsets %d to %d (%d messages) expired before they were read",
            *(lost.partition, plan.topic, lost.start, lost.end - 1, lost.count),
        )
    measured: Counts = {}
    written: dict[str, int | None] = {"valid": 0, "dead_letter": 0}
    if plan.messages_planned:
        # Caching plans the read, and planning already asks the broker for offsets: all of it is guarded.
        routed, measured = guard.call(
            lambda: read_and_measure(spark, contract, feed, plan),
            what=f"read batch {batch.seq} from the broker",
        )
        try:
            written = _write_batch(routed, contract, lake, ctx, batch, guard, hook)
        finally:
            routed.unpersist()
    result = prove_conservation(spark, lake, ctx, batch, measured, written)
    append_offset_rows(spark, lake.kafka_offsets, offset_rows(batch, COMMITTED, ctx.run_id, utc_now()))
    hook("offsets_commit")
    return result


def read_and_measure(
    spark: SparkSession, contract: Contract, feed: KafkaFeed, plan: BatchPlan
) -> tuple[DataFrame, Counts]:
    """Read the planned offsets, parse and route them into a cache, and count them in the same pass.

    One attempt as a whole: if the broker fails at any point (planning the cached query fetches
    offsets, the count reads the messages), the half-filled cache is dropped before the error leaves.
    """
    routed = (
        load_kafka_batch(
            spark,
            feed.bootstrap,
            feed.topic,
            plan,
            timeout_ms=feed.timeout_ms,
            extra_options=feed.security.spark_options(),
        )
        .transform(parse_json_records, contract)
        .transform(flag_empty_messages)
        .transform(error_type)
        .transform(for_routing, contract)
    )
    try:
        routed = persist_uncompressed(routed)
        return routed, measure(routed)
    except BaseException:
        routed.unpersist()
        raise


def _write_batch(
    routed: DataFrame,
    contract: Contract,
    lake: Lake,
    ctx: RunContext,
    batch: Batch,
    guard: OutageGuard,
    hook: AfterWrite,
) -> dict[str, int | None]:
    """Write the valid rows, then the dead letters (and their error-zone mirror), each at most once.

    The writes read the cache; a lost cache block would re-read the broker, hence the guard on each.
    """
    written: dict[str, int | None] = {}
    valid = routed.transform(kafka_valid_rows, contract, ctx)
    written["valid"] = _write_once(guard, valid, lake.table(ctx.source, ctx.dataset), batch, ctx, "valid",
                                   ("ingest_date",), True)  # fmt: skip
    hook("valid_write")
    dead = routed.transform(kafka_dead_letter_rows, ctx)
    written["dead_letter"] = _write_once(guard, dead, lake.dead_letter, batch, ctx, "dead_letter",
                                         ("source", "ingest_date"), True)  # fmt: skip
    if written["dead_letter"]:  # the bad payloads as plain text too, one folder per partition
        guard.call(
            lambda: write_error_zone(dead, lake.error_zone(ctx.source, ctx.run_id)),
            what=f"mirror the dead letters of batch {batch.seq} to the error zone",
        )
    hook("dead_letter_write")
    return written


def _write_once(
    guard: OutageGuard,
    rows: DataFrame,
    path: str,
    batch: Batch,
    ctx: RunContext,
    kind: str,
    partition_by: tuple[str, ...],
    merge_schema: bool,
) -> int | None:
    return guard.call(
        lambda: append_once(
            rows,
            path,
            app_id=app_id(batch.plan.topic, kind),
            version=batch.seq,
            commit_tag=f"{ctx.run_id}:kafka:{batch.plan.topic}:{batch.seq}:{kind}",
            partition_by=partition_by,
            merge_schema=merge_schema,
        ),
        what=f"write the {kind} rows of batch {batch.seq}",
    )
