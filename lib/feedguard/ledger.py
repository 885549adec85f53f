"""The processed-files ledger: the local equivalent of Glue job bookmarks.

A file is identified by its URI, size and modification time; a file already in the ledger for
the same source and dataset is skipped unless the run says ``--reprocess``.
"""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.storage import FileInfo

LEDGER_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType(), False),
        T.StructField("dataset", T.StringType(), False),
        T.StructField("file_uri", T.StringType(), False),
        T.StructField("size", T.LongType(), False),
        T.StructField("mtime", T.DoubleType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("verdict", T.StringType(), True),
        T.StructField("processed_at", T.TimestampType(), False),
    ]
)


def processed_keys(
    spark: SparkSession, ledger_path: str, source: str, dataset: str
) -> set[tuple[str, int, float]]:
    """(uri, size, mtime) of every file already processed for this dataset."""
    if not DeltaTable.isDeltaTable(spark, ledger_path):
        return set()
    rows = (
        spark.read.format("delta")
        .load(ledger_path)
        .where((F.col("source") == source) & (F.col("dataset") == dataset))
        .select("file_uri", "size", "mtime")
        .collect()
    )
    return {(r["file_uri"], int(r["size"]), float(r["mtime"])) for r in rows}


def unprocessed(files: list[FileInfo], done: set[tuple[str, int, float]]) -> list[FileInfo]:
    return [f for f in files if (f.uri, f.size, f.mtime) not in done]
