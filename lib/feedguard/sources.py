"""Sources: read input files as raw records with their lineage (file, position).

Every record keeps its exact raw text. Line numbers are exact: each Spark partition holds one
chunk of one file (``openCostInBytes`` is raised to the split size), so a record's line is the
count of lines in the file's earlier chunks plus its index inside its own chunk; the job computes
the earlier-chunk counts from the same aggregation that materialises the parsed data.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

ROW_INDEX_BITS = 33
LINEAGE_COLUMNS = ("_source_file", "_block_start", "_row_in_block", "_raw", "_doc_error")
MALFORMED_ARRAY_DOC = "the JSON array document is not valid JSON; the whole file is kept as one record"


def one_chunk_per_partition(spark: SparkSession) -> None:
    """Make Spark never pack two files (or chunks) into one partition."""
    split = spark.conf.get("spark.sql.files.maxPartitionBytes") or "134217728"
    spark.conf.set("spark.sql.files.openCostInBytes", split)


def row_in_partition() -> Column:
    """The index of a row inside its partition (the low bits of ``monotonically_increasing_id``)."""
    return F.monotonically_increasing_id().bitwiseAND((1 << ROW_INDEX_BITS) - 1)


def read_lines(spark: SparkSession, uris: list[str]) -> DataFrame:
    """JSON Lines or CSV files (gzip or plain): one row per physical line, blank lines included."""
    one_chunk_per_partition(spark)
    return spark.read.text(uris).select(
        F.input_file_name().alias("_source_file"),
        F.expr("input_file_block_start()").alias("_block_start"),
        row_in_partition().alias("_row_in_block"),
        F.col("value").alias("_raw"),
        F.lit(None).cast(T.StringType()).alias("_doc_error"),
    )


def read_json_arrays(spark: SparkSession, uris: list[str]) -> DataFrame:
    """JSON array documents: one row per element, its position as the record number.

    Each element's text is kept as Spark's JSON parser reads it (compact). A document that is
    not a valid array becomes a single record holding the whole text, with ``_doc_error`` set.
    """
    docs = spark.read.text(uris, wholetext=True).select(
        F.input_file_name().alias("_source_file"), F.col("value").alias("_doc")
    )
    elements = F.from_json("_doc", T.ArrayType(T.StringType()), {"mode": "PERMISSIVE"})
    parsed = docs.select(
        "_source_file",
        "_doc",
        elements.alias("_elements"),
    )
    return parsed.select(
        "_source_file",
        F.lit(0).cast(T.LongType()).alias("_block_start"),
        F.posexplode(F.coalesce("_elements", F.array("_doc"))).alias("_row_in_block", "_raw"),
        F.when(F.col("_elements").isNull(), F.lit(MALFORMED_ARRAY_DOC)).alias("_doc_error"),
    ).select(
        "_source_file",
        "_block_start",
        F.col("_row_in_block").cast(T.LongType()).alias("_row_in_block"),
        "_raw",
        "_doc_error",
    )
