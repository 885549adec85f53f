"""JSON parsing against the QuickBite contract: every silent-acceptance case is caught."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, load_contract
from feedguard.contracts.schema import CORRUPT_COLUMN, spark_schema
from feedguard.parse.json_records import parse_json_records

GOOD = {
    "order_id": "QB-00000001",
    "customer_id": "C000001",
    "customer_email": "a@mail.example",
    "restaurant_id": "R0001",
    "items": [{"sku": "SKU-0001", "qty": 2, "price": 3.5}],
    "subtotal": 7.0,
    "tip": 1.0,
    "total": 8.0,
    "status": "placed",
    "city": "Berlin",
    "ordered_at": "2026-11-01T10:00:00Z",
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("contracts/quickbite/orders.v1.yaml")


def raw_frame(spark: SparkSession, lines: list[str]) -> DataFrame:
    rows = [("file:/in.jsonl", 0, i, line, None) for i, line in enumerate(lines)]
    return spark.createDataFrame(
        rows, "_source_file string, _block_start long, _row_in_block long, _raw string, _doc_error string"
    )


def errors_of(spark: SparkSession, contract: Contract, lines: list[str]) -> list[tuple[str | None, ...]]:
    parsed = raw_frame(spark, lines).transform(parse_json_records, contract)
    rows = parsed.select(
        "_row_in_block", "_blank", F.transform("_errors", lambda e: e.getField("type")).alias("types")
    ).orderBy("_row_in_block")
    return [(r["_blank"], *r["types"]) for r in rows.collect()]


def line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


def test_spark_permissive_json_silently_accepts_these_records(
    spark: SparkSession, contract: Contract
) -> None:
    """Pin the Spark 3.5 behaviour the checks exist for: no corrupt flag on any of these."""
    trailing = json.dumps(GOOD) + " trailing"
    extra_brace = json.dumps(GOOD) + "}"
    case_key = json.dumps({("Order_ID" if k == "order_id" else k): v for k, v in GOOD.items()})
    unknown = line(promo="X")
    df = spark.createDataFrame([(t,) for t in (trailing, extra_brace, case_key, unknown)], "raw string")
    parsed = df.select(
        F.from_json("raw", spark_schema(contract), {"mode": "PERMISSIVE"}).alias("p")
    ).collect()
    assert [r["p"][CORRUPT_COLUMN] for r in parsed] == [None, None, None, None]
    assert [r["p"]["order_id"] for r in parsed] == ["QB-00000001", "QB-00000001", None, "QB-00000001"]


def test_each_fault_gets_its_error_type(spark: SparkSession, contract: Contract) -> None:
    good = json.dumps(GOOD)
    lines = [
        good,
        good[:40],
        good + " trailing",
        good + "}",
        "[" + good + "]",
        json.dumps({("Order_ID" if k == "order_id" else k): v for k, v in GOOD.items()}),
        line(promo="X"),
        line(total="twelve"),
        json.dumps({k: v for k, v in GOOD.items() if k != "city"}),
        line(status="lost"),
        line(items=[{"sku": "A", "qty": 0, "price": 1}]),
        "   ",
        good.replace("Berlin", "Ber\ufffdlin"),
        good + "\t" + good,
        "42",
        line(tip=None),
    ]
    assert errors_of(spark, contract, lines) == [
        (False,),
        (False, "malformed_json"),
        (False, "malformed_json"),
        (False, "malformed_json"),
        (False, "not_an_object"),
        (False, "field_case_mismatch", "missing_required_field"),
        (False, "unexpected_field"),
        (False, "type_mismatch"),
        (False, "missing_required_field"),
        (False, "constraint_violation"),
        (False, "constraint_violation"),
        (True,),
        (False, "encoding_error"),
        (False, "malformed_json"),
        (False, "not_an_object"),
        (False,),
    ]


def test_error_details_name_the_field_and_value(spark: SparkSession, contract: Contract) -> None:
    parsed = raw_frame(spark, [line(total="twelve"), line(status="lost")]).transform(
        parse_json_records, contract
    )
    errors = [r["_errors"] for r in parsed.orderBy("_row_in_block").collect()]
    assert [(e["type"], e["field"], e["detail"]) for e in errors[0]] == [
        ("type_mismatch", "total", "total expected decimal(10,2), got 'twelve'")
    ]
    assert [(e["type"], e["field"], e["detail"]) for e in errors[1]] == [
        (
            "constraint_violation",
            "status",
            "status='lost' is not one of: placed, accepted, preparing, delivered, cancelled",
        )
    ]


def test_valid_record_is_typed(spark: SparkSession, contract: Contract) -> None:
    row = raw_frame(spark, [json.dumps(GOOD)]).transform(parse_json_records, contract).first()
    assert row is not None
    assert row["items"][0].asDict() == {"sku": "SKU-0001", "qty": 2, "price": pytest.approx(3.5)}
    assert str(row["total"]) == "8.00"
    assert row["ordered_at"].isoformat() == "2026-11-01T10:00:00"
    assert row["_errors"] == []
