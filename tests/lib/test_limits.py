"""Caps on hostile input: the record-level checks and what a contract may override.

Whole runs that meet each cap (a gzip bomb, a record too large, a CSV line with 30,009 fields, JSON
nested too deep) are in ``tests/jobs/test_bytes_and_encodings.py``; the gzip caps in test_file_checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.errors import ContractError
from feedguard.ingest.limit_checks import csv_field_count, json_nesting_depth, record_limit_error

MD = Path("contracts/mealdash/orders.v1.yaml")
LONG_QUOTED = '"' + "x," * 500_000 + '"'  # a 1 MB quoted field: a regex with a repeated group overflows


def test_csv_fields_are_counted_outside_quotes_without_a_recursive_regex(spark: SparkSession) -> None:
    lines = ['a,"x""y",b', 'a,"x,y",b', "", "," * 30_000, f"{LONG_QUOTED},1", 'a,"open,b']
    frame = spark.createDataFrame([(line,) for line in lines], "line string")
    counts = [r[0] for r in frame.select(csv_field_count(F.col("line"), ",", '"')).collect()]
    assert counts == [3, 3, 1, 30_001, 2, 2]


def test_json_nesting_depth_ignores_brackets_in_strings(spark: SparkSession) -> None:
    texts = [
        '{"a":[1,{"b":"]]]\\"[[[{"}]}',
        "[" * 1500 + "]" * 1500,
        '{"a":"\\\\"}',
        '{"a":"' + "[" * 100_000 + '"}',
    ]
    frame = spark.createDataFrame([(t,) for t in texts], "text string")
    assert [r[0] for r in frame.select(json_nesting_depth(F.col("text"))).collect()] == [3, 1500, 1, 1]


def test_a_record_over_a_cap_gets_a_typed_error_and_a_short_one_is_never_counted(
    spark: SparkSession, tmp_path: Path
) -> None:
    data = {**yaml.safe_load(MD.read_text()), "limits": {"max_record_bytes": 100, "max_csv_columns": 4}}
    path = tmp_path / "mealdash" / "orders.v1.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    contract = load_contract(path)
    lines = ["a,b,c,d", "a,b,c,d,e", '"a,b,c,d,e"', "x" * 101]
    frame = spark.createDataFrame([(line,) for line in lines], "line string")
    errors = [
        r[0]
        for r in frame.select(record_limit_error(F.octet_length("line"), F.col("line"), contract)).collect()
    ]
    assert errors == [
        None,
        "too_many_columns: 5 fields, above the cap of 4 (limits.max_csv_columns); the line is not parsed",
        None,
        "record_too_large: the record is 101 bytes, above the cap of 100 bytes (limits.max_record_bytes); "
        "it is not parsed, its raw bytes are kept in full",
    ]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_csv_columns": 30_000}, "limits.max_csv_columns': Input should be less than or equal to 20480"),
        (
            {"max_nesting_depth": 2000},
            "limits.max_nesting_depth': Input should be less than or equal to 1000",
        ),
        ({"max_record_bytes": 0}, "limits.max_record_bytes': Input should be greater than or equal to 1"),
        ({"max_rows": 5}, "limits.max_rows': Extra inputs are not permitted"),
    ],
)
def test_a_contract_may_lower_the_parser_caps_but_not_raise_them(
    tmp_path: Path, limits: dict[str, int], message: str
) -> None:
    path = tmp_path / "mealdash" / "orders.v1.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({**yaml.safe_load(MD.read_text()), "limits": limits}, sort_keys=False))
    with pytest.raises(ContractError, match=message):
        load_contract(path)
