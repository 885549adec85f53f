"""Sinks: Delta appends that report what they wrote, the error zone and the quarantine."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.storage import copy_file, join


def committed_rows(spark: SparkSession, path: str, version: int | None = None) -> int:
    """``numOutputRows`` of a Delta commit (the latest by default), from the table history."""
    table = DeltaTable.forPath(spark, path)
    history = table.history() if version is not None else table.history(1)
    if version is not None:
        history = history.where(F.col("version") == version)
    row = history.select("version", "operationMetrics").first()
    if row is None:
        return 0
    return int((row["operationMetrics"] or {}).get("numOutputRows", "0"))


def table_version(spark: SparkSession, path: str) -> int | None:
    """The current version of a Delta table, or None when it does not exist yet."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    row = DeltaTable.forPath(spark, path).history(1).select("version").first()
    return None if row is None else int(row["version"])


def append_delta(
    df: DataFrame,
    path: str,
    *,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
) -> int:
    """Append ``df`` to the Delta table at ``path``; return the number of rows the commit wrote."""
    spark = df.sparkSession
    before = table_version(spark, path)
    writer = df.write.format("delta").mode("append")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)
    after = table_version(spark, path)
    if after is None or after == before:
        return 0
    return committed_rows(spark, path, after)


def write_error_zone(dead_letters: DataFrame, target: str) -> None:
    """The bad lines as plain text, one folder per source file, in line order."""
    (
        dead_letters.where(F.col("raw_text").isNotNull())
        .select(
            F.regexp_extract("source_file", r"([^/]+)$", 1).alias("file"),
            "source_line",
            "raw_text",
        )
        .repartition("file")
        .sortWithinPartitions("file", "source_line")
        .select("file", "raw_text")
        .write.mode("overwrite")
        .partitionBy("file")
        .text(target)
    )


def quarantine_file(uri: str, target_dir: str) -> str:
    """Copy a whole input file byte for byte into the quarantine; return its new path."""
    target = join(target_dir, uri.rstrip("/").rsplit("/", 1)[-1])
    copy_file(uri, target)
    return target
