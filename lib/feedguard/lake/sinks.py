"""Sinks: Delta appends that report what they wrote, the error zone and the quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.ingest.file_checks import ENCODINGS
from feedguard.lake.cache import persist_uncompressed
from feedguard.lake.storage import copy_file, join

WIDE_ENCODINGS = tuple(name for name, e in ENCODINGS.items() if e.unit > 1)

HISTORY_PAGE = 20  # commits read per look into a table's history (doubled until the search is done)


@dataclass(frozen=True)
class Committed:
    """What one tagged Delta commit did, read back from the table's own log."""

    rows: int  # rows of the written DataFrame (copied rows of rewritten files excluded)
    replaced: int  # rows the commit removed (an overwrite with ``replaceWhere``)
    version: int | None  # the commit's table version (None: nothing was committed)


def table_version(spark: SparkSession, path: str) -> int:
    """The latest version of the Delta table at ``path`` (-1 when there is no table yet)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return -1
    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])  # type: ignore[index]


def commits_since(spark: SparkSession, path: str, after_version: int, commit_tag: str) -> list[Row]:
    """The commits tagged ``commit_tag`` with a version above ``after_version`` (newest first).

    Only commits made after ``after_version`` count: a retry that reuses a run id must not add the
    rows of an earlier attempt's commit (which recovery undid) to its own.
    """
    table = DeltaTable.forPath(spark, path)
    depth = HISTORY_PAGE
    while True:
        history = table.history(depth).select("version", "userMetadata", "operationMetrics").collect()
        if (
            not history
            or min(int(r["version"]) for r in history) <= after_version + 1
            or len(history) < depth
        ):
            break
        depth *= 2
    return [r for r in history if int(r["version"]) > after_version and r["userMetadata"] == commit_tag]


def write_delta(
    df: DataFrame,
    path: str,
    *,
    commit_tag: str,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
    replace_where: str | None = None,
) -> Committed:
    """Append ``df`` to the Delta table at ``path`` in one commit and return what that commit did.

    With ``replace_where`` the same commit also removes the rows matching that SQL predicate (every
    row of ``df`` must match it): this is how a reprocessed file replaces what earlier runs loaded
    from it, atomically. The commit is tagged (``userMetadata``) and its metrics are read back from
    the Delta log, so the counts come from the commit, not from a second count of the data.
    """
    spark = df.sparkSession
    before = table_version(spark, path)
    writer = df.write.format("delta").option("userMetadata", commit_tag)
    if replace_where is not None and before >= 0:
        writer = writer.mode("overwrite").option("replaceWhere", replace_where)
    else:
        writer = writer.mode("append")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)
    commits = commits_since(spark, path, before, commit_tag)
    metrics = [r["operationMetrics"] or {} for r in commits]
    return Committed(
        rows=sum(int(m.get("numOutputRows", "0")) - int(m.get("numCopiedRows", "0")) for m in metrics),
        replaced=sum(int(m.get("numDeletedRows", "0")) for m in metrics),
        version=max((int(r["version"]) for r in commits), default=None),
    )


def append_delta(
    df: DataFrame,
    path: str,
    *,
    commit_tag: str,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
) -> int:
    """Append ``df`` to the Delta table at ``path``; return the rows that commit wrote."""
    return write_delta(
        df, path, commit_tag=commit_tag, partition_by=partition_by, merge_schema=merge_schema
    ).rows


def _decoded_file_name(uri_column: str) -> Column:
    """The last segment of a file URI, percent-decoded: the file's own name (a literal ``+`` stays ``+``)."""
    encoded = F.regexp_extract(uri_column, r"([^/]+)$", 1)
    well_formed = encoded.rlike(r"^([^%]|%[0-9A-Fa-f]{2})*$")  # url_decode fails on a stray %
    return F.when(well_formed, F.url_decode(F.regexp_replace(encoded, r"\+", "%2B"))).otherwise(encoded)


def _error_zone_lines(dead_letters: DataFrame, target: str, newline: str) -> None:
    """One text write: each record's exact bytes, then ``newline``; only the files written are replaced."""
    exact = F.coalesce(F.col("raw_bytes"), F.col("raw_text").cast(T.BinaryType()))
    (
        dead_letters.select(
            _decoded_file_name("source_file").alias("file"),
            "source_line",
            exact.cast(T.StringType()).alias("raw"),  # the bytes as they are: the text writer copies them
        )
        .repartition("file")
        .sortWithinPartitions("file", "source_line")
        .select("file", "raw")
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("lineSep", newline)
        .partitionBy("file")
        .text(target)
    )


def _may_hold_wide_text(df: DataFrame) -> bool:
    """Only the Python reader (an RDD in the plan) yields UTF-16/32 records; other plans need no look."""
    plan: str = df._jdf.queryExecution().logical().toString()
    return "LogicalRDD" in plan or "ExistingRDD" in plan


def write_error_zone(dead_letters: DataFrame, target: str) -> None:
    """The bad records byte for byte as in their input, one folder per source file, in line order.

    Each record is followed by a newline in its file's encoding (``0A 00`` in UTF-16LE), so a bad
    line of a UTF-16 file is mirrored as UTF-16: one more write per such encoding.
    """
    with_text = dead_letters.where(F.col("raw_text").isNotNull()).select(
        "source_file", "source_line", "raw_text", "raw_bytes", "raw_encoding"
    )
    if not _may_hold_wide_text(with_text):
        _error_zone_lines(with_text, target, "\n")
        return
    with_text = persist_uncompressed(with_text)  # computed once for the look and the writes
    try:
        wide = [
            name
            for (name,) in with_text.where(F.col("raw_encoding").isin(*WIDE_ENCODINGS))
            .select("raw_encoding")
            .distinct()
            .collect()
        ]
        narrow = F.coalesce(~F.col("raw_encoding").isin(*wide), F.lit(True)) if wide else F.lit(True)
        _error_zone_lines(with_text.where(narrow), target, "\n")
        for name in wide:
            newline = ENCODINGS[name].newline.decode("latin-1")  # written as UTF-8: the same bytes
            _error_zone_lines(with_text.where(F.col("raw_encoding") == name), target, newline)
    finally:
        with_text.unpersist()


def quarantine_file(uri: str, target_dir: str) -> str:
    """Copy a whole input file byte for byte into the quarantine; return its new path."""
    target = join(target_dir, uri.rstrip("/").rsplit("/", 1)[-1])
    copy_file(uri, target)
    return target
