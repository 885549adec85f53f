"""Replay dead letters against the current contract.

Records that now pass go to the valid table with their original file and line and the replay run
id; their dead-letter rows are marked resolved (never deleted). Records that still fail stay open
with the new reason. Replay is idempotent: only open rows are read, so a second replay adds
nothing; a replay that dies half-way is undone by the next run (its in-flight marker).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract
from feedguard.errors import ConservationError, UsageError
from feedguard.ingest.file_checks import ENCODINGS
from feedguard.ingest.limit_checks import record_limit_error
from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, RunContext, error_type, records, valid_rows
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import iso, mark_inflight, run_header, utc_now
from feedguard.lake.sinks import append_delta
from feedguard.parse.csv_records import parse_csv_records
from feedguard.parse.json_records import parse_json_records
from feedguard.summary import ReplaySummary, RunSummary, as_run_summary

KEY = ("run_id", "source_file", "source_line", "error_type")


@dataclass(frozen=True)
class ReplayFilter:
    run_id: str | None = None
    error_type: str | None = None
    since: dt.date | None = None
    source_file: str | None = None


def open_dead_letters(spark: SparkSession, lake: Lake, contract: Contract, chosen: ReplayFilter) -> DataFrame:
    """The open dead letters of a dataset that can be re-parsed (they hold raw text)."""
    if not DeltaTable.isDeltaTable(spark, lake.dead_letter):
        raise UsageError(f"no dead-letter table at {lake.dead_letter}")
    condition: Column = (
        (F.col("source") == contract.source)
        & (F.col("dataset") == contract.dataset)
        & (F.col("status") == "open")
        & F.col("raw_text").isNotNull()
        & F.col("kafka_topic").isNull()
    )
    if chosen.run_id:
        condition &= F.col("run_id") == chosen.run_id
    if chosen.error_type:
        condition &= F.col("error_type") == chosen.error_type
    if chosen.since:
        condition &= F.col("ingest_date") >= F.lit(chosen.since)
    if chosen.source_file:
        condition &= F.col("source_file") == chosen.source_file
    table = spark.read.format("delta").load(lake.dead_letter)
    for column in DEAD_LETTER_SCHEMA.fields:  # a table written before a column was added lacks it
        if column.name not in table.columns:
            table = table.withColumn(column.name, F.lit(None).cast(column.dataType))
    return table.where(condition)


def original_text() -> Column:
    """A dead letter's text as the reader first saw it, from its input bytes when it has them.

    Bytes that are not valid UTF-8 come back as they were (the parsers flag them again); text in
    another encoding is decoded again (without its byte-order mark), as the reader decoded it.
    """
    text: Column = F.when(F.col("raw_bytes").isNull(), F.col("raw_text")).when(
        F.col("raw_encoding") == "utf-8", F.col("raw_bytes").cast(T.StringType())
    )
    for name, encoding in ENCODINGS.items():
        if name != "utf-8":
            decoded = F.decode("raw_bytes", encoding.java)
            text = text.when(F.col("raw_encoding") == name, F.regexp_replace(decoded, "^\ufeff", ""))
    return text.otherwise(F.col("raw_text"))


def run_replay(
    spark: SparkSession, contract: Contract, lake: Lake, ctx: RunContext, chosen: ReplayFilter
) -> RunSummary:
    """Replay the chosen open dead letters; return the replay's run summary."""
    started = utc_now()
    mark_inflight(lake.inflight(contract.source, contract.dataset), ctx.run_id)
    dead = open_dead_letters(spark, lake, contract, chosen).persist()
    parsed = dead.transform(_reparse, contract).persist()
    counts = {
        (r["ok"]): int(r["count"])
        for r in parsed.groupBy(F.col("_error_type").isNull().alias("ok")).count().collect()
    }
    replayed = sum(counts.values())
    resolved, still_failing = counts.get(True, 0), counts.get(False, 0)
    written = 0
    if resolved:
        written = append_delta(
            parsed.transform(valid_rows, contract, ctx),
            lake.table(contract.source, contract.dataset),
            commit_tag=f"{ctx.run_id}:valid",
            partition_by=("ingest_date",),
            merge_schema=True,
        )
    if written != resolved:
        raise ConservationError(f"replay {ctx.run_id}: {resolved} records passed but {written} were written")
    _mark_dead_letters(spark, lake, parsed, ctx)
    dead.unpersist()
    parsed.unpersist()
    return _replay_summary(contract, lake, ctx, chosen, started, (replayed, resolved, still_failing))


def _reparse(dead: DataFrame, contract: Contract) -> DataFrame:
    """Dead letters parsed again under ``contract``, as records with their (new) error type."""
    parser = parse_csv_records if contract.format == "csv" else parse_json_records
    raw = dead.select(
        F.col("source_file").alias("_source_file"),
        F.lit(1).cast(T.LongType()).alias("_block_start"),
        (F.coalesce("source_line", F.lit(1)) - 1).cast(T.LongType()).alias("_row_in_block"),
        original_text().alias("_raw"),
        F.col("raw_bytes"),
        F.col("run_id").alias("_dl_run_id"),
        F.col("error_type").alias("_dl_error_type"),
    ).select(
        "*",
        record_limit_error(
            F.octet_length(F.coalesce("raw_bytes", F.col("_raw").cast(T.BinaryType()))),
            F.col("_raw"),
            contract,
        ).alias("_doc_error"),
    )
    return (
        parser(raw, contract)
        .withColumn("_source_line", F.col("_row_in_block") + 1)
        .transform(records)
        .transform(error_type)
    )


def _replay_summary(
    contract: Contract,
    lake: Lake,
    ctx: RunContext,
    chosen: ReplayFilter,
    started: dt.datetime,
    counts: tuple[int, int, int],
) -> RunSummary:
    """The replay's run summary; ``counts`` are the dead letters replayed, resolved and still failing."""
    replayed, resolved, still_failing = counts
    ended = utc_now()
    summary: ReplaySummary = {
        "kind": "replay",
        "records_read": replayed,
        "records_valid": resolved,
        "records_dead_lettered": still_failing,
        "dead_letters_by_type": {},
        "files": [],
        "filter": {
            "run_id": chosen.run_id,
            "error_type": chosen.error_type,
            "since": str(chosen.since or ""),
        },
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_seconds": round((ended - started).total_seconds(), 3),
        "message": f"replayed {replayed} dead letters under v{contract.version}: "
        f"{resolved} resolved and loaded, {still_failing} still failing",
        "lake_path": lake.root,
    }
    summary.update(cast(ReplaySummary, run_header(ctx, "replay", "succeeded", 0)))  # a checked part
    return as_run_summary(summary)


def _mark_dead_letters(spark: SparkSession, lake: Lake, parsed: DataFrame, ctx: RunContext) -> None:
    """Resolve the rows that passed; give the rows that still fail their new reason."""
    outcome = parsed.select(
        F.col("_dl_run_id").alias("run_id"),
        F.col("_source_file").alias("source_file"),
        F.col("_source_line").alias("source_line"),
        F.col("_dl_error_type").alias("error_type"),
        F.col("_error_type").alias("new_error_type"),
        F.array_join(
            F.transform("_errors", lambda e: F.concat(e.getField("type"), F.lit(": "), e.getField("detail"))),
            "; ",
        ).alias("new_error_detail"),
    )
    now = F.to_timestamp(F.lit(ctx.ingested_at))
    matches = " AND ".join(f"t.{k} <=> s.{k}" for k in KEY)
    (
        DeltaTable.forPath(spark, lake.dead_letter)
        .alias("t")
        .merge(outcome.alias("s"), f"t.status = 'open' AND {matches}")
        .whenMatchedUpdate(
            condition="s.new_error_type IS NULL",
            set={
                "status": F.lit("resolved"),
                "resolved_at": now,
                "resolved_by_contract_version": F.lit(ctx.contract_version),
                "replay_run_id": F.lit(ctx.run_id),
            },
        )
        .whenMatchedUpdate(
            set={
                "error_detail": F.concat(
                    F.lit(f"replayed under v{ctx.contract_version}: "), F.col("s.new_error_detail")
                ),
                "replay_run_id": F.lit(ctx.run_id),
            },
        )
        .execute()
    )


def undo_replay(spark: SparkSession, lake: Lake, run_id: str) -> None:
    """Reopen the dead letters an unfinished replay resolved (its valid rows are deleted by the caller)."""
    if DeltaTable.isDeltaTable(spark, lake.dead_letter):
        DeltaTable.forPath(spark, lake.dead_letter).update(
            condition=(F.col("replay_run_id") == run_id) & (F.col("status") == "resolved"),
            set={
                "status": F.lit("open"),
                "resolved_at": F.lit(None).cast(T.TimestampType()),
                "resolved_by_contract_version": F.lit(None).cast(T.IntegerType()),
                "replay_run_id": F.lit(None).cast(T.StringType()),
            },
        )
