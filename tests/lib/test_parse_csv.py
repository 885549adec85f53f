"""CSV parsing against the MealDash contract: quoting, field counts, casts, header line."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, load_contract
from feedguard.parse.csv_records import parse_csv_records

HEADER = (
    "order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,customer_phone,order_datetime"
)
GOOD = "MD0000001,Falafel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("contracts/mealdash/orders.v1.yaml")


def raw_frame(spark: SparkSession, lines: list[str]) -> DataFrame:
    rows = [("file:/in.csv", 0, i, text, None) for i, text in enumerate(lines)]
    return spark.createDataFrame(
        rows, "_source_file string, _block_start long, _row_in_block long, _raw string, _doc_error string"
    )


def test_spark_default_escape_keeps_rfc4180_doubled_quotes(spark: SparkSession) -> None:
    """Pin the reason the contract sets escape='\"': Spark's default escape is a backslash."""
    df = spark.createDataFrame([('1,"Burger ""Deluxe""",2',)], "raw string")
    default = df.select(F.from_csv("raw", "a string, b string, c string").alias("p")).first()
    rfc = df.select(F.from_csv("raw", "a string, b string, c string", {"escape": '"'}).alias("p")).first()
    assert default is not None and rfc is not None
    assert default["p"]["b"] == '"Burger ""Deluxe"""'
    assert rfc["p"]["b"] == 'Burger "Deluxe"'


def test_each_fault_gets_its_error_type(spark: SparkSession, contract: Contract) -> None:
    lines = [
        "\ufeff" + HEADER,
        GOOD,
        GOOD.replace("Falafel", '"Burger ""Deluxe"""'),
        GOOD.replace("Falafel", '"Sushi, 12 pcs"'),
        GOOD + ",EXTRA",
        "MD0000001,Falafel,2,9.50",
        GOOD.replace(",2,", ",two,"),
        GOOD.replace("Falafel", '"Unbalanced'),
        GOOD.replace("card", "bitcoin"),
        GOOD.replace("MD0000001", ""),
        GOOD.replace("2026-11-28 10:00:00", "28/11/2026"),
        "",
        GOOD.replace("Falafel", "Fala\x00fel"),
    ]
    parsed = raw_frame(spark, lines).transform(parse_csv_records, contract)
    rows = parsed.select(
        "_row_in_block", "_header", "_blank", F.transform("_errors", lambda e: e.getField("type")).alias("t")
    ).orderBy("_row_in_block")
    assert [(r["_header"], r["_blank"], *r["t"]) for r in rows.collect()] == [
        (True, False),
        (False, False),
        (False, False),
        (False, False),
        (False, False, "extra_columns"),
        (False, False, "missing_columns"),
        (False, False, "type_mismatch"),
        (False, False, "malformed_csv"),
        (False, False, "constraint_violation"),
        (False, False, "missing_required_field"),
        (False, False, "type_mismatch"),
        (False, True),
        (False, False, "encoding_error"),
    ]


def test_valid_rows_are_cast_to_contract_types(spark: SparkSession, contract: Contract) -> None:
    parsed = raw_frame(spark, [HEADER, GOOD.replace("Falafel", '"Burger ""Deluxe"""')]).transform(
        parse_csv_records, contract
    )
    row = parsed.where(~F.col("_header")).first()
    assert row is not None
    assert (row["menu_id"], row["quantity"], str(row["price"]), row["promotion_id"]) == (
        'Burger "Deluxe"',
        2,
        "9.50",
        None,
    )
    assert row["order_datetime"].isoformat() == "2026-11-28T10:00:00"


def test_type_error_names_field_and_value(spark: SparkSession, contract: Contract) -> None:
    parsed = raw_frame(spark, [HEADER, GOOD.replace(",2,", ",two,")]).transform(parse_csv_records, contract)
    row = parsed.where(~F.col("_header")).first()
    assert row is not None
    assert [(e["type"], e["field"], e["detail"]) for e in row["_errors"]] == [
        ("type_mismatch", "quantity", "quantity expected integer, got 'two'")
    ]
