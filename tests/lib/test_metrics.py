"""Metrics built from a run summary, batching, EMF output, the spool format and the _metrics table."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feedguard.metrics import (
    METRICS_SCHEMA,
    CloudWatchPublisher,
    EmfPublisher,
    Metric,
    MetricsConfigError,
    NullPublisher,
    PublishResult,
    batches,
    emf_documents,
    metric_datum,
    metrics_from_summary,
    metrics_rows,
    publisher_from_args,
    write_metrics_table,
)
from feedguard.metrics.table import MetricsRow
from feedguard.summary import RunSummary

Summary = Callable[..., RunSummary]
DIMS = (("Source", "quickbite"), ("Dataset", "orders"), ("Job", "ingest_files"), ("Environment", "dev"))
ENDED = datetime(2024, 5, 1, 10, 0, 42, tzinfo=UTC)


def named(metrics: list[Metric]) -> list[tuple[str, float, str]]:
    return [(m.name, m.value, m.unit) for m in metrics]


def test_core_metrics_are_derived_from_counts_and_verdicts(make_summary: Summary) -> None:
    metrics = metrics_from_summary(make_summary(), environment="dev", job="ingest_files")

    assert named(metrics) == [
        ("RecordsRead", 200.0, "Count"),
        ("RecordsValid", 194.0, "Count"),
        ("RecordsDeadLettered", 6.0, "Count"),
        ("CorruptRatio", 3.0, "Percent"),
        ("FilesQuarantined", 0.0, "Count"),
        ("SchemaDriftDetected", 0.0, "None"),
        ("JobDurationSeconds", 42.0, "Seconds"),
    ]
    assert {m.dimensions for m in metrics} == {DIMS}
    assert {m.timestamp for m in metrics} == {ENDED}


def test_optional_summary_keys_add_dq_and_kafka_metrics(make_summary: Summary) -> None:
    summary = make_summary(
        corrupt_ratio_pct=2.5,
        files_quarantined=1,
        schema_drift_detected=True,
        dq_success=False,
        expectations_evaluated=12,
        expectations_failed=1,
        consumer_lag=350,
        downtime_seconds=1800.0,
        messages_lost=0,
    )

    assert named(metrics_from_summary(summary, "prod", "ingest_kafka")) == [
        ("RecordsRead", 200.0, "Count"),
        ("RecordsValid", 194.0, "Count"),
        ("RecordsDeadLettered", 6.0, "Count"),
        ("CorruptRatio", 2.5, "Percent"),
        ("FilesQuarantined", 1.0, "Count"),
        ("SchemaDriftDetected", 1.0, "None"),
        ("DQSuccess", 0.0, "None"),
        ("JobDurationSeconds", 42.0, "Seconds"),
        ("ExpectationsEvaluated", 12.0, "Count"),
        ("ExpectationsFailed", 1.0, "Count"),
        ("ConsumerLag", 350.0, "Count"),
        ("DowntimeSeconds", 1800.0, "Seconds"),
        ("MessagesLost", 0.0, "Count"),
    ]


def test_structural_change_verdicts_count_as_quarantined_and_drift(make_summary: Summary) -> None:
    summary = make_summary(
        verdicts={"a.csv": "structural_change", "b.csv": "file_corrupt", "c.csv": "clean"}, dq_success=True
    )

    values = {m.name: m.value for m in metrics_from_summary(summary, "dev", "ingest_files")}

    assert (values["FilesQuarantined"], values["SchemaDriftDetected"], values["DQSuccess"]) == (2.0, 1.0, 1.0)


def test_empty_run_has_zero_ratio_and_non_finite_values_are_left_out(make_summary: Summary) -> None:
    summary = make_summary(
        records_read=0,
        records_valid=0,
        records_dead_lettered=0,
        files=[],
        duration_seconds=math.nan,
        consumer_lag=math.inf,
    )

    assert named(metrics_from_summary(summary, "dev", "ingest_files")) == [
        ("RecordsRead", 0.0, "Count"),
        ("RecordsValid", 0.0, "Count"),
        ("RecordsDeadLettered", 0.0, "Count"),
        ("CorruptRatio", 0.0, "Percent"),
        ("FilesQuarantined", 0.0, "Count"),
        ("SchemaDriftDetected", 0.0, "None"),
    ]


def test_metric_datum_is_the_put_metric_data_shape(make_summary: Summary) -> None:
    first = metrics_from_summary(make_summary(), "dev", "ingest_files")[0]

    assert metric_datum(first) == {
        "MetricName": "RecordsRead",
        "Dimensions": [
            {"Name": "Source", "Value": "quickbite"},
            {"Name": "Dataset", "Value": "orders"},
            {"Name": "Job", "Value": "ingest_files"},
            {"Name": "Environment", "Value": "dev"},
        ],
        "Timestamp": ENDED,
        "Value": 200.0,
        "Unit": "Count",
    }


def test_batches_respect_the_metric_count_limit() -> None:
    data = [{"MetricName": "M", "Value": float(i)} for i in range(2500)]

    assert list(batches(data)) == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_batches_respect_the_byte_limit() -> None:
    data = [{"MetricName": "M" * 100} for _ in range(10)]  # 120 bytes of JSON each, 121 counted

    assert list(batches(data, max_bytes=512 + 3 * 121)) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    with pytest.raises(ValueError, match="alone exceeds 600 bytes"):
        list(batches(data, max_bytes=600))


def test_emf_documents_group_by_dimensions_and_timestamp(make_summary: Summary) -> None:
    metrics = metrics_from_summary(make_summary(), "dev", "ingest_files")[:2]

    assert emf_documents(metrics, "Feedguard/DataQuality", {"RunId": "r-1", "RecordsRead": "clash"}) == [
        {
            "RunId": "r-1",
            "_aws": {
                "Timestamp": 1714557642000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Feedguard/DataQuality",
                        "Dimensions": [["Source", "Dataset", "Job", "Environment"]],
                        "Metrics": [
                            {"Name": "RecordsRead", "Unit": "Count"},
                            {"Name": "RecordsValid", "Unit": "Count"},
                        ],
                    }
                ],
            },
            "Source": "quickbite",
            "Dataset": "orders",
            "Job": "ingest_files",
            "Environment": "dev",
            "RecordsRead": 200.0,
            "RecordsValid": 194.0,
        }
    ]


def test_emf_splits_documents_at_100_metrics() -> None:
    metrics = [Metric(f"M{i}", float(i), "Count", DIMS, ENDED) for i in range(250)]

    sizes = [len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in emf_documents(metrics)]

    assert sizes == [100, 100, 50]


def test_emf_publisher_writes_one_json_line_per_document(make_summary: Summary) -> None:
    out = io.StringIO()
    metrics = metrics_from_summary(make_summary(), "dev", "ingest_files")

    result = EmfPublisher(out, "Test/NS").publish(metrics)

    lines = out.getvalue().splitlines()
    assert result == PublishResult(destination="emf", sent=7, requests=1)
    assert [json.loads(line) for line in lines] == emf_documents(metrics, "Test/NS")


def test_publisher_from_args_chooses_the_output(tmp_path: Path) -> None:
    assert isinstance(publisher_from_args("none"), NullPublisher)
    assert isinstance(publisher_from_args("emf", stream=io.StringIO()), EmfPublisher)
    cloudwatch = publisher_from_args(
        "cloudwatch", spool_path=tmp_path / "s.jsonl", client=object(), strict=True
    )
    assert isinstance(cloudwatch, CloudWatchPublisher)
    assert (cloudwatch.spool_path, cloudwatch.strict, cloudwatch.namespace) == (
        tmp_path / "s.jsonl",
        True,
        "Feedguard/DataQuality",
    )
    with pytest.raises(MetricsConfigError, match="needs a spool path"):
        publisher_from_args("cloudwatch", client=object())
    with pytest.raises(MetricsConfigError, match="unknown metrics publisher 'statsd'"):
        publisher_from_args("statsd")


def test_null_publisher_sends_nothing_and_reports_ok() -> None:
    result = NullPublisher().publish([Metric("M", 1.0, "Count", DIMS, ENDED)])

    assert (result, result.ok) == (PublishResult(destination="none"), True)


def test_spool_line_round_trips_a_metric() -> None:
    metric = Metric("CorruptRatio", 3.0, "Percent", DIMS, ENDED)

    line = json.dumps(metric.to_json())

    assert line == (
        '{"name": "CorruptRatio", "value": 3.0, "unit": "Percent", "dimensions": {"Source": "quickbite", '
        '"Dataset": "orders", "Job": "ingest_files", "Environment": "dev"}, '
        '"timestamp": "2024-05-01T10:00:42+00:00"}'
    )
    assert Metric.from_json(json.loads(line)) == metric


def test_publish_result_summary_fields() -> None:
    result = PublishResult("cloudwatch", sent=0, spooled=7, error="EndpointConnectionError", spool_path="/s")

    assert result.ok is False
    assert result.summary_fields() == {
        "metrics_destination": "cloudwatch",
        "metrics_sent": 0,
        "metrics_spooled": 7,
        "metrics_flushed": 0,
        "metrics_dropped": 0,
        "metrics_error": "EndpointConnectionError",
        "metrics_spool_path": "/s",
    }


def test_metrics_rows_and_the_delta_table(spark: SparkSession, tmp_path: Path, make_summary: Summary) -> None:
    metrics = metrics_from_summary(make_summary(), "dev", "ingest_files")[:2]
    rows = metrics_rows(metrics, run_id="r-1", contract_version="1", destination="emf")

    assert rows[0] == MetricsRow(
        run_id="r-1",
        namespace="Feedguard/DataQuality",
        metric_name="RecordsRead",
        value=200.0,
        unit="Count",
        source="quickbite",
        dataset="orders",
        job="ingest_files",
        environment="dev",
        contract_version="1",
        timestamp=ENDED,
        destination="emf",
    )
    lake = str(tmp_path / "lake")
    assert write_metrics_table(spark, lake, rows) == 2
    assert write_metrics_table(spark, lake, []) == 0

    table = spark.read.format("delta").load(f"{lake}/_metrics")
    assert [(f.name, f.dataType) for f in table.schema] == [(f.name, f.dataType) for f in METRICS_SCHEMA]
    got = sorted((r.metric_name, r.value, r.run_id, r.timestamp.replace(tzinfo=UTC)) for r in table.collect())
    assert got == [("RecordsRead", 200.0, "r-1", ENDED), ("RecordsValid", 194.0, "r-1", ENDED)]
