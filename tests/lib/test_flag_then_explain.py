"""The job's two-step parse (flag, cache, explain the flagged records) equals the one-step parsers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.parse.csv_records import SCRATCH as CSV_SCRATCH
from feedguard.parse.csv_records import csv_record_errors, flag_csv_records, parse_csv_records
from feedguard.parse.flags import split_flagged
from feedguard.parse.json_records import SCRATCH as JSON_SCRATCH
from feedguard.parse.json_records import flag_json_records, json_record_errors, parse_json_records
from feedguard.parse.measure import keep_raw_of_flagged_records

ORDER = {
    "order_id": "QB-00000001",
    "customer_id": "C000001",
    "restaurant_id": "R0001",
    "items": [{"sku": "SKU-0001", "qty": 2, "price": 3.5}],
    "subtotal": 7.0,
    "tip": 1.0,
    "total": 8.0,
    "status": "placed",
    "city": "Berlin",
    "ordered_at": "2026-11-01T10:00:00Z",
}
JSON_LINES = [
    json.dumps(ORDER),
    json.dumps(ORDER) + " trailing",
    json.dumps({**ORDER, "Order_ID": "x"}),
    json.dumps({**ORDER, "coupon": "X"}),
    json.dumps({**ORDER, "tip": "one"}),
    json.dumps({**ORDER, "status": "lost"}),
    json.dumps({k: v for k, v in ORDER.items() if k != "city"}),
    json.dumps({**ORDER, "items": [{"sku": "S", "qty": 0, "price": 1.0}]}),
    "[1, 2]",
    '{"order_id": ',
    "",
    "   ",
    None,  # a Kafka tombstone has no text at all
    json.dumps(ORDER).replace("Berlin", "Ber\x00lin"),
    json.dumps(ORDER)[:-1] + ', "status": "delivered"}',
    json.dumps(ORDER).replace('"total": 8.0', '"total": 25.678'),
    json.dumps(ORDER).replace('"price": 3.5', '"price": 1e1'),
    " \t ",
]
CSV_HEADER = (
    "order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,customer_phone,order_datetime"
)
CSV_GOOD = "MD0000001,Falafel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"
CSV_LINES = [
    CSV_HEADER,
    CSV_GOOD,
    CSV_GOOD + ",EXTRA",
    "MD0000001,Falafel,2,9.50",
    CSV_GOOD.replace(",2,", ",two,"),
    CSV_GOOD.replace("Falafel", '"Unbalanced'),
    CSV_GOOD.replace("card", "bitcoin"),
    "",
    CSV_GOOD.replace("9.50", "25.678"),
    CSV_GOOD.replace("Falafel", '"Fala"fel'),
    " \t ",
]
COMPARED = ("_row_in_block", "_blank", "_header", "_errors")


def raw_frame(spark: SparkSession, lines: Sequence[str | None]) -> DataFrame:
    rows = [("file:/in", 0, i, text, None, None) for i, text in enumerate(lines)]
    return spark.createDataFrame(
        rows,
        "_source_file string, _block_start long, _row_in_block long, _raw string, _raw_bytes binary,"
        " _doc_error string",
    )


def explain_flagged(cached: DataFrame, record_errors: Column, scratch: tuple[str, ...]) -> DataFrame:
    clean, suspect = split_flagged(cached, record_errors, scratch)
    return clean.unionByName(suspect)


def rows_of(df: DataFrame, fields: Sequence[str]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in df.select(*COMPARED, *fields).orderBy("_row_in_block").collect()]


def test_json_two_step_parse_equals_the_one_step_parser(spark: SparkSession) -> None:
    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    raw = raw_frame(spark, JSON_LINES)
    cached = raw.transform(flag_json_records, contract).transform(keep_raw_of_flagged_records).cache()
    try:
        two_step = explain_flagged(cached, json_record_errors(contract), JSON_SCRATCH)
        one_step = raw.transform(parse_json_records, contract)
        assert rows_of(two_step, contract.field_names) == rows_of(one_step, contract.field_names)
        assert two_step.count() == len(JSON_LINES)  # every row on exactly one side, tombstone included
        assert not set(JSON_SCRATCH) & set(two_step.columns)
        kept = {r["_row_in_block"]: r["_raw"] for r in two_step.select("_row_in_block", "_raw").collect()}
        assert kept[0] is None  # a valid record's raw text is not cached
        assert kept[1] == JSON_LINES[1]  # a bad record's is, exactly
        flagged = [r[0] for r in cached.where(F.col("_maybe_bad")).select("_row_in_block").collect()]
        assert 0 not in flagged and 1 in flagged
    finally:
        cached.unpersist()


def test_csv_two_step_parse_equals_the_one_step_parser(spark: SparkSession) -> None:
    contract = load_contract("contracts/mealdash/orders.v1.yaml")
    raw = raw_frame(spark, CSV_LINES)
    cached = raw.transform(flag_csv_records, contract).transform(keep_raw_of_flagged_records).cache()
    try:
        two_step = explain_flagged(cached, csv_record_errors(contract), CSV_SCRATCH)
        one_step = raw.transform(parse_csv_records, contract)
        assert rows_of(two_step, contract.field_names) == rows_of(one_step, contract.field_names)
        error_types = [r[3][0]["type"] if r[3] else None for r in rows_of(two_step, [])]
        assert error_types == [
            None,
            None,
            "extra_columns",
            "missing_columns",
            "type_mismatch",
            "malformed_csv",
            "constraint_violation",
            None,
            "type_mismatch",
            "malformed_quoting",
            None,
        ]
    finally:
        cached.unpersist()
