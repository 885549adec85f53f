"""Every published metric as rows of the ``<lake>/_metrics`` Delta table (charts without AWS).

Example::

    rows = metrics_rows(metrics, run_id=summary["run_id"], contract_version="1",
                        destination=result.destination)
    write_metrics_table(spark, lake_path, rows)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pyspark.sql import SparkSession

from feedguard.metrics.model import DEFAULT_NAMESPACE, Metric
from feedguard.records import as_row, spark_schema

METRICS_TABLE: Final = "_metrics"


@dataclass(frozen=True)
class MetricsRow:
    """One row of ``<lake>/_metrics``: a metric a run published, and where it went."""

    run_id: str
    namespace: str
    metric_name: str
    value: float
    unit: str
    source: str | None
    dataset: str | None
    job: str | None
    environment: str | None
    contract_version: str | None
    timestamp: dt.datetime
    destination: str


METRICS_SCHEMA: Final = spark_schema(MetricsRow)


def metrics_rows(
    metrics: Sequence[Metric],
    *,
    run_id: str,
    namespace: str = DEFAULT_NAMESPACE,
    contract_version: str | None = None,
    destination: str = "none",
) -> list[MetricsRow]:
    """The ``_metrics`` table's rows for a run's metrics."""
    rows = []
    for m in metrics:
        dims = m.dimension_map()
        rows.append(
            MetricsRow(
                run_id=run_id,
                namespace=namespace,
                metric_name=m.name,
                value=m.value,
                unit=m.unit,
                source=dims.get("Source"),
                dataset=dims.get("Dataset"),
                job=dims.get("Job"),
                environment=dims.get("Environment"),
                contract_version=contract_version,
                timestamp=m.timestamp,
                destination=destination,
            )
        )
    return rows


def metrics_table_path(lake_path: str) -> str:
    return f"{lake_path.rstrip('/')}/{METRICS_TABLE}"


def write_metrics_table(spark: SparkSession, lake_path: str, rows: Sequence[MetricsRow]) -> int:
    """Append ``rows`` to ``<lake>/_metrics`` (Delta); returns the number of rows written."""
    if not rows:
        return 0
    frame = spark.createDataFrame([as_row(r) for r in rows], METRICS_SCHEMA)
    frame.write.format("delta").mode("append").save(metrics_table_path(lake_path))
    return len(rows)
