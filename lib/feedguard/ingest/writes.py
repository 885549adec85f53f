"""The commit steps of a file run: valid rows and dead letters (one Delta commit each, replacing what
earlier runs loaded from the same files), the error zone, the conservation proof and the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from feedguard.errors import ConservationError
from feedguard.ingest.reports import naive_utc
from feedguard.ingest.routed import Routed
from feedguard.ingest.routing import RunContext
from feedguard.ingest.run_state import FileRun
from feedguard.lake.ledger import LEDGER_SCHEMA, FilePlan, ledger_rows
from feedguard.lake.sinks import Committed, append_delta, write_delta, write_error_zone
from feedguard.lake.storage import FileInfo
from feedguard.parse.measure import Measured

NOTHING = Committed(0, 0, None)


@dataclass(frozen=True)
class Written:
    valid: Committed
    dead: Committed


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _names_of(uri: str) -> set[str]:
    """The spellings a file's name can have in ``_source_file`` (our listing's URI, Spark's)."""
    names = {uri}
    if uri.startswith("file:///"):
        names |= {"file:" + uri[len("file://") :], uri[len("file://") :]}
    return names


def supersede_predicates(ctx: RunContext, file_names: set[str]) -> tuple[str, str]:
    """SQL predicates for the rows earlier runs loaded from these files: (valid table, dead letters)."""
    listed = ", ".join(_sql_string(n) for n in sorted(file_names))
    valid = f"_source_file IN ({listed})"
    dead = (
        f"source = {_sql_string(ctx.source)} AND dataset = {_sql_string(ctx.dataset)} "
        f"AND source_file IN ({listed})"
    )
    return valid, dead


def superseding(run: FileRun, measured: list[Measured | None]) -> tuple[str, str] | None:
    """The replace predicates when this run replaces what earlier runs loaded from its files."""
    if not run.plan.supersedes:
        return None
    names: set[str] = set()
    for info in run.plan.todo:
        names |= _names_of(info.uri)
    for m in measured:
        if m is not None:
            names |= set(m.uri_of)
    return supersede_predicates(run.ctx, names)


def _delete_rows(spark: SparkSession, path: str, predicate: str, commit_tag: str) -> Committed:
    """Remove superseded rows when the run has no row of that kind to write."""
    empty = spark.read.format("delta").load(path).limit(0)
    return write_delta(empty, path, commit_tag=commit_tag, replace_where=predicate)


def _write_valid(run: FileRun, routed: Routed, replace: str | None) -> Committed:
    ctx, table = run.ctx, run.lake.table(run.ctx.source, run.ctx.dataset)
    if routed.valid_frame is not None and (routed.expected_valid or replace):
        run.step("write_valid")
        with run.clock.stage("write_valid"):
            return write_delta(
                routed.valid_frame,
                table,
                commit_tag=f"{ctx.run_id}:valid",
                partition_by=("ingest_date",),
                merge_schema=True,
                replace_where=replace,
            )
    if replace is not None and DeltaTable.isDeltaTable(run.spark, table):
        run.step("write_valid")
        return _delete_rows(run.spark, table, replace, f"{ctx.run_id}:valid")
    return NOTHING


def _write_dead(run: FileRun, frame: DataFrame | None, expected: int, replace: str | None) -> Committed:
    ctx, lake = run.ctx, run.lake
    if frame is not None and (expected or replace):
        run.step("write_dead_letters")
        with run.clock.stage("write_dead_letters"):
            dead = write_delta(
                frame,
                lake.dead_letter,
                commit_tag=f"{ctx.run_id}:dead_letter",
                partition_by=("source", "ingest_date"),
                replace_where=replace,
                merge_schema=True,  # tables written before raw_bytes/raw_encoding gain them
            )
        run.step("write_error_zone")
        write_error_zone(frame, lake.error_zone(ctx.source, ctx.run_id))
        return dead
    if replace is not None and DeltaTable.isDeltaTable(run.spark, lake.dead_letter):
        run.step("write_dead_letters")
        return _delete_rows(run.spark, lake.dead_letter, replace, f"{ctx.run_id}:dead_letter")
    return NOTHING


def write(run: FileRun, routed: Routed, main: Measured | None) -> Written:
    """Write the valid rows and the dead letters (one commit each), then the error zone.

    When the run supersedes earlier loads of its files, each commit also removes those rows
    (``replaceWhere``): the table never holds both versions of a file, even for a moment.
    """
    replace = superseding(run, [main, routed.rejected])
    valid = _write_valid(run, routed, replace[0] if replace else None)
    dead = _write_dead(run, routed.dead_frame(), routed.expected_dead, replace[1] if replace else None)
    run.progress.release()
    return Written(valid, dead)


def check_conservation(run: FileRun, routed: Routed, written: Written) -> int:
    """records_read == valid + dead letters, each as counted and as committed; return records_read."""
    records_read = sum(c.read for c in routed.counts.values())
    valid, dead = written.valid.rows, written.dead.rows
    if valid != routed.expected_valid or dead != routed.expected_dead or records_read != valid + dead:
        raise ConservationError(
            f"conservation check failed for run {run.ctx.run_id}: read {records_read}, "
            f"expected valid {routed.expected_valid} (written {valid}), "
            f"expected dead letters {routed.expected_dead} (written {dead})"
        )
    return records_read


def ledger_frame(
    spark: SparkSession, files: list[FileInfo], ctx: RunContext, verdicts: dict[str, str], plan: FilePlan
) -> DataFrame:
    rows = ledger_rows(
        files,
        source=ctx.source,
        dataset=ctx.dataset,
        run_id=ctx.run_id,
        verdicts=verdicts,
        sha256=plan.sha256,
        processed_at=naive_utc(ctx),
    )
    return spark.createDataFrame(rows, LEDGER_SCHEMA)


def write_ledger(run: FileRun, verdicts: dict[str, str]) -> None:
    """Record every file of the run in the processed-files ledger (one commit)."""
    run.step("write_ledger")
    append_delta(
        ledger_frame(run.spark, run.plan.todo, run.ctx, verdicts, run.plan),
        run.lake.ledger,
        commit_tag=f"{run.ctx.run_id}:ledger",
        merge_schema=True,
    )
