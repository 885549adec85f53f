"""Sources: read input files as raw records with their lineage (file, position) and exact bytes.

Every record keeps its exact raw text. Line numbers are exact: each Spark partition holds one
chunk of one file (``openCostInBytes`` is raised to the split size), so a record's line is the
count of lines in the file's earlier chunks plus its index inside its own chunk; the job computes
the earlier-chunk counts from the same aggregation that materialises the parsed data.

Two readers. UTF-8 and single-byte text (ISO-8859-1, windows-1252, US-ASCII) goes through Spark's
text source, which splits lines on bytes and keeps them as they are; single-byte text is decoded
with Spark's ``decode``. JSON array documents, UTF-16/32 text and gzip files without a ``.gz`` name
go through :mod:`feedguard.ingest.splitters` in a Python task per file (one partition each), streamed, so
memory is bounded by the largest record, not the file.

Columns: ``_raw`` the record's text; ``_raw_bytes`` its input bytes when they are not the UTF-8
bytes of ``_raw`` (text in another encoding), else NULL; ``_encoding`` the encoding of
``_raw_bytes``; ``_doc_error`` a reader-side error (``type: detail``); ``_element_line`` the line
an array element starts on (NULL for line records, whose line is ``_source_line``).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract
from feedguard.ingest.file_checks import ENCODINGS, UTF8, CheckedFile, TextEncoding
from feedguard.ingest.limit_checks import record_limit_error
from feedguard.ingest.splitters import split_json_array, split_lines
from feedguard.lake.storage import FileInfo, iter_chunks, open_binary, spark_path

ROW_INDEX_BITS = 33
LINEAGE_COLUMNS = (
    "_source_file",
    "_block_start",
    "_row_in_block",
    "_raw",
    "_doc_error",
    "_raw_bytes",
    "_encoding",
    "_element_line",
)
SPARK_GZIP_SUFFIX = ".gz"  # the only compressed files Spark's text source decompresses itself
_TASK_SCHEMA = T.StructType(
    [
        T.StructField("_source_file", T.StringType(), False),
        T.StructField("_row_in_block", T.LongType(), False),
        T.StructField("_text", T.StringType(), False),
        T.StructField("_bytes", T.BinaryType(), False),
        T.StructField("_reader_error", T.StringType(), True),
        T.StructField("_encoding", T.StringType(), False),
        T.StructField("_element_line", T.LongType(), True),
    ]
)


MIN_CHUNK_BYTES = 16 * 1024 * 1024  # below this, a split costs more in tasks than it gains in balance
MANY_PARTITIONS = str(1 << 30)  # spark.sql.files.minPartitionNum: never split below openCostInBytes


def chunk_bytes(total: int, cores: int, cap: int) -> int:
    """The chunk size that gives every core the same work: the fewest rounds of ``cores`` chunks of at
    most ``cap`` bytes (``spark.sql.files.maxPartitionBytes``) that cover ``total`` bytes.

    Spark cuts at ``cap``: a 346 MB file is 3 chunks of 128, 128 and 90 MB, and on 2 cores one core
    reads two of them while the other waits. Cut into 4 chunks of 87 MB, both read two.
    """
    if total <= 0:
        return cap
    rounds = -(-total // (cores * cap))
    balanced = -(-total // (rounds * cores))
    return min(cap, max(balanced, MIN_CHUNK_BYTES))


def one_chunk_per_partition(spark: SparkSession, splittable_bytes: int) -> None:
    """Make Spark never pack two files (or chunks) into one partition, and cut the splittable files
    (``splittable_bytes`` in all) into chunks that keep every core busy (:func:`chunk_bytes`).

    A file is packed alone when the cost of opening one is a whole chunk (``openCostInBytes``), and
    Spark's own split size is that chunk when ``minPartitionNum`` does not ask for smaller ones. The
    user's ``maxPartitionBytes`` stays the largest chunk; the run's line numbers count rows per chunk,
    so they are exact for any chunking (see :mod:`feedguard.parse.measure`).
    """
    cap = int(spark._jsparkSession.sessionState().conf().filesMaxPartitionBytes())
    split = chunk_bytes(splittable_bytes, spark.sparkContext.defaultParallelism, cap)
    spark.conf.set("spark.sql.files.openCostInBytes", str(split))
    spark.conf.set("spark.sql.files.minPartitionNum", MANY_PARTITIONS)


def row_in_partition() -> Column:
    """The index of a row inside its partition (the low bits of ``monotonically_increasing_id``)."""
    return F.monotonically_increasing_id().bitwiseAND((1 << ROW_INDEX_BITS) - 1)


def source_error() -> Column:
    """The reader's error of a record (``_doc_error``: ``type: detail``) as an error struct, or NULL."""
    doc = F.col("_doc_error")
    return F.when(
        doc.isNotNull(),
        F.struct(
            F.substring_index(doc, ": ", 1).alias("type"),
            F.lit(None).cast(T.StringType()).alias("field"),
            F.expr("substring(_doc_error, instr(_doc_error, ': ') + 2)").alias("detail"),
        ),
    )


def _as_checked(file: CheckedFile | str) -> CheckedFile:
    if isinstance(file, CheckedFile):
        return file
    return CheckedFile(FileInfo(file, 0, 0.0), False, "ok", "", "lines", None)


def _needs_python_reader(file: CheckedFile, layout: str) -> bool:
    spark_decompresses = not file.compressed or file.info.uri.endswith(SPARK_GZIP_SUFFIX)
    return layout == "array" or file.encoding.unit > 1 or not spark_decompresses


def read_lines(
    spark: SparkSession, files: Sequence[CheckedFile | str], contract: Contract | None = None
) -> DataFrame:
    """JSON Lines or CSV files (gzip or plain): one row per physical line, blank lines included."""
    checked = [_as_checked(f) for f in files]
    by_encoding: dict[str, list[str]] = {}
    for file in checked:
        if not _needs_python_reader(file, "lines"):
            by_encoding.setdefault(file.encoding.name, []).append(file.info.uri)
    splittable = [f.info.size for f in checked if not _needs_python_reader(f, "lines") and not f.compressed]
    one_chunk_per_partition(spark, sum(splittable))
    frames = [_spark_lines(spark, uris, ENCODINGS[name], contract) for name, uris in by_encoding.items()]
    others = [f for f in checked if _needs_python_reader(f, "lines")]
    if others:
        frames.append(_python_records(spark, others, "lines", contract))
    return _union(frames)


def read_json_arrays(
    spark: SparkSession, files: Sequence[CheckedFile | str], contract: Contract | None = None
) -> DataFrame:
    """JSON array documents: one row per element (its exact bytes), its number as the record number.

    A broken document still ends in records: see :func:`feedguard.ingest.splitters.split_json_array`.
    """
    return _python_records(spark, [_as_checked(f) for f in files], "array", contract)


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _spark_lines(
    spark: SparkSession, uris: list[str], encoding: TextEncoding, contract: Contract | None
) -> DataFrame:
    """Spark's text source; single-byte text decoded, its input bytes kept where they differ (the caller
    sets the chunking: :func:`one_chunk_per_partition`)."""
    value = F.col("value")
    lineage = [
        F.input_file_name().alias("_source_file"),
        F.expr("input_file_block_start()").alias("_block_start"),
        row_in_partition().alias("_row_in_block"),
    ]
    if encoding is UTF8:
        return spark.read.text([spark_path(u) for u in uris]).select(
            *lineage,
            value.alias("_raw"),
            record_limit_error(F.octet_length(value), value, contract).alias("_doc_error"),
            F.lit(None).cast(T.BinaryType()).alias("_raw_bytes"),
            F.lit(None).cast(T.StringType()).alias("_encoding"),
            F.lit(None).cast(T.LongType()).alias("_element_line"),
        )
    decoded = spark.read.text([spark_path(u) for u in uris]).select(
        *lineage,
        F.decode(value.cast(T.BinaryType()), encoding.java).alias("_raw"),
        value.cast(T.BinaryType()).alias("_bytes"),
    )
    return decoded.select(
        *_exact_columns(F.lit(encoding.name), contract), F.lit(None).cast(T.LongType()).alias("_element_line")
    )


def _exact_columns(
    encoding: Column, contract: Contract | None, reader_error: Column | None = None
) -> list[Column]:
    """The lineage columns from ``_raw`` (text) and ``_bytes`` (input bytes)."""
    differs = F.col("_bytes") != F.col("_raw").cast(T.BinaryType())
    limit_error = record_limit_error(F.octet_length("_bytes"), F.col("_raw"), contract)
    return [
        F.col("_source_file"),
        F.col("_block_start"),
        F.col("_row_in_block"),
        F.col("_raw"),
        (limit_error if reader_error is None else F.coalesce(reader_error, limit_error)).alias("_doc_error"),
        F.when(differs, F.col("_bytes")).alias("_raw_bytes"),
        F.when(differs, encoding).alias("_encoding"),
    ]


class ReadTask(NamedTuple):
    """One file for the Python reader (plain values: it is shipped to an executor)."""

    uri: str
    encoding: str
    layout: str
    compressed: bool


def _python_records(
    spark: SparkSession, files: list[CheckedFile], layout: str, contract: Contract | None
) -> DataFrame:
    """Records cut by :mod:`feedguard.ingest.splitters` in one Python task per file (one partition each)."""
    tasks = [ReadTask(f.info.uri, f.encoding.name, layout, f.compressed) for f in files]
    rows = spark.sparkContext.parallelize(tasks, len(tasks)).flatMap(read_task)
    frame = spark.createDataFrame(rows, _TASK_SCHEMA, verifySchema=False).select(
        "_source_file",
        F.lit(0).cast(T.LongType()).alias("_block_start"),
        "_row_in_block",
        F.col("_text").alias("_raw"),
        "_bytes",
        "_reader_error",
        "_encoding",
        "_element_line",
    )
    return frame.select(
        *_exact_columns(F.col("_encoding"), contract, F.col("_reader_error")), "_element_line"
    )


def read_task(task: ReadTask) -> Iterator[tuple[str, int, str, bytes, str | None, str, int | None]]:
    """The records of one file: (file, number, text, bytes, reader error, encoding, element line).

    Text is decoded with replacement (a bad byte becomes U+FFFD, which the parsers dead-letter);
    the bytes are the input's. The byte-order mark of non-UTF-8 text is not part of the first
    record's text (UTF-8 keeps it, as Spark's text source does), but is part of its bytes.
    """
    encoding = ENCODINGS[task.encoding]
    with open_binary(task.uri) as raw:
        stream = gzip.GzipFile(fileobj=raw) if task.compressed else raw
        chunks = iter_chunks(stream)  # type: ignore[arg-type]
        if task.layout == "array":
            little = encoding.name.endswith("le")
            for piece in split_json_array(_without_bom(chunks, encoding.bom), encoding.unit, little):
                text = piece.raw.decode(encoding.python, errors="replace")
                yield task.uri, piece.index, text, piece.raw, piece.error, encoding.name, piece.line
            return
        mark = b"" if encoding is UTF8 else encoding.bom
        for piece in split_lines(chunks, encoding.newline, encoding.unit):
            body = piece.raw.removeprefix(mark) if piece.index == 0 else piece.raw
            yield (
                task.uri,
                piece.index,
                body.decode(encoding.python, errors="replace"),
                piece.raw,
                None,
                encoding.name,
                None,
            )


def _without_bom(chunks: Iterator[bytes], bom: bytes) -> Iterator[bytes]:
    """The stream without a leading byte-order mark."""
    head: bytes | None = b""
    for chunk in chunks:
        if head is not None:
            head += chunk
            if len(head) < len(bom) and bom.startswith(head):
                continue
            chunk, head = head.removeprefix(bom), None
        yield chunk
    if head:
        yield head
