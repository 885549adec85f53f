"""The cheap JSON flag never passes a record the exact checks reject, in both of its forms: the JVM
flag (one streaming pass, :mod:`feedguard.parse.jvm_flag`) and the byte counts (no second parse).

Every record below is run through both: the flag of :func:`flag_json_records` and the full error list
of :func:`json_record_errors` computed for *every* record (not only the flagged ones). A record with
errors must be flagged; the good variants (which a real producer writes) must not be, or the fast
path would be no faster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import CORRUPT_COLUMN, parse_schema
from feedguard.parse.exactness import has_numbers
from feedguard.parse.json_records import (
    exact_intermediates,
    flag_json_records,
    json_options,
    json_record_errors,
)
from feedguard.parse.jvm_flag import CONF_KEY, json_text_flag

ORDER = {
    "order_id": "QB-00000001",
    "customer_id": "C000001",
    "customer_email": "a@b.example",
    "restaurant_id": "R0001",
    "items": [{"sku": "SKU-0001", "qty": 2, "price": 3.5}, {"sku": "SKU-0002", "qty": 1, "price": 1.0}],
    "subtotal": 8.0,
    "tip": 1.0,
    "total": 9.0,
    "status": "placed",
    "city": "Zürich",
    "ordered_at": "2026-11-01T10:00:00Z",
}
COMPACT = json.dumps(ORDER, separators=(",", ":"), ensure_ascii=False)
NO_TIP = {k: v for k, v in ORDER.items() if k != "tip"}


def compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


GOOD = [
    COMPACT,
    json.dumps(ORDER),  # ", " and ": " separators, \u escapes
    compact({**ORDER, "tip": None}),
    compact(NO_TIP),
    compact({k: v for k, v in ORDER.items() if k != "customer_email"}),
    compact({**ORDER, "customer_email": None, "tip": None}),
    compact({**ORDER, "items": [{"sku": "S", "qty": 1, "price": 0}]}),
    compact({**ORDER, "ti\u0070": 2.0}).replace('"tip":1.0,', ""),
    COMPACT.replace('"total":9.0', '"total":9.000'),  # trailing zeros fit the scale
    COMPACT.replace('"total":9.0', '"total":-0'),  # JSONTestSuite y_number_minus_zero
    compact({**ORDER, "city": "Bern", "status": "delivered"}),  # letters e in strings are not exponents
]
# Good records only the JVM form passes (the byte counts flag them, which costs time, not correctness).
GOOD_FOR_THE_JVM_FLAG = [
    COMPACT.replace('"order_id"', '"\\u006frder_id"'),  # an escaped key is the key
    json.dumps(ORDER, separators=(" , ", " : ")),  # a space between a key's quote and its colon
    COMPACT.replace('"Zürich"', '"\\ud83d\\ude00"'),  # an escaped surrogate pair
    COMPACT.replace('"Zürich"', '"a\\"b\\\\c\\n\\u0041"'),  # escapes in a string
    COMPACT.replace('"items":[{', '"items":[ {').replace("}],", "} ],"),
]
BAD = [
    COMPACT + " trailing",
    COMPACT + "}",
    COMPACT + " {}",
    COMPACT + "{}",
    compact(NO_TIP) + ' {"tip":5}',  # trailing object holding the only "tip" key
    compact({**NO_TIP, "Tip": None}),  # case-only key with a null value
    compact({**NO_TIP, "TIP": 1}),
    compact({**ORDER, "coupon": None}),
    compact({**NO_TIP, "coupon": None}),  # unknown key where an optional field is absent
    COMPACT[:-1] + ',"coupon" :1}',  # a space hides the key from the quote-colon count
    COMPACT[:-1] + ',"coupon"\t:1}',
    COMPACT[:-1] + ',"\\u0063oupon":1}',  # an escaped unknown key
    "[" + COMPACT + "]",
    "[" + COMPACT + "," + COMPACT + "]",
    " " + COMPACT + " x",
    compact({**ORDER, "city": "Z\ufffdrich"}),
    compact({**ORDER, "items": [{"sku": "SKU-\ufffd", "qty": 2, "price": 3.5}]}),
    COMPACT.replace("Zürich", "Z\x00rich"),
    compact({**ORDER, "tip": "one"}),
    compact({**ORDER, "items": [{"sku": "S", "qty": 2}]}),
    compact({**ORDER, "items": [None]}),
    compact({k: v for k, v in ORDER.items() if k != "city"}),
    '{"order_id": ',
    "42",
    '"a string"',
    # issue 14 item 1: repeated keys (JSONTestSuite y_object_duplicated_key*), top level and nested
    COMPACT[:-1] + ',"status":"delivered"}',
    COMPACT[:-1] + ',"city":"Zürich"}',
    COMPACT.replace('"price":3.5}', '"price":3.5,"price":9.5}'),
    COMPACT.replace('"tip":1.0,', '"tip":null,"tip":1.0,'),
    # issue 14 item 2: numbers the parser would change (more places than the scale, exponents, range)
    COMPACT.replace('"total":9.0', '"total":25.678'),
    COMPACT.replace('"price":3.5', '"price":17.884'),
    COMPACT.replace('"total":9.0', '"total":25.650000000000002'),
    COMPACT.replace('"total":9.0', '"total":1e1'),
    COMPACT.replace('"total":9.0', '"total":1.0e+2'),  # JSONTestSuite y_number_real_capital_e_pos_exp
    COMPACT.replace('"total":9.0', '"total":1E400'),  # JSONTestSuite i_number_huge_exp
    COMPACT.replace('"price":3.5', '"price":35E-1'),
    COMPACT.replace('"total":9.0', '"total":123456789012'),
    COMPACT.replace('"qty":2', '"qty":2.0'),
    COMPACT.replace('"qty":2', '"qty":3000000000'),
    compact({**ORDER, "city": "Brn"}).replace('"total":9.0', '"total":9e0'),  # one e moved
]
INVALID_UTF8 = [COMPACT.encode().replace("Zürich".encode(), b"Z\xfcrich"), COMPACT.encode() + b"\xff"]


def frame(spark: SparkSession) -> DataFrame:
    rows = [(i, text.encode()) for i, text in enumerate(GOOD + BAD + GOOD_FOR_THE_JVM_FLAG)]
    rows += [(len(rows) + i, data) for i, data in enumerate(INVALID_UTF8)]  # the last rows
    return spark.createDataFrame(rows, "_row_in_block long, bytes binary").select(
        F.lit("file:/in").alias("_source_file"),
        F.lit(0).cast("long").alias("_block_start"),
        "_row_in_block",
        F.col("bytes").cast("string").alias("_raw"),  # the bytes as they are, invalid UTF-8 included
        F.lit(None).cast("string").alias("_doc_error"),
    )


@pytest.fixture(params=["jvm", "sql"])
def flag_form(spark: SparkSession, request: pytest.FixtureRequest) -> Iterator[str]:
    """Each form of the text flag in turn (``jvm`` fails when the jar is missing: the suite tests both)."""
    spark.conf.set(CONF_KEY, request.param)
    try:
        yield str(request.param)
    finally:
        spark.conf.unset(CONF_KEY)


def test_the_cheap_flag_covers_every_record_the_exact_checks_reject(
    spark: SparkSession, flag_form: str
) -> None:
    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    assert (json_text_flag(spark, contract) is not None) == (flag_form == "jvm")
    flagged = frame(spark).transform(flag_json_records, contract)
    # the exact checks on every record: the intermediates computed unconditionally
    everything = flagged.select(
        "*",
        *[value.alias(f"{name}_all") for name, value in exact_intermediates(contract).items()],
        F.from_json("_raw", parse_schema(contract), json_options(contract)).alias("_p"),
    )
    numeric = [f.name for f in contract.fields if has_numbers(f)]
    everything = everything.select(
        "*",
        F.col("_p").getField(CORRUPT_COLUMN).alias("_corrupt_all"),
        F.struct(*[F.col("_p").getField(n).alias(n) for n in numeric]).alias("_wide_all"),
    ).drop("_p")
    for name in ("_corrupt", "_wide", *exact_intermediates(contract)):
        everything = everything.drop(name).withColumnRenamed(f"{name}_all", name)
    rows = everything.select("_row_in_block", "_maybe_bad", json_record_errors(contract).alias("e")).collect()
    by_row = {r["_row_in_block"]: (r["_maybe_bad"], [e["type"] for e in r["e"]]) for r in rows}

    good = range(len(GOOD))
    assert {i: by_row[i] for i in good} == {i: (False, []) for i in good}
    jvm_good = range(len(GOOD + BAD), len(GOOD + BAD + GOOD_FOR_THE_JVM_FLAG))
    assert {i: by_row[i][1] for i in jvm_good} == {i: [] for i in jvm_good}  # no exact error, either form
    if flag_form == "jvm":
        assert {i: by_row[i][0] for i in jvm_good} == dict.fromkeys(jvm_good, False)
    bad = [i for i in range(len(GOOD), len(rows)) if i not in jvm_good]
    assert [i for i in bad if not by_row[i][1]] == []  # each bad record has an error...
    assert [i for i in bad if not by_row[i][0]] == []  # ...and is flagged
    assert by_row[len(GOOD) + BAD.index(compact({**NO_TIP, "Tip": None}))][1] == ["field_case_mismatch"]
    assert by_row[len(rows) - 2][1] == ["encoding_error"]
