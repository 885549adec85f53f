"""What a structurally changed file now looks like: its delivered names and Spark's inferred types.

JSON keys that differ only in case are told apart (Spark refuses them otherwise); records with a repeated
key are read with each key once, as Spark's parser reads them, and the repeated keys are named, since
Spark's inference keeps both copies and then refuses its own schema (``COLUMN_ALREADY_EXISTS``). CSV
names come from the header text itself (Spark renames empty and repeated names).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrameReader, SparkSession
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract
from feedguard.contracts.repeated_keys import collapse_repeated_keys
from feedguard.contracts.schema import CORRUPT_COLUMN
from feedguard.lake.storage import spark_path

_CASE_SENSITIVE = "spark.sql.caseSensitive"
REPEATED_COLUMN_ERROR = "COLUMN_ALREADY_EXISTS"


@dataclass(frozen=True)
class DeliveredSchema:
    """Column names as delivered (JSON keys or CSV header text, verbatim) with their inferred types."""

    fields: list[tuple[str, T.DataType]]
    repeated_keys: tuple[str, ...] = ()  # JSON keys repeated in one object (paths, as dead letters name them)


def infer_delivered_schema(
    spark: SparkSession, contract: Contract, uri: str, delimiter: str
) -> DeliveredSchema:
    """The delivered names and Spark's inferred types of the file at ``uri``."""
    if contract.format == "json":
        return _infer_json(spark, uri)
    return DeliveredSchema(_infer_csv(spark, contract, uri, delimiter))


@contextmanager
def _case_sensitive(spark: SparkSession) -> Iterator[None]:
    previous = spark.conf.get(_CASE_SENSITIVE, "false")
    spark.conf.set(_CASE_SENSITIVE, "true")
    try:
        yield
    finally:
        spark.conf.set(_CASE_SENSITIVE, previous or "false")


def _fields(schema: T.StructType) -> list[tuple[str, T.DataType]]:
    return [(f.name, f.dataType) for f in schema.fields if f.name != CORRUPT_COLUMN]


def _json_schema(spark: SparkSession, uri: str) -> DeliveredSchema:
    return DeliveredSchema(_fields(spark.read.option("mode", "PERMISSIVE").json(spark_path(uri)).schema))


def _infer_json(spark: SparkSession, uri: str) -> DeliveredSchema:
    """Keys and types: as Spark infers them, then case-sensitively, then with repeated keys collapsed."""
    try:
        return _json_schema(spark, uri)
    except AnalysisException:
        pass
    with _case_sensitive(spark):
        try:
            return _json_schema(spark, uri)
        except AnalysisException as exc:
            if exc.getErrorClass() != REPEATED_COLUMN_ERROR:
                raise
        return _infer_json_collapsed(spark, uri)


def _infer_json_collapsed(spark: SparkSession, uri: str) -> DeliveredSchema:
    """Keys and types of the records read with each repeated key once (two passes, Python on each line)."""
    records = spark.read.text(spark_path(uri)).rdd.map(lambda row: collapse_repeated_keys(row.value)).cache()
    try:
        repeated = records.flatMap(lambda record: record[1]).distinct().collect()
        texts = records.map(lambda record: record[0])
        schema = spark.read.option("mode", "PERMISSIVE").json(texts).schema
    finally:
        records.unpersist()
    return DeliveredSchema(_fields(schema), tuple(sorted(repeated)))


def _infer_csv(
    spark: SparkSession, contract: Contract, uri: str, delimiter: str
) -> list[tuple[str, T.DataType]]:
    """Types by position; names from the header text itself (Spark renames empty and repeated names)."""
    opts = contract.csv

    def reader(header: bool) -> DataFrameReader:
        return (
            spark.read.option("header", str(header).lower())
            .option("sep", delimiter)
            .option("quote", opts.quote)
            .option("escape", opts.escape)
        )

    typed = reader(opts.header).option("inferSchema", "true").csv(spark_path(uri)).schema.fields
    if opts.header:
        first = reader(False).csv(spark_path(uri)).first()
        header = ["" if cell is None else str(cell).strip() for cell in (first or ())]
    else:
        header = list(contract.field_names)
    names = [header[i] if i < len(header) else f"column_{i + 1}" for i in range(len(typed))]
    return [(name, f.dataType) for name, f in zip(names, typed, strict=True)]
