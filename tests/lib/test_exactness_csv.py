"""CSV fields that the parser would silently change are dead letters (issue 14 items 2, 3, 9).

Numbers that do not fit the contract type exactly (MealDash ``price`` ``25.678`` loaded as ``25.68``),
quotes that break RFC 4180 (Spark keeps them in the value), and lines of spaces and tabs (blank).
Quoting cases follow RFC 4180 section 2 and csv-spectrum (max-mapper/csv-spectrum: comma_in_quotes,
escaped_quotes, empty_field, quotes_and_newlines' one-line form); the bad ones are the shapes
RFC 4180 forbids: a quote inside an unquoted field, text after a closing quote, an unterminated field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, load_contract, parse_contract
from feedguard.parse.csv_records import _flagged, csv_record_errors, parse_csv_records

MD = Path("contracts/mealdash/orders.v1.yaml")
GOOD = "MD0000001,Falafel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"
RFC_GOOD = [
    GOOD,
    GOOD.replace("Falafel", '"Burger ""Deluxe"""'),  # csv-spectrum escaped_quotes
    GOOD.replace("Falafel", '"Sushi, 12 pcs"'),  # csv-spectrum comma_in_quotes
    GOOD.replace("9.50,,card,", '9.50,"","card",'),  # empty quoted field, quoted value
    GOOD.replace("9.50", "9.500"),  # trailing zeros fit the scale
    GOOD.replace("9.50", "9"),
]
QUOTING_BAD = [
    GOOD.replace("Falafel", '"Fala"fel'),  # text after the closing quote
    GOOD.replace("Falafel", 'Fala"fel'),  # a quote inside an unquoted field
    GOOD.replace("Falafel", '"Falafel" '),  # a space after the closing quote
    GOOD.replace("Falafel", '"Fa""la"fel"'),
]
NUMBERS_BAD = [
    GOOD.replace("9.50", "25.678"),
    GOOD.replace("9.50", "1e1"),
    GOOD.replace("9.50", "1.0E+2"),
    GOOD.replace("9.50", "123456789012"),
    GOOD.replace(",2,", ",2.5,"),
    GOOD.replace(",2,", ",3000000000,"),
]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(MD)


def variant(csv: dict[str, Any] | None = None, **field_options: dict[str, Any]) -> Contract:
    data = yaml.safe_load(MD.read_text())
    data["csv"].update(csv or {})
    for spec in data["fields"]:
        spec.update(field_options.get(spec["name"], {}))
    return parse_contract(data, MD)


def raw_frame(spark: SparkSession, lines: list[str]) -> DataFrame:
    rows = [("file:/in.csv", 1, i, text, None, None) for i, text in enumerate(lines)]  # no header line
    return spark.createDataFrame(
        rows,
        "_source_file string, _block_start long, _row_in_block long, _raw string, _raw_bytes binary,"
        " _doc_error string",
    )


def parse(spark: SparkSession, contract: Contract, lines: list[str]) -> list[Any]:
    return raw_frame(spark, lines).transform(parse_csv_records, contract).orderBy("_row_in_block").collect()


def errors(row: Any) -> list[tuple[str, str, str]]:
    return [(e["type"], e["field"], e["detail"]) for e in row["_errors"]]


def test_rfc4180_quoting_is_valid(spark: SparkSession, contract: Contract) -> None:
    rows = parse(spark, contract, RFC_GOOD)
    assert [errors(r) for r in rows] == [[]] * len(RFC_GOOD)
    assert [r["menu_id"] for r in rows[:4]] == ["Falafel", 'Burger "Deluxe"', "Sushi, 12 pcs", "Falafel"]
    assert str(rows[4]["price"]) == "9.50"


def test_quotes_that_break_rfc4180_are_malformed_quoting(spark: SparkSession, contract: Contract) -> None:
    rows = parse(spark, contract, QUOTING_BAD)
    assert [[(t, f) for t, f, _ in errors(r)] for r in rows] == [[("malformed_quoting", "menu_id")]] * 4
    assert errors(rows[0])[0][2].endswith(
        """the field starts '"Fala"fel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00'"""
    )


def test_a_contract_may_read_quotes_leniently(spark: SparkSession) -> None:
    rows = parse(spark, variant(csv={"lenient_quotes": True}), QUOTING_BAD[:2])
    assert [(errors(r), r["menu_id"]) for r in rows] == [([], '"Fala"fel'), ([], 'Fala"fel')]


def test_numbers_that_do_not_fit_the_type_are_type_mismatches(
    spark: SparkSession, contract: Contract
) -> None:
    rows = parse(spark, contract, NUMBERS_BAD)
    assert errors(rows[0]) == [
        (
            "type_mismatch",
            "price",
            "price expected decimal(10,2), got '25.678': more than 2 decimal places"
            " (the contract does not allow rounding)",
        )
    ]
    assert errors(rows[1]) == [
        (
            "type_mismatch",
            "price",
            "price expected decimal(10,2), got '1e1': a number with an exponent, which the contract"
            " does not allow (allow_exponent)",
        )
    ]
    assert [[(t, f) for t, f, _ in errors(r)] for r in rows[2:]] == [
        [("type_mismatch", "price")],
        [("type_mismatch", "price")],
        [("type_mismatch", "quantity")],
        [("type_mismatch", "quantity")],
    ]


def test_a_contract_may_allow_rounding(spark: SparkSession) -> None:
    relaxed = variant(price={"rounding": "half_up"})
    rows = parse(spark, relaxed, [GOOD.replace("9.50", "25.675"), GOOD, GOOD.replace("9.50", "1e1")])
    assert [(errors(r)[:1], str(r["price"]), r["_rounded"]) for r in rows[:2]] == [
        ([], "25.68", 1),
        ([], "9.50", 0),
    ]
    assert [(t, f) for t, f, _ in errors(rows[2])] == [("type_mismatch", "price")]  # exponents stay out


def test_lines_of_spaces_and_tabs_are_blank(spark: SparkSession, contract: Contract) -> None:
    rows = parse(spark, contract, [" \t ", "\t", "  ", GOOD])
    assert [(r["_blank"], errors(r)) for r in rows] == [(True, []), (True, []), (True, []), (False, [])]


def test_the_cheap_csv_flag_covers_every_record_the_exact_checks_reject(
    spark: SparkSession, contract: Contract
) -> None:
    lines = [*RFC_GOOD, *QUOTING_BAD, *NUMBERS_BAD]
    everything = raw_frame(spark, lines).transform(_flagged, contract)
    rows = everything.select("_row_in_block", "_maybe_bad", csv_record_errors(contract).alias("e"))
    by_row = {r[0]: (r[1], len(r[2])) for r in rows.orderBy("_row_in_block").collect()}
    good = range(len(RFC_GOOD))
    assert [by_row[i][1] for i in good] == [0] * len(good)
    assert [i for i in good if by_row[i][0]] == [4]  # 9.500: more characters than the scale (a byte test)
    assert [i for i in by_row if i not in good and by_row[i] != (True, 1)] == []
    assert everything.where(F.col("_maybe_bad")).count() == len(lines) - len(RFC_GOOD) + 1
