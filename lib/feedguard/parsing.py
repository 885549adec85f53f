"""Read and parse a set of checked files, then measure them in one aggregation.

``parse_files`` returns the parsed records with their lineage; ``measure`` persists them and
collects, per file chunk and error type, the counts the job needs (records, blank lines, errors,
chunk sizes for line numbers) in a single pass that also materialises the cache.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contract import Contract
from feedguard.file_checks import CheckedFile
from feedguard.parse_csv import parse_csv_records
from feedguard.parse_json import parse_json_records
from feedguard.routing import chunk_key
from feedguard.sources import read_json_arrays, read_lines
from feedguard.storage import normalise_uri


def parse_files(spark: SparkSession, contract: Contract, files: list[CheckedFile]) -> DataFrame:
    """Raw records of every file, parsed against the contract (lineage columns kept)."""
    lines = [f.info.uri for f in files if contract.format == "csv" or f.layout == "lines"]
    arrays = [f.info.uri for f in files if contract.format == "json" and f.layout == "array"]
    frames = []
    if lines:
        frames.append(read_lines(spark, lines))
    if arrays:
        frames.append(read_json_arrays(spark, arrays))
    raw = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    parser = parse_csv_records if contract.format == "csv" else parse_json_records
    return raw.transform(parser, contract)


@dataclass
class FileStats:
    """Counts for one input file, from the measuring pass."""

    records: int = 0
    skipped_lines: int = 0
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

    frame: DataFrame
    files: dict[str, FileStats]
    chunk_offsets: dict[str, int]
    uri_of: dict[str, str]  # Spark's file name -> our listing's URI

    def unpersist(self) -> None:
        self.frame.unpersist()


def keep_raw_of_bad_records(df: DataFrame) -> DataFrame:
    """Drop the raw text of valid records before caching: only dead letters need it."""
    return df.withColumn("_raw", F.when(F.size("_errors") > 0, F.col("_raw")))


def measure(df: DataFrame, files: list[CheckedFile]) -> Measured:
    """Persist ``df`` and collect per-chunk, per-error counts in one pass."""
    cached = df.persist(StorageLevel.MEMORY_AND_DISK)
    first_error = F.col("_errors").getItem(0)
    skip: Column = F.col("_blank") | F.col("_header")
    rows = (
        cached.groupBy(
            F.spark_partition_id().alias("pid"),
            "_source_file",
            "_block_start",
            skip.alias("skip"),
            first_error.getField("type").alias("error_type"),
            first_error.getField("field").alias("error_field"),
        )
        .count()
        .collect()
    )
    by_listing = {normalise_uri(f.info.uri): f.info.uri for f in files}
    stats: dict[str, FileStats] = {f.info.uri: FileStats() for f in files}
    uri_of: dict[str, str] = {}
    chunk_rows: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    chunks_per_partition: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for row in rows:
        spark_name = row["_source_file"]
        uri = uri_of.setdefault(spark_name, by_listing.get(normalise_uri(spark_name), spark_name))
        file_stats = stats.setdefault(uri, FileStats())
        count = int(row["count"])
        chunk_rows[spark_name][int(row["_block_start"])] += count
        chunks_per_partition[int(row["pid"])].add((spark_name, int(row["_block_start"])))
        if row["skip"]:
            file_stats.skipped_lines += count
            continue
        file_stats.records += count
        if row["error_type"] is not None:
            kind = row["error_type"]
            file_stats.errors_by_type[kind] = file_stats.errors_by_type.get(kind, 0) + count
            if row["error_field"] is not None:
                key = f"{kind}:{row['error_field']}"
                file_stats.error_fields[key] = file_stats.error_fields.get(key, 0) + count
    crowded = {pid: chunks for pid, chunks in chunks_per_partition.items() if len(chunks) > 1}
    if crowded:
        raise RuntimeError(f"internal error: a Spark partition read more than one file chunk: {crowded}")
    offsets: dict[str, int] = {}
    for spark_name, chunks in chunk_rows.items():
        running = 0
        for start in sorted(chunks):
            if running:
                offsets[chunk_key(spark_name, start)] = running
            running += chunks[start]
    return Measured(cached, stats, offsets, uri_of)
