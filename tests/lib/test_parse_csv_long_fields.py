"""A malformed CSV record with a long quoted field: its field count no longer overflows Java's regex stack."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.parse.csv_records import parse_csv_records

GOOD = "MD0000001,Falafel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"


@pytest.mark.parametrize(
    "menu",
    [
        '"' + "x" * 100_000 + '"',  # (?:[^"]|"")* recursed once per character: StackOverflowError at 10,000
        '"' + 'ab""' * 20_000 + '"',  # many doubled quotes
    ],
    ids=["long_field", "many_doubled_quotes"],
)
def test_field_count_of_a_long_quoted_field_on_a_bad_record(spark: SparkSession, menu: str) -> None:
    contract = load_contract("contracts/mealdash/orders.v1.yaml")
    lines = [GOOD.replace("Falafel", menu) + ",EXTRA", GOOD.replace("Falafel", menu)]
    rows = [("file:/in.csv", 0, i, text, None) for i, text in enumerate(lines, start=1)]
    raw = spark.createDataFrame(
        rows, "_source_file string, _block_start long, _row_in_block long, _raw string, _doc_error string"
    )
    parsed = raw.transform(parse_csv_records, contract).orderBy("_row_in_block")
    errors = parsed.select(F.transform("_errors", lambda e: e.getField("detail")).alias("d")).collect()
    assert [r["d"] for r in errors] == [["10 fields, the contract has 9"], []]
