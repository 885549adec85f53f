"""Every published metric as rows of the ``<lake>/_metrics`` Delta table (charts without AWS).

Example::

    rows = metrics_rows(metrics, run_id=summary["run_id"], contract_version="1",
                        destination=result.destination)
    write_metrics_table(spark, lake_path, rows)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

from feedguard.metrics.model import DEFAULT_NAMESPACE, Metric

METRICS_TABLE: Final = "_metrics"

METRICS_SCHEMA: Final = StructType(
    [
        StructField("run_id", StringType(), False),
        StructField("namespace", StringType(), False),
        StructField("metric_name", StringType(), False),
        StructField("value", DoubleType(), False),
        StructField("unit", StringType(), False),
        StructField("source", StringType(), True),
        StructField("dataset", StringType(), True),
        StructField("job", StringType(), True),
        StructField("environment", StringType(), True),
        StructField("contract_version", StringType(), True),
        StructField("timestamp", TimestampType(), False),
        StructField("destination", StringType(), False),
    ]
)


def metrics_rows(
    metrics: Sequence[Metric],
    *,
    run_id: str,
    namespace: str = DEFAULT_NAMESPACE,
    contract_version: str | None = None,
    destination: str = "none",
) -> list[dict[str, Any]]:
    """Plain rows (column -> value, in :data:`METRICS_SCHEMA` order) for the ``_metrics`` table."""
    rows: list[dict[str, Any]] = []
    for m in metrics:
        dims = m.dimension_map()
        rows.append(
            {
                "run_id": run_id,
                "namespace": namespace,
                "metric_name": m.name,
                "value": m.value,
                "unit": m.unit,
                "source": dims.get("Source"),
                "dataset": dims.get("Dataset"),
                "job": dims.get("Job"),
                "environment": dims.get("Environment"),
                "contract_version": contract_version,
                "timestamp": m.timestamp,
                "destination": destination,
            }
        )
    return rows


def metrics_table_path(lake_path: str) -> str:
    return f"{lake_path.rstrip('/')}/{METRICS_TABLE}"


def write_metrics_table(spark: SparkSession, lake_path: str, rows: Sequence[dict[str, Any]]) -> int:
    """Append ``rows`` to ``<lake>/_metrics`` (Delta); returns the number of rows written."""
    if not rows:
        return 0
    names = METRICS_SCHEMA.fieldNames()
    frame = spark.createDataFrame([tuple(r[n] for n in names) for r in rows], METRICS_SCHEMA)
    frame.write.format("delta").mode("append").save(metrics_table_path(lake_path))
    return len(rows)
