"""Conservation of a Kafka batch: offsets in the range = messages read = rows written, or the run fails.

``measure`` is the one pass over the batch (it also fills the cache the writes read); the rows written
come from the Delta log (``numOutputRows`` of the tagged commit) or, for a write an earlier run already
made, from the tables filtered on the batch's offsets.

Example::

    measured = measure(routed)
    result = prove_conservation(spark, lake, ctx, batch, measured, {"valid": 90, "dead_letter": 10})
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.errors import ConservationError
from feedguard.ingest.routing import RunContext
from feedguard.kafka.report import BatchResult
from feedguard.kafka.routing import in_offset_ranges
from feedguard.kafka.state import Batch
from feedguard.lake.layout import Lake

# (partition, error type or None for a valid message) -> messages
Counts = dict[tuple[int, str | None], int]


def measure(routed: DataFrame) -> Counts:
    """Messages per partition and error type (None: valid), in one pass."""
    rows = routed.groupBy("_kafka_partition", "_error_type").count().collect()
    return {(int(r["_kafka_partition"]), r["_error_type"]): int(r["count"]) for r in rows}


def prove_conservation(
    spark: SparkSession,
    lake: Lake,
    ctx: RunContext,
    batch: Batch,
    measured: Counts,
    written: dict[str, int | None],
) -> BatchResult:
    """Conservation: offsets in the range = messages measured = rows written (Delta log, or the tables
    for the writes an earlier run already made)."""
    expected = batch.plan.messages_planned
    skipped = tuple(kind for kind, rows in written.items() if rows is None)
    if written["valid"] is None:
        written["valid"] = _valid_rows_of(spark, lake, ctx, batch).count()
    if written["dead_letter"] is None:
        written["dead_letter"] = _dead_letters_of(spark, lake, ctx, batch).count()
    valid = sum(n for (_, kind), n in measured.items() if kind is None)
    dead = sum(measured.values()) - valid
    if (valid + dead, written["valid"], written["dead_letter"]) != (expected, valid, dead):
        raise ConservationError(
            f"conservation check failed for batch {batch.seq} of {batch.plan.topic} (run {ctx.run_id}): "
            f"{expected} offsets from {batch.plan.starting_offsets} to {batch.plan.next_offsets}, "
            f"{valid + dead} messages read ({valid} valid, {dead} bad), {written['valid']} valid rows and "
            f"{written['dead_letter']} dead letters written; the batch stays planned and the next run "
            "re-executes it"
        )
    return BatchResult(valid, dead, *dead_breakdown(measured), skipped)


def dead_breakdown(counts: Counts) -> tuple[dict[str, int], dict[int, int]]:
    """Dead letters by error type and by partition (valid messages, kind None, left out)."""
    by_type: dict[str, int] = {}
    by_partition: dict[int, int] = {}
    for (partition, kind), n in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if kind is not None:
            by_type[kind] = by_type.get(kind, 0) + n
            by_partition[partition] = by_partition.get(partition, 0) + n
    return dict(sorted(by_type.items())), by_partition


def count_batch(spark: SparkSession, lake: Lake, ctx: RunContext, batch: Batch) -> BatchResult:
    """What a committed batch wrote, counted from the tables by its offsets (for a run that died before
    its summary was written)."""
    valid = _valid_rows_of(spark, lake, ctx, batch).count()
    rows = (
        _dead_letters_of(spark, lake, ctx, batch).groupBy("kafka_partition", "error_type").count().collect()
    )
    dead: Counts = {(int(r["kafka_partition"]), str(r["error_type"])): int(r["count"]) for r in rows}
    return BatchResult(valid, sum(dead.values()), *dead_breakdown(dead))


def _dead_letters_of(spark: SparkSession, lake: Lake, ctx: RunContext, batch: Batch) -> DataFrame:
    return (
        spark.read.format("delta")
        .load(lake.dead_letter)
        .where(
            (F.col("source") == ctx.source)
            & (F.col("dataset") == ctx.dataset)
            & (F.col("kafka_topic") == batch.plan.topic)
            & in_offset_ranges(batch.read_ranges, partition="kafka_partition", offset="kafka_offset")
        )
    )


def _valid_rows_of(spark: SparkSession, lake: Lake, ctx: RunContext, batch: Batch) -> DataFrame:
    return (
        spark.read.format("delta")
        .load(lake.table(ctx.source, ctx.dataset))
        .where(
            (F.col("_kafka_topic") == batch.plan.topic)
            & in_offset_ranges(batch.read_ranges, partition="_kafka_partition", offset="_kafka_offset")
        )
    )
