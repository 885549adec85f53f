"""Pure transforms for parsed Kafka messages: valid rows and dead-letter rows with Kafka lineage.

Input: :func:`feedguard.kafka.source.as_raw_records` parsed by ``parse_json_records`` and
``routing.error_type`` (``_error_type`` NULL for a valid record).
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, RunContext, exact_raw
from feedguard.ingest.routing import (
    _describe_errors as describe_errors,  # same error text as file dead letters
)
from feedguard.kafka.offsets import OffsetRange
from feedguard.kafka.source import KAFKA_COLUMNS
from feedguard.parse.errors import error

EMPTY_MESSAGE = "empty_message"


def flag_empty_messages(df: DataFrame) -> DataFrame:
    """A message without a value (a tombstone) or with a blank one is an error, never an empty record.

    (The file parser treats blank lines as "no record"; a Kafka message is always a record.)
    """
    empty = F.col("_raw").isNull() | F.col("_raw").rlike(r"^\s*$")
    detail = "the message value is empty (null or blank)"
    return df.withColumn(
        "_errors", F.when(empty, F.array(error(EMPTY_MESSAGE, None, detail))).otherwise(F.col("_errors"))
    )


def for_routing(df: DataFrame, contract: Contract) -> DataFrame:
    """Only the columns the valid and dead-letter rows need (cheaper to cache): the raw payload and the
    errors are kept for the bad messages only; a valid message is its typed fields and lineage.
    """
    bad = F.col("_error_type").isNotNull()
    return df.select(
        *contract.field_names,
        "_source_file",
        *KAFKA_COLUMNS,
        "_error_type",
        F.when(bad, F.col("_raw")).alias("_raw"),
        F.when(bad, F.col("_errors")).alias("_errors"),
    )


def _ingested_at(ctx: RunContext) -> Column:
    return F.to_timestamp(F.lit(ctx.ingested_at))


def kafka_valid_rows(df: DataFrame, contract: Contract, ctx: RunContext) -> DataFrame:
    """Valid messages: the contract's columns, file-style lineage (uri + offset) and Kafka lineage."""
    ingested = _ingested_at(ctx)
    return df.where(F.col("_error_type").isNull()).select(
        *contract.field_names,
        F.col("_source_file"),
        F.col("_kafka_offset").alias("_source_line"),
        F.col("_kafka_topic"),
        F.col("_kafka_partition"),
        F.col("_kafka_offset"),
        F.col("_kafka_key"),
        F.col("_kafka_timestamp"),
        F.lit(ctx.run_id).alias("_run_id"),
        ingested.alias("_ingested_at"),
        F.lit(ctx.contract_version).alias("_contract_version"),
        F.to_date(ingested).alias("ingest_date"),
    )


def kafka_dead_letter_rows(df: DataFrame, ctx: RunContext) -> DataFrame:
    """Messages with an error, in :data:`DEAD_LETTER_SCHEMA`, with the exact payload and Kafka lineage."""
    ingested = _ingested_at(ctx)
    raw_text, raw_bytes, raw_encoding = exact_raw(df)  # a payload that is not UTF-8 keeps its bytes
    values: dict[str, Column] = {
        "source": F.lit(ctx.source),
        "dataset": F.lit(ctx.dataset),
        "contract_version": F.lit(ctx.contract_version),
        "run_id": F.lit(ctx.run_id),
        "source_file": F.col("_source_file"),
        "source_line": F.col("_kafka_offset"),
        "raw_text": raw_text,
        "raw_bytes": raw_bytes,
        "raw_encoding": raw_encoding,
        "error_type": F.col("_error_type"),
        "error_detail": describe_errors(),
        "error_field": F.col("_errors").getItem(0).getField("field"),
        "kafka_topic": F.col("_kafka_topic"),
        "kafka_partition": F.col("_kafka_partition"),
        "kafka_offset": F.col("_kafka_offset"),
        "kafka_key": F.col("_kafka_key"),
        "kafka_timestamp": F.col("_kafka_timestamp"),
        "ingested_at": ingested,
        "ingest_date": F.to_date(ingested),
        "status": F.lit("open"),
    }
    return df.where(F.col("_error_type").isNotNull()).select(
        *[values.get(f.name, F.lit(None)).cast(f.dataType).alias(f.name) for f in DEAD_LETTER_SCHEMA.fields]
    )


def in_offset_ranges(
    ranges: Iterable[OffsetRange], *, partition: str | Column, offset: str | Column
) -> Column:
    """True for rows whose (partition, offset) falls in one of ``ranges`` (false when there are none)."""
    part = F.col(partition) if isinstance(partition, str) else partition
    off = F.col(offset) if isinstance(offset, str) else offset
    condition: Column = F.lit(False)
    for r in ranges:
        if r.count > 0:
            condition = condition | ((part == r.partition) & (off >= r.start) & (off < r.end))
    return condition


def count_by(df: DataFrame, column: str) -> dict[str, int]:
    """``{value: rows}`` of one column (small results only)."""
    return {str(r[0]): int(r[1]) for r in df.groupBy(column).count().collect()}
