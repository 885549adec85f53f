"""JSON records whose values the parser would silently change are dead letters (issue 14 items 1, 2, 9).

Repeated keys (Spark keeps the last value), decimals with more places than the scale (Spark rounds),
exponents where the contract has none, numbers beyond a type's range, nesting beyond the parser's cap;
lines of spaces and tabs are blank lines. Foreign inputs from JSONTestSuite (nst/JSONTestSuite):
``n_object_same_key`` style repeated keys, ``1E400``, ``-0``, ``1.0e+2``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import DataFrame, SparkSession

from feedguard.contracts.contract import Contract, load_contract, parse_contract
from feedguard.parse.json_records import parse_json_records

QB = Path("contracts/quickbite/orders.v1.yaml")
ORDER: dict[str, Any] = {
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
COMPACT = json.dumps(ORDER, separators=(",", ":"))


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(QB)


def variant(**field_options: dict[str, Any]) -> Contract:
    """The QuickBite contract with extra options on top-level fields (``total={"rounding": "half_up"}``)."""
    data = yaml.safe_load(QB.read_text())
    for spec in data["fields"]:
        spec.update(field_options.get(spec["name"], {}))
    return parse_contract(data, QB)


def raw_frame(spark: SparkSession, lines: list[str]) -> DataFrame:
    rows = [("file:/in.jsonl", 0, i, text, None, None) for i, text in enumerate(lines)]
    return spark.createDataFrame(
        rows,
        "_source_file string, _block_start long, _row_in_block long, _raw string, _raw_bytes binary,"
        " _doc_error string",
    )


def parse(spark: SparkSession, contract: Contract, lines: list[str]) -> list[Any]:
    return raw_frame(spark, lines).transform(parse_json_records, contract).orderBy("_row_in_block").collect()


def errors(row: Any) -> list[tuple[str, str | None, str]]:
    return [(e["type"], e["field"], e["detail"]) for e in row["_errors"]]


def with_value(key: str, text: str) -> str:
    """The compact order with the JSON text of ``key``'s value replaced verbatim."""
    current = json.dumps(ORDER[key], separators=(",", ":"))
    return COMPACT.replace(f'"{key}":{current}', f'"{key}":{text}', 1)


def test_a_repeated_key_is_a_duplicate_key_dead_letter(spark: SparkSession, contract: Contract) -> None:
    repeated = COMPACT[:-1] + ',"status":"delivered"}'
    nested = COMPACT.replace('"price":3.5}', '"price":3.5,"price":9.5}')
    both = COMPACT.replace('"city":"Berlin"', '"city":"Berlin","city":"Bern"') + ""
    rows = parse(spark, contract, [COMPACT, repeated, nested, both])
    assert errors(rows[0]) == []
    assert errors(rows[1]) == [
        (
            "duplicate_key",
            "status",
            "keys repeated in one object (the parser would keep only the last value): status",
        )
    ]
    assert [(t, f) for t, f, _ in errors(rows[2])] == [("duplicate_key", "items[].price")]
    assert [(t, f) for t, f, _ in errors(rows[3])] == [("duplicate_key", "city")]


def test_jsontestsuite_same_key_objects(spark: SparkSession, contract: Contract) -> None:
    """JSONTestSuite's y_object_duplicated_key / y_object_duplicated_key_and_value shapes inside a record."""
    same_value = COMPACT[:-1] + ',"city":"Berlin"}'
    rows = parse(spark, contract, [same_value])
    assert [(t, f) for t, f, _ in errors(rows[0])] == [("duplicate_key", "city")]


def test_decimals_with_more_places_than_the_scale_are_type_mismatches(
    spark: SparkSession, contract: Contract
) -> None:
    lines = [
        with_value("total", "25.678"),
        with_value("items", '[{"sku":"SKU-0001","qty":2,"price":17.884}]'),
        with_value("total", "17.880"),  # trailing zeros fit
        with_value("total", "-0"),  # JSONTestSuite y_number_minus_zero
        with_value("total", "25.650000000000002"),  # float noise is not 25.65
    ]
    rows = parse(spark, contract, lines)
    assert errors(rows[0]) == [
        (
            "type_mismatch",
            "total",
            "total expected decimal(10,2), got '25.678': more than 2 decimal places"
            " (the contract does not allow rounding)",
        )
    ]
    assert errors(rows[1]) == [
        (
            "type_mismatch",
            "items[].price",
            "items[].price expected decimal(10,2), got '17.884': more than 2 decimal places"
            " (the contract does not allow rounding)",
        )
    ]
    assert (errors(rows[2]), str(rows[2]["total"])) == ([], "17.88")
    assert (errors(rows[3]), str(rows[3]["total"])) == ([], "0.00")
    assert [(t, f) for t, f, _ in errors(rows[4])] == [("type_mismatch", "total")]


def test_exponents_and_out_of_range_numbers_are_type_mismatches(
    spark: SparkSession, contract: Contract
) -> None:
    lines = [
        with_value("total", "1e1"),
        with_value("total", "1.0e+2"),  # JSONTestSuite y_number_real_capital_e_pos_exp style
        with_value("total", "1E400"),  # JSONTestSuite i_number_huge_exp
        with_value("total", "123456789012"),  # beyond decimal(10,2)
        with_value("items", '[{"sku":"SKU-0001","qty":2.0,"price":3.5}]'),
        with_value("items", '[{"sku":"SKU-0001","qty":3000000000,"price":3.5}]'),
    ]
    rows = parse(spark, contract, lines)
    assert errors(rows[0]) == [
        (
            "type_mismatch",
            "total",
            "total expected decimal(10,2), got '1e1': a number with an exponent, which the contract"
            " does not allow (allow_exponent)",
        )
    ]
    assert [(t, f) for t, f, _ in errors(rows[1])] == [("type_mismatch", "total")]
    assert "'1.0e+2'" in errors(rows[1])[0][2]
    for row in rows[2:4]:
        assert [(t, f) for t, f, _ in errors(row)] == [("type_mismatch", "total")], errors(row)
    for row in rows[4:]:
        assert [t for t, _, _ in errors(row)] == ["type_mismatch"], errors(row)


def test_a_contract_may_allow_rounding_and_exponents(spark: SparkSession) -> None:
    relaxed = variant(total={"rounding": "half_up", "allow_exponent": True})
    rows = parse(
        spark,
        relaxed,
        [with_value("total", "25.675"), with_value("total", "1e1"), COMPACT, with_value("tip", "1.005")],
    )
    assert [(errors(r), str(r["total"]), r["_rounded"]) for r in rows[:3]] == [
        ([], "25.68", 1),
        ([], "10.00", 0),
        ([], "8.00", 0),
    ]
    assert [(t, f) for t, f, _ in errors(rows[3])] == [("type_mismatch", "tip")]  # only total may round


def test_too_deep_nesting_names_the_limit(spark: SparkSession, contract: Contract) -> None:
    cap = contract.limits.max_nesting_depth
    deep = with_value("city", "[" * (cap + 5) + "]" * (cap + 5))
    rows = parse(spark, contract, [deep])
    assert errors(rows[0]) == [
        (
            "too_deeply_nested",
            None,
            f"the JSON nests deeper than {cap} levels (limits.max_nesting_depth)",
        )
    ]


def test_lines_of_spaces_and_tabs_are_blank(spark: SparkSession, contract: Contract) -> None:
    rows = parse(spark, contract, [" \t ", "\t", "\t\r", COMPACT])
    assert [(r["_blank"], errors(r)) for r in rows] == [(True, []), (True, []), (True, []), (False, [])]
