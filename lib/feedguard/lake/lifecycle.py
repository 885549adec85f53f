"""A run's life cycle in the lake: undo runs that never finished, close the ones that did.

A run writes an in-flight marker first and clears it last, after its run log row. The next run of
the same dataset (holding the feed's lease, so the dead run cannot still be writing) finds markers
left by runs that died and undoes them: their rows are deleted from every table, the rows their
``replaceWhere`` commits superseded are put back (read from the table version just before that
commit), the dead letters an unfinished replay resolved are reopened, and their metrics rows,
error-zone, quarantine and drift folders and run summary are removed. A rerun then neither loses
nor duplicates anything, whatever point the dead run reached.
"""

from __future__ import annotations

import logging

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.ingest.replay import undo_replay
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import clear_inflight, inflight_runs, write_run
from feedguard.lake.storage import join, list_names, read_text, remove_path, write_text
from feedguard.summary import RunSummary, summary_from_json, summary_to_json

log = logging.getLogger(__name__)
RECOVERY_HISTORY_DEPTH = 1000  # commits searched for a dead run's superseding writes


def _tables(lake: Lake, source: str, dataset: str) -> list[tuple[str, str]]:
    return [
        (lake.table(source, dataset), "_run_id"),
        (lake.dead_letter, "run_id"),
        (lake.ledger, "run_id"),
        (lake.runs, "run_id"),
        (lake.dq_results, "run_id"),
        (lake.metrics, "run_id"),
    ]


def restore_superseded(spark: SparkSession, path: str, run_id: str) -> int:
    """Put back the rows that ``run_id``'s ``replaceWhere`` commits removed; return how many.

    Idempotent: each restore is a Delta idempotent write (``txnAppId`` / ``txnVersion``), so a
    recovery that dies half-way and runs again restores nothing twice.
    """
    history = (
        DeltaTable.forPath(spark, path)
        .history(RECOVERY_HISTORY_DEPTH)
        .where(F.col("userMetadata").startswith(f"{run_id}:"))
        .select("version", "operationParameters", "operationMetrics")
        .collect()
    )
    restored = 0
    for commit in history:
        predicate = (commit["operationParameters"] or {}).get("predicate")
        removed = int((commit["operationMetrics"] or {}).get("numDeletedRows", "0"))
        if not predicate or not removed:
            continue
        version = int(commit["version"])
        before = spark.read.format("delta").option("versionAsOf", version - 1).load(path).where(predicate)
        (
            before.write.format("delta")
            .mode("append")
            .option("txnAppId", f"feedguard-recover:{run_id}")
            .option("txnVersion", str(version))
            .option("userMetadata", f"recover:{run_id}:{version}")
            .save(path)
        )
        log.warning("restored %d row(s) of %s that run %s had superseded", removed, path, run_id)
        restored += removed
    return restored


def undo_run(spark: SparkSession, lake: Lake, source: str, dataset: str, run_id: str) -> None:
    """Remove everything ``run_id`` wrote, and restore what it superseded."""
    for path, column in _tables(lake, source, dataset):
        if DeltaTable.isDeltaTable(spark, path):
            DeltaTable.forPath(spark, path).delete(F.col(column) == run_id)
            restore_superseded(spark, path, run_id)
    undo_replay(spark, lake, run_id)
    for folder in (
        lake.error_zone(source, run_id),
        lake.quarantine(source, dataset, run_id),
        lake.drift(source, dataset, run_id),
        lake.run_summary(run_id),
        join(lake.pending_reports(source, dataset), f"{run_id}.json"),
    ):
        remove_path(folder)


def recover_inflight(spark: SparkSession, lake: Lake, source: str, dataset: str) -> list[str]:
    """Undo runs that started but never finished (the caller holds the feed's lease)."""
    recovered = inflight_runs(lake.inflight(source, dataset))
    for run_id in recovered:
        log.warning("run %s of %s/%s did not finish: removing its partial output", run_id, source, dataset)
        undo_run(spark, lake, source, dataset, run_id)
        clear_inflight(lake.inflight(source, dataset), run_id)
    return recovered


def close_run(spark: SparkSession, lake: Lake, summary: RunSummary, *, awaiting_report: bool = False) -> None:
    """Write the run log (Delta row + JSON) and clear the in-flight marker: the run is done.

    With ``awaiting_report`` its report (metrics, alerts) is sent after this commit point, never
    before: a run that dies before closing is undone and has sent nothing. Until it is sent, the
    summary waits in ``<lake>/_runs/_pending_reports/``: a run that dies between closing and
    reporting is reported by the next run of the feed (once, neither twice nor never).
    """
    source, dataset, run_id = summary["source"], summary["dataset"], summary["run_id"]
    if awaiting_report:
        write_text(join(lake.pending_reports(source, dataset), f"{run_id}.json"), summary_to_json(summary))
    write_run(spark, lake.runs, summary)
    clear_inflight(lake.inflight(source, dataset), run_id)


def forget_metrics(spark: SparkSession, lake: Lake, run_id: str) -> None:
    """Delete ``run_id``'s rows from ``<lake>/_metrics`` (a report sent again must not add them twice)."""
    if DeltaTable.isDeltaTable(spark, lake.metrics):
        DeltaTable.forPath(spark, lake.metrics).delete(F.col("run_id") == run_id)


def pending_reports(lake: Lake, source: str, dataset: str) -> list[RunSummary]:
    """Summaries of closed runs whose report was never sent (oldest first)."""
    folder = lake.pending_reports(source, dataset)
    found = []
    for name in list_names(folder):
        if name.endswith(".json"):
            found.append(summary_from_json(read_text(join(folder, name))))
    return sorted(found, key=lambda s: str(s.get("ended_at", "")))


def report_sent(lake: Lake, summary: RunSummary) -> None:
    """Keep the reported summary as the run's JSON and drop it from the pending reports."""
    write_text(lake.run_summary(summary["run_id"]), summary_to_json(summary))
    remove_path(
        join(lake.pending_reports(summary["source"], summary["dataset"]), f"{summary['run_id']}.json")
    )
