"""Read what the health site shows from a local lake: run summaries, Delta tables, alert state, sinks.

Each Delta table is read with one small aggregation or a capped ``limit``: the site never collects a
whole table. Dead-letter examples are masked here, with the feed's contract (PII fields, CSV columns),
before they reach any page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from feedguard.alerts.masking import mask_text
from feedguard.contracts.registry import load_versions
from feedguard.health.model import (
    DeadLetterCount,
    DeadLetterExample,
    MetricRow,
    OffsetBatch,
    RunSummary,
    SlaRow,
)
from feedguard.lake.layout import Lake
from feedguard.lake.storage import local_path

MAX_RAW_CHARS = 600  # what an example shows of a raw record
MAX_METRIC_ROWS = 5000
Masker = tuple[tuple[str, ...], tuple[str, ...] | None, str]  # PII fields, CSV columns, delimiter


def read_runs(lake: Lake) -> list[RunSummary]:
    folder = local_path(lake.runs)
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def delta(spark: SparkSession, path: str) -> DataFrame | None:
    """The Delta table at ``path``, or None when there is none yet."""
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None


def maskers(contracts_dir: str, feeds: list[str]) -> dict[str, Masker]:
    """Per feed: how its raw records are masked (the newest contract's PII fields and CSV columns)."""
    out: dict[str, Masker] = {}
    for feed in feeds:
        source, _, dataset = feed.partition("/")
        try:
            contract = load_versions(contracts_dir, source, dataset)[-1]
        except Exception:  # no contract (any more): mask what mask_text finds anyway
            out[feed] = ((), None, ",")
            continue
        columns = contract.field_names if contract.format == "csv" else None
        out[feed] = (contract.pii_fields, columns, contract.csv.delimiter)
    return out


def _where() -> Any:
    """``file`` for file feeds, ``partition N`` for Kafka dead letters."""
    return F.coalesce(
        F.col("source_file"), F.concat(F.lit("partition "), F.col("kafka_partition").cast("string"))
    )


def _line() -> Any:
    return F.coalesce(F.col("source_line"), F.col("kafka_offset"))


def dead_letters(
    spark: SparkSession, lake: Lake, masks: Mapping[str, Masker], per_reason: int
) -> tuple[list[DeadLetterCount], list[DeadLetterExample]]:
    """Counts by feed, reason, file and status; the first ``per_reason`` examples per feed and reason."""
    table = delta(spark, lake.dead_letter)
    if table is None:
        return [], []
    df = table.withColumn("feed", F.concat_ws("/", "source", "dataset")).withColumn("where", _where())
    counts = [
        DeadLetterCount(r["feed"], r["error_type"], r["where"] or "", r["status"], int(r["count"]))
        for r in df.groupBy("feed", "error_type", "where", "status").count().collect()
    ]
    rank = Window.partitionBy("feed", "error_type").orderBy("where", _line())
    rows = (
        df.withColumn("n", F.row_number().over(rank))
        .where(F.col("n") <= per_reason)
        .select(
            "feed",
            "run_id",
            "error_type",
            "error_detail",
            "where",
            _line().alias("line"),
            "status",
            F.substring("raw_text", 1, MAX_RAW_CHARS).alias("raw"),
        )
        .collect()
    )
    return sorted(counts, key=lambda c: (c.feed, c.error_type, c.where)), [_example(r, masks) for r in rows]


def _example(row: Any, masks: Mapping[str, Masker]) -> DeadLetterExample:
    pii, columns, delimiter = masks.get(row["feed"], ((), None, ","))
    raw = mask_text(row["raw"] or "", pii, csv_columns=columns, delimiter=delimiter)
    detail = mask_text(row["error_detail"] or "", pii)
    line = None if row["line"] is None else int(row["line"])
    return DeadLetterExample(
        row["feed"], row["run_id"], row["error_type"], detail, row["where"] or "", line, row["status"], raw
    )


def _iso(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value is not None else ""


def sla_rows(spark: SparkSession, lake: Lake) -> list[SlaRow]:
    table = delta(spark, str(Path(lake.root) / "_kafka_sla"))
    if table is None:
        return []
    return [
        SlaRow(
            r["topic"],
            r["kind"],
            _iso(r["outage_start"]),
            _iso(r["outage_end"]),
            r["duration_seconds"],
            int(r["messages_lost"]),
            bool(r["in_maintenance_window"]),
            int(r["attempts"]),
            r["failed_call"] or "",
            r["detected_by_run_id"],
            r["consumer_lag_at_recovery"],
        )
        for r in table.orderBy("outage_start").collect()
    ]


def metric_rows(spark: SparkSession, lake: Lake) -> list[MetricRow]:
    table = delta(spark, lake.metrics)
    if table is None:
        return []
    rows = table.orderBy(F.col("timestamp").desc(), "metric_name").limit(MAX_METRIC_ROWS).collect()
    return [
        MetricRow(
            r["run_id"],
            f"{r['source']}/{r['dataset']}",
            r["metric_name"],
            float(r["value"]),
            r["unit"],
            _iso(r["timestamp"]),
            r["destination"],
        )
        for r in rows
    ]


def offset_batches(spark: SparkSession, lake: Lake) -> list[OffsetBatch]:
    table = delta(spark, str(Path(lake.root) / "_kafka_offsets"))
    if table is None:
        return []
    batches = (
        table.where(F.col("committed_at").isNotNull())
        .groupBy("topic", "batch_seq", "run_id")
        .agg(
            F.sum(F.col("end_offset") - F.col("start_offset")).alias("messages"),
            F.sum("latest_offset").alias("latest"),
            F.max("committed_at").alias("committed_at"),
        )
        .orderBy("topic", "batch_seq")
        .collect()
    )
    return [
        OffsetBatch(
            r["topic"],
            int(r["batch_seq"]),
            r["run_id"],
            int(r["messages"]),
            int(r["latest"]),
            _iso(r["committed_at"]),
        )
        for r in batches
    ]


def alert_state(lake: Lake) -> dict[str, Any]:
    path = local_path(lake.alerts) / "state.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded


def sink_files(lake: Lake) -> dict[str, list[str]]:
    """Messages the local alert sinks of ``make run`` saved (``<lake>/_alerts/sinks/<channel>/``)."""
    root = local_path(lake.alerts) / "sinks"
    if not root.is_dir():
        return {}
    return {d.name: [str(p) for p in sorted(d.iterdir())] for d in sorted(root.iterdir()) if d.is_dir()}
