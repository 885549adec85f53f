"""Read and parse a set of checked files, then measure them while they are cached.

``parse_files`` returns the flagged records with their lineage (typed fields and ``_maybe_bad``, the
error list not built yet); ``measure`` persists them, collects per file chunk the counts the job needs
(records, blank lines, flagged records, chunk sizes for line numbers) in the pass that materialises the
cache, then builds the error list for the flagged records only and counts them per file and error type.
When no record is flagged (a clean file: most days) the error list's expression is never planned; it is
built (thousands of py4j calls: seconds, whatever the data size) on a second thread while the first pass runs,
so a run with bad records does not wait for it either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.ingest.file_checks import CheckedFile
from feedguard.ingest.sources import read_json_arrays, read_lines
from feedguard.lake.cache import persist_uncompressed
from feedguard.lake.storage import normalise_uri
from feedguard.parse.csv_records import SCRATCH as CSV_SCRATCH
from feedguard.parse.csv_records import csv_record_errors, flag_csv_records
from feedguard.parse.errors import NO_ERRORS
from feedguard.parse.flags import ROUNDED_COLUMN, needs_error_list, split_flagged
from feedguard.parse.json_records import SCRATCH as JSON_SCRATCH
from feedguard.parse.json_records import flag_json_records, json_record_errors


@dataclass(frozen=True)
class Parsed:
    """Flagged records (lazy) and what turns a flagged record into its error list."""

    frame: DataFrame
    record_errors: Callable[[], Column]  # built only when a record is flagged
    scratch: tuple[str, ...]


def parse_files(spark: SparkSession, contract: Contract, files: list[CheckedFile]) -> Parsed:
    """Raw records of every file, flagged against the contract (lineage columns kept)."""
    lines = [f for f in files if contract.format == "csv" or f.layout == "lines"]
    arrays = [f for f in files if contract.format == "json" and f.layout == "array"]
    frames = []
    if lines:
        frames.append(read_lines(spark, lines, contract))
    if arrays:
        frames.append(read_json_arrays(spark, arrays, contract))
    raw = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    if contract.format == "csv":
        return Parsed(
            raw.transform(flag_csv_records, contract), lambda: csv_record_errors(contract), CSV_SCRATCH
        )
    return Parsed(
        raw.transform(flag_json_records, contract), lambda: json_record_errors(contract), JSON_SCRATCH
    )


@dataclass
class FileStats:
    """Counts for one input file, from the measuring pass."""

    records: int = 0
    skipped_lines: int = 0  # blank lines and CSV header lines
    blank_lines: int = 0  # empty or only spaces and tabs
    rounded_values: int = 0  # values rounded under a field's ``rounding`` (see feedguard.parse.exactness)
    errors_by_type: dict[str, int] = field(default_factory=dict)
    error_fields: dict[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> int:
        return sum(self.errors_by_type.values())

    @property
    def good(self) -> int:
        return self.records - self.bad


@dataclass
class Measured:
    """Persisted parsed records plus their counts."""

    frame: DataFrame  # the records with ``_errors``, read from the cache
    files: dict[str, FileStats]
    chunk_offsets: dict[str, dict[int, int]]  # Spark's file name -> chunk start -> lines before it
    uri_of: dict[str, str]  # Spark's file name -> our listing's URI
    cached: tuple[DataFrame, ...]

    def unpersist(self) -> None:
        for frame in self.cached:
            frame.unpersist()


def keep_raw_of_flagged_records(df: DataFrame) -> DataFrame:
    """Drop the raw text and bytes of records that certainly pass before caching: dead letters need them."""
    flagged = F.coalesce(F.col("_maybe_bad"), F.lit(True))
    return df.withColumn("_raw", F.when(flagged, F.col("_raw"))).withColumn(
        "_raw_bytes", F.when(flagged, F.col("_raw_bytes"))
    )


def measure(parsed: Parsed, files: list[CheckedFile], *, keep_raw_of_valid: bool = False) -> Measured:
    """Persist the flagged records, count them per chunk, then their errors per file and type."""
    flagged = parsed.frame if keep_raw_of_valid else keep_raw_of_flagged_records(parsed.frame)
    cached = persist_uncompressed(flagged)
    skip: Column = F.col("_blank") | F.col("_header")
    with ThreadPoolExecutor(1, thread_name_prefix="feedguard-error-list") as builder:
        record_errors = builder.submit(parsed.record_errors)  # py4j calls while the first pass runs
        chunk_rows_seen = _count_per_chunk(cached, skip)  # fills the first cache
        return _measured(cached, chunk_rows_seen, record_errors.result, parsed.scratch, files, skip)


def _measured(
    cached: DataFrame,
    chunk_rows_seen: list[Row],
    record_errors: Callable[[], Column],
    scratch: tuple[str, ...],
    files: list[CheckedFile],
    skip: Column,
) -> Measured:
    """The counts of the first pass, then the error lists of the flagged records and their counts."""
    book = _StatsBook(files)
    chunk_rows, chunks_per_partition = _tally_chunks(chunk_rows_seen, book)
    if any(row["flagged"] for row in chunk_rows_seen):
        clean, suspect = split_flagged(cached, record_errors(), scratch)
    else:  # nothing to explain: the same split, without the error list's expression
        clean, suspect = split_flagged(cached, F.array().cast(NO_ERRORS), scratch)
    # The flagged records with their error lists are cached too (a few percent of the rows): the
    # routing, the gate and the writes read them several times, the lists are built once.
    suspect = persist_uncompressed(suspect)
    frame = clean.unionByName(suspect)
    _tally_errors(_count_first_errors(suspect, skip), book)  # fills the second cache
    crowded = {pid: chunks for pid, chunks in chunks_per_partition.items() if len(chunks) > 1}
    if crowded:
        raise RuntimeError(f"internal error: a Spark partition read more than one file chunk: {crowded}")
    return Measured(frame, book.stats, _chunk_offsets(chunk_rows), book.uri_of, (cached, suspect))


class _StatsBook:
    """The counts per file, found by Spark's file name (mapped once to our listing's URI)."""

    def __init__(self, files: list[CheckedFile]) -> None:
        self.by_listing = {normalise_uri(f.info.uri): f.info.uri for f in files}
        self.stats: dict[str, FileStats] = {f.info.uri: FileStats() for f in files}
        self.uri_of: dict[str, str] = {}

    def of(self, spark_name: str) -> FileStats:
        uri = self.uri_of.setdefault(spark_name, self.by_listing.get(normalise_uri(spark_name), spark_name))
        return self.stats.setdefault(uri, FileStats())


def _count_per_chunk(cached: DataFrame, skip: Column) -> list[Row]:
    """Rows per Spark partition, file chunk and kind (skipped, blank), with the values rounded and the
    records flagged (those that get an error list)."""
    return (
        cached.groupBy(
            F.spark_partition_id().alias("pid"),
            "_source_file",
            "_block_start",
            skip.alias("skip"),
            F.col("_blank").alias("blank"),
        )
        .agg(
            F.count(F.lit(1)).alias("count"),
            F.sum(ROUNDED_COLUMN).alias("rounded"),
            F.count(F.when(needs_error_list(), 1)).alias("flagged"),
        )
        .collect()
    )


def _tally_chunks(
    chunk_rows_seen: list[Row], book: _StatsBook
) -> tuple[dict[str, dict[int, int]], dict[int, set[tuple[str, int]]]]:
    """Count records and skipped lines per file; return the rows per chunk and the chunks per partition."""
    chunk_rows: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    chunks_per_partition: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for row in chunk_rows_seen:
        spark_name, count = row["_source_file"], int(row["count"])
        file_stats = book.of(spark_name)
        chunk_rows[spark_name][int(row["_block_start"])] += count
        chunks_per_partition[int(row["pid"])].add((spark_name, int(row["_block_start"])))
        if row["skip"]:
            file_stats.skipped_lines += count
            file_stats.blank_lines += count if row["blank"] else 0
        else:
            file_stats.records += count
            file_stats.rounded_values += int(row["rounded"] or 0)
    return chunk_rows, chunks_per_partition


def _count_first_errors(suspect: DataFrame, skip: Column) -> list[Row]:
    """Records per file, first error type and first error field (records without errors left out)."""
    first_error = F.col("_errors").getItem(0)
    return (
        suspect.where((F.size("_errors") > 0) & ~skip)
        .groupBy(
            "_source_file",
            first_error.getField("type").alias("error_type"),
            first_error.getField("field").alias("error_field"),
        )
        .count()
        .collect()
    )


def _tally_errors(error_rows: list[Row], book: _StatsBook) -> None:
    for row in error_rows:
        file_stats, count, kind = book.of(row["_source_file"]), int(row["count"]), row["error_type"]
        file_stats.errors_by_type[kind] = file_stats.errors_by_type.get(kind, 0) + count
        if row["error_field"] is not None:
            key = f"{kind}:{row['error_field']}"
            file_stats.error_fields[key] = file_stats.error_fields.get(key, 0) + count


def _chunk_offsets(chunk_rows: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
    """Rows before each chunk of a file but its first (the line-number offset of the chunk)."""
    offsets: dict[str, dict[int, int]] = {}
    for spark_name, chunks in chunk_rows.items():
        running = 0
        for start in sorted(chunks):
            if running:
                offsets.setdefault(spark_name, {})[start] = running
            running += chunks[start]
    return offsets
