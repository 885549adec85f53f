"""The Kafka run's life cycle: close at the commit point, then report; finish what a dead run left.

A Kafka run is never undone: a batch planned by a run that died is re-executed exactly (see
:mod:`feedguard.kafka.state`). What a dead run can leave is its *report*, so the order is the file job's:
close the run (the run log row, and the summary kept as a pending report), then send its metrics and
alerts, then drop the pending report. The next run of the feed then

- sends the reports of runs that closed but died before reporting, after removing whatever part of
  that report already reached ``<lake>/_metrics`` (no row counted twice);
- closes and reports a batch whose run died after committing it but before closing: its counts are read
  back from the tables by its offsets (no batch without a run log row, no lost message-loss alert).

Example::

    summary = ingest_and_report(spark, contract, lake, feed, ctx, reporters, job_name=job, guard=guard)
"""

from __future__ import annotations

import logging

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.conservation import count_batch
from feedguard.kafka.ingest import AfterWrite, kafka_guard, run_kafka_ingest
from feedguard.kafka.outage import OutageGuard, OutagePolicy
from feedguard.kafka.report import Progress, kafka_summary, report_kafka_run
from feedguard.kafka.state import BatchState, OffsetRow, aware, committed_batch, read_batch_state
from feedguard.lake.layout import Lake
from feedguard.lake.lifecycle import close_run, forget_metrics, pending_reports, report_sent
from feedguard.lake.runlog import iso
from feedguard.runtime.reporting import Reporters
from feedguard.summary import RunSummary, summary_from_json

log = logging.getLogger(__name__)


def finish_kafka_run(
    spark: SparkSession, summary: RunSummary, contract: Contract, lake: Lake, reporters: Reporters
) -> RunSummary:
    """Close the run (run log + pending report), then send its metrics and alerts; return the summary."""
    close_run(spark, lake, summary, awaiting_report=True)
    summary = report_kafka_run(spark, summary, contract, lake, reporters)
    report_sent(lake, summary)
    return summary


def send_pending_kafka_reports(
    spark: SparkSession, contract: Contract, lake: Lake, reporters: Reporters
) -> list[RunSummary]:
    """Report the runs that closed but died before (or while) reporting, oldest first."""
    sent = []
    for summary in pending_reports(lake, contract.source, contract.dataset):
        log.warning("run %s closed without sending its report: sending it now", summary["run_id"])
        forget_metrics(spark, lake, str(summary["run_id"]))
        summary = report_kafka_run(spark, summary, contract, lake, reporters)
        report_sent(lake, summary)
        sent.append(summary)
    return sent


def closed_summary(spark: SparkSession, lake: Lake, run_id: str) -> RunSummary | None:
    """The run log summary of ``run_id`` if that run closed, else None."""
    if not DeltaTable.isDeltaTable(spark, lake.runs):
        return None
    row = (
        spark.read.format("delta")
        .load(lake.runs)
        .where(F.col("run_id") == run_id)
        .select("summary_json")
        .first()
    )
    return summary_from_json(row[0]) if row is not None else None


def unclosed_batch_summary(
    spark: SparkSession, contract: Contract, lake: Lake, feed: KafkaFeed, *, job_name: str, closed_by: str
) -> RunSummary | None:
    """The summary of the topic's last committed batch when the run that committed it never closed."""
    state = read_batch_state(spark, lake.kafka_offsets, feed.topic)
    if not state.last_batch or closed_summary(spark, lake, state.last_batch[0].run_id) is not None:
        return None
    rows = state.last_batch
    run_id = rows[0].run_id
    log.warning(
        "run %s committed batch %d of %s but died before closing: closing and reporting it now",
        *(run_id, rows[0].batch_seq, feed.topic),
    )
    summary = _summary_of(spark, contract, lake, feed, rows, job_name=job_name)
    summary["closed_by_run_id"] = closed_by
    summary["message"] += f" (closed by run {closed_by}: run {run_id} died before closing)"
    return summary


def _summary_of(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    feed: KafkaFeed,
    rows: tuple[OffsetRow, ...],
    *,
    job_name: str,
) -> RunSummary:
    """The summary the committing run would have written (no outages: those are in ``_kafka_sla``)."""
    batch = committed_batch(rows)
    committed_at = aware(rows[0].committed_at or rows[0].planned_at)
    ctx = RunContext(contract.source, contract.dataset, contract.version, rows[0].run_id, iso(committed_at))
    before = {r.partition: r.expected_offset for r in rows if r.expected_offset is not None}
    progress = Progress(
        earliest={r.partition: r.earliest_offset for r in rows},
        latest={r.partition: r.latest_offset for r in rows},
        state=BatchState(before, batch.seq - 1, None),
        batch=batch,
        result=count_batch(spark, lake, ctx, batch),
        next_offsets=batch.plan.next_offsets,
    )
    return kafka_summary(
        ctx,
        feed,
        job_name=job_name,
        lake_root=lake.root,
        progress=progress,
        guard=kafka_guard(OutagePolicy()),
        started=committed_at,
        ended=committed_at,
    )


def ingest_and_report(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    feed: KafkaFeed,
    ctx: RunContext,
    reporters: Reporters,
    *,
    job_name: str,
    guard: OutageGuard,
    after_write: AfterWrite | None = None,
) -> RunSummary:
    """Finish what earlier runs left (reports, an unclosed batch), then ingest, close and report."""
    send_pending_kafka_reports(spark, contract, lake, reporters)
    done = closed_summary(spark, lake, ctx.run_id)
    if done is not None:
        log.warning("run %s already finished: nothing to do (a retry of a run that completed)", ctx.run_id)
        return done
    unclosed = unclosed_batch_summary(spark, contract, lake, feed, job_name=job_name, closed_by=ctx.run_id)
    if unclosed is not None:
        unclosed = finish_kafka_run(spark, unclosed, contract, lake, reporters)
        if unclosed["run_id"] == ctx.run_id:  # a retry of the run that died: its batch is its result
            return unclosed
    summary = run_kafka_ingest(
        spark, contract, lake, feed, ctx, job_name=job_name, guard=guard, after_write=after_write
    )
    return finish_kafka_run(spark, summary, contract, lake, reporters)
