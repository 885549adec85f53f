"""The JVM form of the JSON text flag (``jvm/src/feedguard/jvm``): its descriptor, its choice, and the
records it must flag or pass, called alone (the whole flag is checked against the exact errors in
test_json_shape.py, the whole parse in the fault corpus and the fuzz tests)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, load_contract
from feedguard.errors import UsageError
from feedguard.parse.jvm_flag import CONF_KEY, call_flag, descriptor, json_text_flag

QUICKBITE = "contracts/quickbite/orders.v1.yaml"


def contract_of(fields: list[dict[str, Any]]) -> Contract:
    return Contract.model_validate(
        {
            "source": "partner",
            "dataset": "orders",
            "version": 1,
            "effective_from": "2026-01-01",
            "owner": {"name": "Partner", "email": "data@partner.example"},
            "format": "json",
            "fields": fields,
        }
    )


def test_the_descriptor_names_every_field_with_the_json_type_it_expects() -> None:
    assert descriptor(load_contract(QUICKBITE)) == (
        "struct{order_id:text,customer_id:text,customer_email:text,restaurant_id:text,"
        "items:array[struct{sku:text,qty:integer,price:number}],subtotal:number,tip:number,total:number,"
        "status:text,city:text,ordered_at:text}"
    )
    nested = contract_of(
        [
            {"name": "at", "type": "date"},
            {"name": "n", "type": "long"},
            {"name": "ok", "type": "boolean"},
            {"name": "x", "type": "double"},
            {"name": "tags", "type": "array", "items": {"name": "tag", "type": "string"}},
            {"name": "geo", "type": "struct", "fields": [{"name": "lat", "type": "double"}]},
        ]
    )
    assert descriptor(nested) == (
        "struct{at:text,n:long,ok:boolean,x:number,tags:array[text],geo:struct{lat:number}}"
    )


def test_an_object_of_over_64_fields_falls_back_to_the_byte_counts(spark: SparkSession) -> None:
    wide = contract_of([{"name": f"f{i}", "type": "string"} for i in range(65)])
    assert descriptor(wide) is None
    assert json_text_flag(spark, wide) is None
    spark.conf.set(CONF_KEY, "jvm")
    try:
        with pytest.raises(UsageError, match="over 64 fields"):
            json_text_flag(spark, wide)
    finally:
        spark.conf.unset(CONF_KEY)


def test_an_unknown_choice_is_a_usage_error(spark: SparkSession) -> None:
    spark.conf.set(CONF_KEY, "fast")
    try:
        with pytest.raises(UsageError, match="must be auto, jvm or sql, not 'fast'"):
            json_text_flag(spark, load_contract(QUICKBITE))
    finally:
        spark.conf.unset(CONF_KEY)


ORDER = {
    "order_id": "QB-00000001",
    "customer_id": "C000001",
    "customer_email": None,
    "restaurant_id": "R0001",
    "items": [{"sku": "SKU-0001", "qty": 2, "price": 3.5}],
    "subtotal": 7,
    "tip": 0.5,
    "total": 7.5,
    "status": "placed",
    "city": "Zürich",
    "ordered_at": "2026-11-01T10:00:00Z",
}
TEXT = json.dumps(ORDER, separators=(",", ":"), ensure_ascii=False)

PASSED = [
    TEXT,
    json.dumps(ORDER),  # spaces after separators, \\u00fc escaped
    json.dumps(ORDER, indent=None, separators=(" , ", " : ")),
    TEXT.replace('"Zürich"', '"\\ud83d\\ude00"'),  # an escaped surrogate pair
    TEXT.replace('"Zürich"', '"😀"'),
    TEXT.replace('"order_id"', '"\\u006frder_id"'),  # an escaped key is still the key
    json.dumps({k: v for k, v in ORDER.items() if k != "tip"}),  # an absent optional field
]
FLAGGED = [
    TEXT + " ",  # anything after the object
    " " + TEXT,
    TEXT + "{}",
    TEXT[:-1] + ',"coupon":1}',  # an unknown key
    TEXT[:-1] + ',"City":"Bern"}',  # a case-only key
    TEXT[:-1] + ',"city":"Bern"}',  # a repeated key
    TEXT.replace('"qty":2', '"qty":2,"qty":3'),  # repeated inside an array's object
    TEXT.replace('"qty":2', '"qty":2,"note":"x"'),  # unknown inside an array's object
    TEXT.replace('"qty":2', '"qty":2.0'),  # a float for an integer
    TEXT.replace('"qty":2', '"qty":3000000000'),  # a long for an integer
    TEXT.replace('"total":7.5', '"total":7.5e0'),  # an exponent
    TEXT.replace('"total":7.5', '"total":"7.5"'),  # a quoted decimal
    TEXT.replace('"Zürich"', "123"),  # a number for a string
    TEXT.replace('"Zürich"', "true"),
    TEXT.replace('"Zürich"', '{"name":"Zürich"}'),
    TEXT.replace('"2026-11-01T10:00:00Z"', "1795000000"),  # epoch seconds for a timestamp
    TEXT.replace('"Zürich"', '"\\ud800"'),  # a lone surrogate escape
    TEXT.replace('"Zürich"', '"Z\\u0000rich"'),  # an escaped NUL
    TEXT.replace("Zürich", "Z\x00rich"),
    TEXT.replace("Zürich", "Z\ufffdrich"),
    TEXT.replace('"items":[{', '"items":[null,{'),  # a null element
    TEXT.replace('"items":[', '"items":{"a":').replace("}],", "}},"),  # an object for an array
    TEXT.replace('"total":7.5', '"total":NaN'),
    TEXT.replace('"Zürich"', "'Zürich'"),  # single quotes
    TEXT.replace("Zürich", "Z\trich"),  # a raw control character
    TEXT.replace('"total":7.5', '"total":07.5'),  # a leading zero
    TEXT[:-1],  # cut short
    "[" + TEXT + "]",
    "{}{}",
    "",
]


def test_the_jvm_flag_passes_what_a_producer_writes_and_flags_every_other_text(spark: SparkSession) -> None:
    spark.conf.set(CONF_KEY, "jvm")
    try:
        name = json_text_flag(spark, load_contract(QUICKBITE))
    finally:
        spark.conf.unset(CONF_KEY)
    assert name is not None
    rows = [(i, text) for i, text in enumerate(PASSED + FLAGGED)] + [(len(PASSED + FLAGGED), None)]
    frame = spark.createDataFrame(rows, "i int, _raw string")
    result = {
        r["i"]: r["flag"] for r in frame.select("i", call_flag(name, F.col("_raw")).alias("flag")).collect()
    }
    assert {i: result[i] for i in range(len(PASSED))} == dict.fromkeys(range(len(PASSED)), False)
    assert [i for i in range(len(PASSED), len(rows)) if not result[i]] == []  # None: the NULL text
