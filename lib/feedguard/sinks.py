"""Sinks: Delta appends that report what they wrote, the error zone and the quarantine."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from feedguard.storage import copy_file, join


def append_delta(
    df: DataFrame,
    path: str,
    *,
    commit_tag: str,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
) -> int:
    """Append ``df`` to the Delta table at ``path``; return the rows that commit wrote.

    The commit is tagged (``userMetadata``) so its own ``numOutputRows`` is read back from the
    table history: the count comes from Delta's log, not from a second count of the data.
    """
    writer = df.write.format("delta").mode("append").option("userMetadata", commit_tag)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)
    spark = df.sparkSession
    rows = (
        DeltaTable.forPath(spark, path)
        .history(5)
        .where(F.col("userMetadata") == commit_tag)
        .select("operationMetrics")
        .collect()
    )
    return sum(int((r["operationMetrics"] or {}).get("numOutputRows", "0")) for r in rows)


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
