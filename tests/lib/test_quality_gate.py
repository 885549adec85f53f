"""The quality gate on inline rows: the committed QuickBite suite, severities, results rows, both engines."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any, cast

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import spark_schema
from feedguard.quality import DqResultRow, FailedExpectation, load_suite, validate, write_dq_results

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = load_contract(ROOT / "contracts" / "quickbite" / "orders.v1.yaml")
SUITE = load_suite(ROOT / "expectations" / "quickbite" / "orders.v1.json")
LINEAGE = T.StructType(
    [
        T.StructField("_source_file", T.StringType()),
        T.StructField("_source_line", T.LongType()),
        T.StructField("_run_id", T.StringType()),
        T.StructField("_ingested_at", T.TimestampType()),
        T.StructField("_contract_version", T.IntegerType()),
        T.StructField("ingest_date", T.DateType()),
    ]
)
SCHEMA = T.StructType(spark_schema(CONTRACT, corrupt_column=False).fields + LINEAGE.fields)
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def order(n: int, **changes: Any) -> dict[str, Any]:
    """A valid QuickBite order (total = subtotal + tip, subtotal = sum of the items)."""
    base = {
        "order_id": f"QB-{n:08d}",
        "customer_id": f"C{n:06d}",
        "customer_email": f"customer{n}@mail.example",
        "restaurant_id": "R0001",
        "items": [{"sku": "SKU-0001", "qty": 2, "price": D("4.50")}],
        "subtotal": D("9.00"),
        "tip": D("1.00"),
        "total": D("10.00"),
        "status": "placed",
        "city": "Berlin",
        "ordered_at": dt.datetime(2026, 11, 28, 12, 0),
    }
    return {**base, **changes}


def batch(spark: SparkSession, *orders: dict[str, Any]) -> DataFrame:
    """The valid frame the job hands to the gate: contract columns + lineage, cached."""
    lineage = (
        "file:/in/orders_20261128.jsonl",
        "run-1",
        dt.datetime(2026, 11, 29, 12),
        1,
        dt.date(2026, 11, 29),
    )
    rows = [
        (*[o[name] for name in CONTRACT.field_names], lineage[0], i + 1, *lineage[1:])
        for i, o in enumerate(orders)
    ]
    return spark.createDataFrame(rows, SCHEMA).cache()


def run(df: DataFrame, tmp_path: Path, suite: dict[str, Any] = SUITE, **kwargs: Any) -> Any:
    return validate(df, suite, run_id="run-1", context_root=str(tmp_path / "_gx"), now=NOW, **kwargs)


def test_a_clean_batch_passes_every_expectation(spark: SparkSession, tmp_path: Path) -> None:
    df = batch(spark, order(1), order(2), order(3, tip=None, total=D("9.00")))

    outcome = run(df, tmp_path)

    assert outcome.success
    assert (outcome.critical_failed, outcome.warning_failed) == ([], [])
    assert outcome.summary_fields() == {
        "dq_success": True,
        "expectations_evaluated": len(SUITE["expectations"]),
        "expectations_failed": 0,
    }
    assert outcome.element_count == 3
    assert (
        outcome.message()
        == f"DQ gate passed: {len(SUITE['expectations'])} expectations of quickbite.orders.v1"
    )


def test_a_critical_failure_fails_the_gate_with_the_expectation_count_and_values(
    spark: SparkSession, tmp_path: Path
) -> None:
    df = batch(spark, order(1), order(2), order(2, status="lost"))

    outcome = run(df, tmp_path)

    assert not outcome.success
    assert outcome.critical_failed == [
        FailedExpectation(
            "expect_column_values_to_be_unique",
            "order_id",
            "critical",
            2,
            cast(float, pytest.approx(200 / 3)),
            ["QB-00000002", "QB-00000002"],
        ),
        FailedExpectation(
            "expect_column_values_to_be_in_set",
            "status",
            "critical",
            1,
            cast(float, pytest.approx(100 / 3)),
            ["lost"],
        ),
    ]
    assert outcome.warning_failed == []
    assert outcome.summary_fields() == {
        "dq_success": False,
        "expectations_evaluated": len(SUITE["expectations"]),
        "expectations_failed": 2,
    }
    assert outcome.message().startswith("DQ gate failed (2 of 23 failed): critical: ")
    assert "expect_column_values_to_be_unique(order_id): 2 unexpected e.g. 'QB-00000002'" in outcome.message()


def test_a_warning_only_failure_passes_and_is_reported(spark: SparkSession, tmp_path: Path) -> None:
    items = [{"sku": "SKU-0001", "qty": 2, "price": D("4.50")}]
    df = batch(spark, order(1, subtotal=D("8.00"), total=D("9.00")), order(2))

    outcome = run(df, tmp_path)

    assert outcome.success
    assert outcome.critical_failed == []
    assert outcome.warning_failed == [
        FailedExpectation(
            "unexpected_rows_expectation",
            "subtotal",
            "warning",
            1,
            50.0,
            [{"order_id": "QB-00000001", "subtotal": 8.0, "items": [{**items[0], "price": 4.5}]}],
        )
    ]
    assert outcome.summary_fields()["expectations_failed"] == 1
    assert outcome.message().startswith("DQ gate passed with warnings (1 of 23 failed): warning: ")


def test_the_cross_field_rule_catches_a_total_that_is_not_subtotal_plus_tip(
    spark: SparkSession, tmp_path: Path
) -> None:
    df = batch(spark, order(1, total=D("11.00")), order(2), order(3, tip=None, total=D("9.00")))

    outcome = run(df, tmp_path)

    assert not outcome.success
    assert outcome.critical_failed == [
        FailedExpectation(
            "unexpected_rows_expectation",
            "total",
            "critical",
            1,
            cast(float, pytest.approx(100 / 3)),
            [{"order_id": "QB-00000001", "subtotal": 9.0, "tip": 1.0, "total": 11.0}],
        )
    ]


SMALL_SUITE: dict[str, Any] = {
    "name": "quickbite.orders.v1",
    "meta": {"feedguard": {"source": "quickbite", "dataset": "orders", "pii_columns": ["customer_email"]}},
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "tip"},
            "meta": {"severity": "warning"},
        },
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "customer_email", "regex": "@mail\\.example$"},
            "meta": {"severity": "critical"},
        },
        # Not computed by the single pass: GX runs it on the same batch.
        {
            "type": "expect_column_mean_to_be_between",
            "kwargs": {"column": "total", "min_value": 0, "max_value": 50},
        },
    ],
}


def test_dq_result_rows_are_exact_pii_is_masked_and_the_result_is_stored_for_data_docs(
    spark: SparkSession, tmp_path: Path
) -> None:
    df = batch(spark, order(1, tip=None, total=D("9.00")), order(2, customer_email="leak@other.example"))

    outcome = run(df, tmp_path, SMALL_SUITE)

    at = NOW.replace(tzinfo=None)
    common = ("run-1", "quickbite", "orders", "quickbite.orders.v1")
    assert outcome.rows == [
        DqResultRow(*common, "expect_column_values_to_not_be_null", "tip", "warning", False, 2, 1, 50.0,
                    '{"column": "tip"}', at),
        DqResultRow(*common, "expect_column_values_to_match_regex", "customer_email", "critical", False,
                    2, 1, 50.0, '{"column": "customer_email", "regex": "@mail\\\\.example$"}', at),
        DqResultRow(*common, "expect_column_mean_to_be_between", "total", "critical", True, 2, None, None,
                    '{"column": "total", "max_value": 50.0, "min_value": 0.0}', at),
    ]  # fmt: skip
    assert outcome.critical_failed[0].partial_unexpected_values == ["***"]
    assert not outcome.success

    stored = list(
        (tmp_path / "_gx" / "gx" / "uncommitted" / "validations").glob("quickbite/orders/v1/run-1/*/*.json")
    )
    assert len(stored) == 1
    saved = json.loads(stored[0].read_text())
    assert saved["results"][1]["result"]["partial_unexpected_list"] == ["***"]
    assert "leak@other.example" not in stored[0].read_text()

    assert write_dq_results(spark, str(tmp_path / "lake"), outcome.rows) == 3
    table = spark.read.format("delta").load(str(tmp_path / "lake" / "_dq_results"))
    assert sorted(tuple(r) for r in table.collect()) == sorted(outcome.rows)


def test_gx_engine_and_single_pass_agree(spark: SparkSession, tmp_path: Path) -> None:
    df = batch(
        spark,
        order(1, total=D("11.00")),
        order(2, subtotal=D("8.00"), total=D("9.00")),
        order(2, customer_id="X1", status="lost"),
        order(4, tip=None, total=D("9.00")),
    )

    fast = run(df, tmp_path, engine="single_pass")
    by_gx = run(df, tmp_path, engine="gx")

    assert by_gx.rows == fast.rows
    assert by_gx.critical_failed == fast.critical_failed
    # GX shows nested structs of unexpected rows as bare lists; the single pass keeps their field names.
    assert [(f.column, f.unexpected_count) for f in by_gx.warning_failed] == [("subtotal", 1)]
    assert fast.warning_failed[0].partial_unexpected_values[0]["items"] == [
        {"sku": "SKU-0001", "qty": 2, "price": 4.5}
    ]
    assert [f.column for f in fast.critical_failed] == ["order_id", "customer_id", "status", "total"]
    assert [f.column for f in fast.warning_failed] == ["subtotal"]


def test_an_empty_batch_passes_vacuously(spark: SparkSession, tmp_path: Path) -> None:
    outcome = run(batch(spark), tmp_path)

    assert outcome.success
    assert outcome.expectations_failed == 0
    assert {r.element_count for r in outcome.rows} == {0}
