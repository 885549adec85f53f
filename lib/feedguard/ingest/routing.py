"""Pure transforms that turn parsed records into valid rows and dead-letter rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract
from feedguard.records import Int32, spark_schema


@dataclass(frozen=True, kw_only=True)
class DeadLetterRow:
    """One row of ``<lake>/_dead_letter``: the exact raw record, why it failed, and where it came from."""

    source: str
    dataset: str
    contract_version: Int32
    run_id: str
    source_file: str | None = None
    source_line: int | None = None
    raw_text: str | None = None
    error_type: str
    error_detail: str | None = None
    error_field: str | None = None
    kafka_topic: str | None = None
    kafka_partition: Int32 | None = None
    kafka_offset: int | None = None
    kafka_key: str | None = None
    kafka_timestamp: dt.datetime | None = None
    ingested_at: dt.datetime
    ingest_date: dt.date
    status: str
    resolved_at: dt.datetime | None = None
    resolved_by_contract_version: Int32 | None = None
    replay_run_id: str | None = None
    # The input bytes when ``raw_text`` is not them (bytes that are not valid UTF-8, text in another
    # encoding), and their encoding; NULL when raw_text's UTF-8 bytes are the input.
    raw_bytes: bytes | None = None
    raw_encoding: str | None = None


DEAD_LETTER_SCHEMA = spark_schema(DeadLetterRow)
LINEAGE_OUT = ("_source_file", "_source_line", "_run_id", "_ingested_at", "_contract_version")


@dataclass(frozen=True)
class RunContext:
    """Plain values every output row carries."""

    source: str
    dataset: str
    contract_version: int
    run_id: str
    ingested_at: str  # ISO-8601 UTC


def _ingested_at(ctx: RunContext) -> Column:
    return F.to_timestamp(F.lit(ctx.ingested_at))


def _literal_map(pairs: Mapping[Any, Any]) -> Column:
    """A map literal of ``pairs`` (values may be Columns, themselves map literals)."""
    return F.create_map(*[c for key, value in pairs.items() for c in (F.lit(key), F.lit(value))])


def with_source_line(df: DataFrame, chunk_offsets: Mapping[str, Mapping[int, int]]) -> DataFrame:
    """``_source_line`` = lines in the file's earlier chunks + index in this chunk + 1.

    ``chunk_offsets`` maps a file's Spark name to its chunks' offsets (chunks after the first only). The
    lookup is two small literal maps (file, then chunk start): no string is built per row.
    """
    offset: Column = F.lit(0).cast(T.LongType())
    if chunk_offsets:
        by_file = _literal_map({name: _literal_map(chunks) for name, chunks in chunk_offsets.items()})
        offset = F.coalesce(by_file[F.col("_source_file")][F.col("_block_start")], offset)
    return df.withColumn("_source_line", offset + F.col("_row_in_block") + 1)


def records(df: DataFrame) -> DataFrame:
    """Drop blank lines and CSV header lines: what remains are the input records."""
    return df.where(~F.col("_blank") & ~F.col("_header"))


def with_file_errors(df: DataFrame, file_errors: Mapping[str, tuple[str, str]]) -> DataFrame:
    """Prepend a file-level error (for example ``header_mismatch``) to every record of those files."""
    if not file_errors:
        return df
    file_error: Column = F.lit(None).cast("struct<type:string,field:string,detail:string>")
    for uri, (kind, detail) in file_errors.items():
        file_error = F.when(
            F.col("_source_file") == uri,
            F.struct(
                F.lit(kind).alias("type"),
                F.lit(None).cast("string").alias("field"),
                F.lit(detail).alias("detail"),
            ),
        ).otherwise(file_error)
    return df.withColumn(
        "_errors",
        F.when(file_error.isNotNull(), F.concat(F.array(file_error), "_errors")).otherwise(F.col("_errors")),
    )


def error_type(df: DataFrame) -> DataFrame:
    """``_error_type``: the first error's type, NULL for a valid record."""
    return df.withColumn("_error_type", F.col("_errors").getItem(0).getField("type"))


def valid_rows(df: DataFrame, contract: Contract, ctx: RunContext) -> DataFrame:
    """Valid records with the contract's columns and lineage, partitioned by ingest date."""
    ingested = _ingested_at(ctx)
    return df.where(F.col("_error_type").isNull()).select(
        *contract.field_names,
        F.col("_source_file"),
        F.col("_source_line"),
        F.lit(ctx.run_id).alias("_run_id"),
        ingested.alias("_ingested_at"),
        F.lit(ctx.contract_version).alias("_contract_version"),
        F.to_date(ingested).alias("ingest_date"),
    )


def _describe_errors() -> Column:
    return F.array_join(
        F.transform(
            "_errors",
            lambda e: F.concat(e.getField("type"), F.lit(": "), F.coalesce(e.getField("detail"), F.lit(""))),
        ),
        "; ",
    )


def not_utf8(text: Column) -> Column:
    """True when a string holds bytes that are not valid UTF-8 (Spark keeps a text line's bytes as read)."""
    return F.decode(text.cast(T.BinaryType()), "UTF-8") != text


def exact_raw(df: DataFrame) -> tuple[Column, Column, Column]:
    """(raw_text, raw_bytes, raw_encoding) of a record: valid UTF-8 text, and the input bytes when
    they are not that text's UTF-8 bytes (``_raw_bytes`` of the reader, or ``_raw`` itself when it
    holds bytes that are not UTF-8: its text then shows them as U+FFFD)."""
    raw = F.col("_raw")
    known: Column = F.col("_raw_bytes") if "_raw_bytes" in df.columns else F.lit(None).cast(T.BinaryType())
    encoding: Column = F.col("_encoding") if "_encoding" in df.columns else F.lit(None).cast(T.StringType())
    invalid = known.isNull() & not_utf8(raw)
    text = F.when(invalid, F.decode(raw.cast(T.BinaryType()), "UTF-8")).otherwise(raw)
    exact = F.when(invalid, raw.cast(T.BinaryType())).otherwise(known)
    return text, exact, F.when(invalid, F.lit("utf-8")).otherwise(encoding)


def _error_detail(df: DataFrame) -> Column:
    """The errors, and for an array element the line of the file it starts on."""
    if "_element_line" not in df.columns:
        return _describe_errors()
    where = F.when(
        F.col("_element_line").isNotNull(),
        F.format_string(" (array element %d, from line %d)", F.col("_source_line"), F.col("_element_line")),
    )
    return F.concat(_describe_errors(), F.coalesce(where, F.lit("")))


def dead_letter_rows(df: DataFrame, ctx: RunContext) -> DataFrame:
    """Records with an error, in the dead-letter schema, with their exact raw text (and bytes)."""
    ingested = _ingested_at(ctx)
    bad = df.where(F.col("_error_type").isNotNull())
    raw_text, raw_bytes, raw_encoding = exact_raw(df)
    return bad.select(
        F.lit(ctx.source).alias("source"),
        F.lit(ctx.dataset).alias("dataset"),
        F.lit(ctx.contract_version).alias("contract_version"),
        F.lit(ctx.run_id).alias("run_id"),
        F.col("_source_file").alias("source_file"),
        F.col("_source_line").alias("source_line"),
        raw_text.alias("raw_text"),
        F.col("_error_type").alias("error_type"),
        _error_detail(df).alias("error_detail"),
        F.col("_errors").getItem(0).getField("field").alias("error_field"),
        *[
            F.lit(None).cast(f.dataType).alias(f.name)
            for f in DEAD_LETTER_SCHEMA.fields
            if f.name.startswith("kafka_")
        ],
        ingested.alias("ingested_at"),
        F.to_date(ingested).alias("ingest_date"),
        F.lit("open").alias("status"),
        F.lit(None).cast(T.TimestampType()).alias("resolved_at"),
        F.lit(None).cast(T.IntegerType()).alias("resolved_by_contract_version"),
        F.lit(None).cast(T.StringType()).alias("replay_run_id"),
        raw_bytes.alias("raw_bytes"),
        raw_encoding.alias("raw_encoding"),
    )
