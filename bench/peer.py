"""The naive peer of issue 19: the file pipeline a Spark user writes without feedguard.

    PERMISSIVE read with the contract schema and ``_corrupt_record``, plus the file name -> persist ->
    count -> good rows to Delta (partitioned by ingest date) -> corrupt rows to Delta -> GX's own
    Checkpoint with the same committed suite on the loaded rows

Only Spark, Delta and GX's public 1.x API are used here (no feedguard code on the data path), so the
benchmark compares feedguard with what a user would pick instead. The good rows get the lineage columns
the committed suite's ``expect_table_columns_to_match_set`` names; the peer knows no line numbers, so
``_source_line`` is a typed NULL. Spark's silent acceptances (unknown and case-only keys, missing fields,
trailing content) land among the good rows, and GX then reports them: the peer's suite does not pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import great_expectations as gx
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT = "_corrupt_record"
SUITE_KEYS = ("name", "expectations", "meta", "notes", "suite_parameters")


def read_permissive(
    spark: SparkSession, path: str, schema: T.StructType, timestamp_format: str | None
) -> DataFrame:
    """Spark's JSON source, PERMISSIVE, the contract schema with ``_corrupt_record``, plus the file name."""
    reader = (
        spark.read.schema(schema).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
    )
    if timestamp_format:
        reader = reader.option("timestampFormat", timestamp_format)
    return reader.json(path).withColumn("_source_file", F.input_file_name())


def with_lineage(good: DataFrame, run_id: str, version: int, now: dt.datetime) -> DataFrame:
    ingested = F.lit(now).cast(T.TimestampType())
    return good.drop(CORRUPT).select(
        "*",
        F.lit(None).cast(T.LongType()).alias("_source_line"),
        F.lit(run_id).alias("_run_id"),
        ingested.alias("_ingested_at"),
        F.lit(version).alias("_contract_version"),
        F.to_date(ingested).alias("ingest_date"),
    )


def gx_checkpoint(context_root: Path, suite_json: dict[str, Any], asset: str) -> Any:
    """GX 1.x: file context, Spark data source, the committed suite, ValidationDefinition, Checkpoint."""
    context = gx.get_context(mode="file", project_root_dir=str(context_root))
    try:
        source = context.data_sources.get("peer")
    except (KeyError, LookupError, ValueError):
        source = context.data_sources.add_spark(name="peer")
    try:
        batch = source.get_asset(asset).get_batch_definition("whole")
    except (KeyError, LookupError, ValueError):
        batch = source.add_dataframe_asset(name=asset).add_batch_definition_whole_dataframe("whole")
    fields = {k: v for k, v in suite_json.items() if k in SUITE_KEYS}
    fields["expectations"] = [{k: v for k, v in e.items() if k != "id"} for e in suite_json["expectations"]]
    suite = context.suites.add_or_update(gx.ExpectationSuite(**fields))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(name=suite.name, validation_definitions=[definition], actions=[])
    )


def run_peer(
    spark: SparkSession,
    path: str,
    schema: T.StructType,
    suite_json: dict[str, Any],
    out: Path,
    *,
    timestamp_format: str | None = None,
    run_id: str = "peer",
    version: int = 1,
) -> dict[str, Any]:
    """Run the naive peer on ``path`` into ``out`` (valid and dead-letter Delta tables, a GX project)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    parsed = read_permissive(spark, path, schema, timestamp_format).persist()
    total = parsed.count()
    good = with_lineage(parsed.filter(F.col(CORRUPT).isNull()), run_id, version, now)
    good.write.format("delta").mode("append").partitionBy("ingest_date").save(str(out / "valid"))
    corrupt = parsed.filter(F.col(CORRUPT).isNotNull()).select(
        "_source_file",
        F.col(CORRUPT).alias("raw_text"),
        F.lit(run_id).alias("run_id"),
        F.to_date(F.lit(now).cast(T.TimestampType())).alias("ingest_date"),
    )
    corrupt.write.format("delta").mode("append").partitionBy("ingest_date").save(str(out / "dead_letter"))
    checkpoint = gx_checkpoint(out.parent / "peer_gx", suite_json, "orders")
    result = checkpoint.run(batch_parameters={"dataframe": good})
    parsed.unpersist()
    stats = result.describe_dict() if hasattr(result, "describe_dict") else {}
    return {"records_read": total, "dq_success": bool(result.success), "gx": stats.get("statistics", stats)}
