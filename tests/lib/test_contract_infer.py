"""Contract inference without a JVM: parsing, type choice, names, suggestions, the YAML (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedguard.contracts.contract import Contract, parse_contract
from feedguard.contracts.infer_fields import InferredFields, infer_fields
from feedguard.contracts.infer_parse import RecordError, parse_json_record, split_csv_line
from feedguard.contracts.infer_profile import RawRecord, SampleProfile, profile_csv, profile_json
from feedguard.contracts.infer_report import SampleSummary, build_contract, contract_yaml


def _json(*objects: Any, raw: tuple[str, ...] = ()) -> SampleProfile:
    lines = [json.dumps(o) for o in objects] + list(raw)
    return profile_json(RawRecord("f.jsonl", i, t, first=i == 1) for i, t in enumerate(lines, start=1))


def _csv(*lines: str, delimiter: str = ",") -> SampleProfile:
    return profile_csv((RawRecord("f.csv", i, t, first=i == 1) for i, t in enumerate(lines, 1)), delimiter)


def _contract(profile: SampleProfile) -> tuple[Contract, InferredFields, str]:
    inferred = infer_fields(profile)
    summary = SampleSummary(profile, ["f.jsonl" if profile.format == "json" else "f.csv"])
    contract = build_contract("acme", "orders", inferred, summary)
    return contract, inferred, contract_yaml(contract, inferred, summary)


def _types(profile: SampleProfile) -> dict[str, str]:
    return {f.name: f.type for f in infer_fields(profile).specs}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1', "malformed JSON"),
        ('{"a": 1} trailing', "malformed JSON: Extra data"),
        ('{"a": 1}}', "malformed JSON: Extra data"),
        ('[{"a": 1}]', "not a JSON object: a top-level array"),
        ('"text"', "not a JSON object: a top-level str"),
        ('{"a": 1, "a": 2}', "repeated key 'a'"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("{'a': 1}", "malformed JSON"),
    ],
)
def test_strict_json_parse_names_the_reason(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason.replace("(", r"\(")):
        parse_json_record(text)


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ('a,"b, c",d', ["a", "b, c", "d"]),
        ('"say ""hi""",,x', ['say "hi"', "", "x"]),
        ("a;b", ["a;b"]),
        ("", [""]),
    ],
)
def test_csv_lines_split_as_rfc_4180(line: str, cells: list[str]) -> None:
    assert split_csv_line(line) == cells


@pytest.mark.parametrize(
    ("line", "reason"),
    [('a,"open', "unbalanced quote"), ('"a"b,c', "text after a closing quote"), ('a,b"c', "a quote inside")],
)
def test_broken_csv_quoting_is_unparseable(line: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        split_csv_line(line)


def test_unparseable_records_are_reported_and_do_not_shape_the_schema() -> None:
    profile = _json({"id": 1}, {"id": 2}, raw=('{"id": "x", "extra": [1', "", '["a"]'))
    assert profile.parsed == 2 and profile.blank == 1
    assert [(str(u.location), u.reason.split(":")[0]) for u in profile.unparseable] == [
        ("f.jsonl:3", "malformed JSON"),
        ("f.jsonl:5", "not a JSON object"),
    ]
    assert _types(profile) == {"id": "integer"}


def test_records_spark_rejected_are_unparseable_too() -> None:
    records = [RawRecord("f.jsonl", 1, '{"id": 1}'), RawRecord("f.jsonl", 2, '{"id": 2}')]
    profile = profile_json(records, {records[1].location: "Spark's PERMISSIVE JSON parse rejects it"})
    assert profile.parsed == 1 and profile.unparseable[0].reason.startswith("Spark's")


def test_money_is_decimal_measurements_double_whole_numbers_integers() -> None:
    rows = [
        {
            "price": p,
            "qty": q,
            "lat": 52.520008 + q,
            "big": 3_000_000_000 + q,
            "huge": 10**20,
        }
        for p, q in ((12.5, 1), (3, 2), (7.25, 3), (99999.99, 4))
    ]
    types = _types(_json(*rows))
    assert types == {
        "price": "decimal(10,2)",  # at most 2 places: money, not double
        "qty": "integer",
        "lat": "double",  # 6 places: a measurement
        "big": "long",
        "huge": "decimal(38,0)",  # past 64 bits
    }


def test_exponent_notation_is_double() -> None:
    assert _types(_json(raw=('{"v": 1e-3}', '{"v": 2.5}'))) == {"v": "double"}


def test_decimal_precision_grows_with_the_values_seen() -> None:
    assert _types(_json({"v": 123456789012.125}, {"v": 1.5})) == {"v": "decimal(17,3)"}


def test_timestamps_and_dates_in_common_formats_are_recognised() -> None:
    profile = _csv(
        "iso,space,eu,us,day,fraction,offset",
        "2026-01-02T03:04:05Z,2026-01-02 03:04:05,13/01/2026 10:00,01/13/2026 10:00:00,31.12.2026,"
        "2026-01-02T03:04:05.1+01:00,2026-01-02T03:04:05+0100",
        "2026-01-03T03:04:05+02:00,2026-01-03 03:04:05,02/01/2026 10:00,01/02/2026 10:00:00,01.01.2027,"
        "2026-01-02T03:04:05.123456+01:00,2026-01-02T03:04:05-0500",
    )
    specs = {f.name: (f.type, f.format) for f in infer_fields(profile).specs}
    assert specs == {
        "iso": ("timestamp", "yyyy-MM-dd'T'HH:mm:ssXXX"),
        "space": ("timestamp", "yyyy-MM-dd HH:mm:ss"),
        "eu": ("timestamp", "dd/MM/yyyy HH:mm"),
        "us": ("timestamp", "MM/dd/yyyy HH:mm:ss"),
        "day": ("date", "dd.MM.yyyy"),
        "fraction": ("timestamp", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"),
        "offset": ("timestamp", "yyyy-MM-dd'T'HH:mm:ssXX"),
    }


def test_ambiguous_day_month_order_and_mixed_formats_stay_strings_with_an_issue() -> None:
    profile = _csv("a,b", "01/02/2026,2026-01-02", "03/04/2026,02.01.2026")
    inferred = infer_fields(profile)
    assert [f.type for f in inferred.specs] == ["string", "string"]
    assert [(i.kind, i.field) for i in inferred.issues] == [("mixed_formats", "a"), ("mixed_formats", "b")]
    assert "day and month cannot be told apart" in inferred.issues[0].detail


def test_json_timestamps_share_one_format_and_json_dates_are_iso_only() -> None:
    rows = [
        {"at": f"2026-01-0{i}T10:00:00{'.5' if i % 2 else ''}Z", "paid": f"1{i}/01/2026 10:00",
         "on": f"2026-01-0{i}", "eu_day": f"1{i}.01.2026"}
        for i in range(1, 4)
    ]  # fmt: skip
    contract, inferred, _ = _contract(_json(*rows))
    assert contract.timestamp_format == "yyyy-MM-dd'T'HH:mm:ss[.S]XXX"
    assert [(f.name, f.type) for f in contract.fields] == [
        ("at", "timestamp"), ("paid", "string"), ("on", "date"), ("eu_day", "string")
    ]  # fmt: skip
    assert {(i.kind, i.field) for i in inferred.issues} == {
        ("unsupported_format", "paid"),
        ("unsupported_format", "eu_day"),
    }


def test_nested_objects_and_arrays_become_structs_and_arrays() -> None:
    rows = [
        {"items": [{"sku": "A", "qty": 1, "opts": [{"k": "x"}]}, {"sku": "B", "qty": 2, "opts": []}],
         "addr": {"city": "Oslo", "geo": {"lat": 1.5}}, "tags": ["a"]},
        {"items": [{"sku": "C", "qty": 3}], "addr": {"city": "Bern"}, "tags": []},
    ]  # fmt: skip
    contract, _, text = _contract(_json(*rows))
    items = contract.field("items")
    assert items.type == "array" and items.required and items.items is not None
    assert [(f.name, f.type, f.required) for f in items.items.fields or ()] == [
        ("sku", "string", True), ("qty", "integer", True), ("opts", "array", False),
    ]  # fmt: skip
    addr = contract.field("addr")
    assert [(f.name, f.type, f.required) for f in addr.fields or ()] == [
        ("city", "string", True), ("geo", "struct", False),
    ]  # fmt: skip
    assert not contract.field("tags").required  # an empty array is "missing" to the job
    assert "# optional: 1 of 2 arrays are empty" in text


def test_required_only_when_present_and_non_null_in_every_record() -> None:
    rows = [{"a": 1, "b": 1, "c": 1}] * 30 + [{"a": 2, "b": None}]
    contract, _, text = _contract(_json(*rows))
    assert [(f.name, f.required) for f in contract.fields] == [("a", True), ("b", False), ("c", False)]
    assert "# required: true  # missing or null in 1 of 31 records" in text


def test_suggestions_are_comments_never_constraints() -> None:
    rows = [{"id": f"QB-{i:05d}", "status": ["new", "done"][i % 2], "qty": i % 5 + 1} for i in range(20)]
    contract, _, text = _contract(_json(*rows))
    assert all(f.allowed_values is None and f.min is None and f.regex is None for f in contract.fields)
    assert '# regex: "^QB-[0-9]{5}$"  # every value has this shape' in text
    assert "# unique: true  # all 20 values distinct in the sample" in text
    assert '# allowed_values: ["done", "new"]  # 2 distinct values in 20' in text
    assert "# min: 1  # observed minimum" in text and "# max: 5  # observed maximum" in text


def test_email_and_phone_values_are_marked_pii_for_review() -> None:
    rows = [
        {"mail": f"user{i}@mail.example", "tel": f"+49 170 555{i:04d}", "code": f"A{i}"} for i in range(10)
    ]
    contract, _, text = _contract(_json(*rows))
    assert [(f.name, f.pii) for f in contract.fields] == [("mail", True), ("tel", True), ("code", False)]
    assert "# review pii: 10 of 10 values look like e-mail addresses" in text


def test_keys_differing_only_in_case_are_reported_never_merged() -> None:
    rows = [{"orderId": f"O{i}"} for i in range(5)] + [{"OrderID": "O9"}]
    contract, inferred, _ = _contract(_json(*rows))
    assert contract.field_names == ("orderId",)
    assert not contract.field("orderId").required
    issue = inferred.issues[0]
    assert (issue.kind, issue.field) == ("case_only_keys", "OrderID")
    assert "f.jsonl:6" in issue.evidence[0] and "field_case_mismatch" in issue.resolution


def test_json_keys_that_cannot_be_field_names_are_reported_and_left_out() -> None:
    contract, inferred, _ = _contract(_json({"id": 1, "order-no": 5}, {"id": 2, "order-no": 6}))
    assert contract.field_names == ("id",)
    assert [(i.kind, i.field) for i in inferred.issues] == [("not_an_identifier", "order-no")]
    assert "'order_no'" in inferred.issues[0].resolution


def test_a_few_values_of_another_type_leave_the_dominant_type_and_are_reported() -> None:
    rows = [{"n": i} for i in range(19)] + [{"n": "twelve"}]
    _, inferred, _ = _contract(_json(*rows))
    assert inferred.specs[0].type == "integer"
    issue = inferred.issues[0]
    assert issue.kind == "mixed_types" and "1 other value(s) will be dead-lettered" in issue.resolution
    assert any("'twelve'" in e and "f.jsonl:20" in e for e in issue.evidence)


def test_many_values_of_another_type_make_a_string_field_with_an_issue() -> None:
    _, inferred, _ = _contract(_json({"n": 1}, {"n": "one"}, {"n": True}, {"n": {"x": 1}}))
    assert inferred.specs[0].type == "string"
    assert inferred.issues[0].kind == "mixed_types" and "typed as string" in inferred.issues[0].resolution


def test_numbers_as_json_strings_stay_strings_with_an_issue() -> None:
    _, inferred, _ = _contract(_json({"amount": "12.50"}, {"amount": "3"}))
    assert inferred.specs[0].type == "string"
    assert inferred.issues[0].kind == "numbers_as_strings"


def test_inexact_decimals_keep_the_decimal_and_are_reported() -> None:
    rows = [{"p": 1.25}] * 19 + [{"p": 25.650000000000002}]
    _, inferred, _ = _contract(_json(*rows))
    assert inferred.specs[0].type == "decimal(10,2)"
    assert (
        inferred.issues[0].kind == "inexact_decimals" and "rounding: half_up" in inferred.issues[0].resolution
    )


def test_csv_quirks_bom_crlf_quoted_and_odd_headers_empty_strings_leading_zeros() -> None:
    profile = _csv(
        '\ufeff"Order ID";"unit price";zip;Note;ok;Price\r',
        'A1;"1,50";01234;;TRUE;2\r',
        'A2;2.50;01235;"quoted; text";false;3\r',
        "A3;3\r",
        delimiter=";",
    )
    contract, inferred, _ = _contract(profile)
    assert contract.csv.delimiter == ";"
    assert [(f.name, f.source_name, f.type, f.required) for f in contract.fields] == [
        ("order_id", "Order ID", "string", True),
        ("unit_price", "unit price", "string", True),  # "1,50" is not a number: a decimal comma
        ("zip", None, "string", True),  # leading zeros: an identifier, not a number
        ("Note", None, "string", False),  # an empty field is null
        ("ok", None, "boolean", True),
        ("Price", None, "integer", True),
    ]
    assert [(u.location.line, u.reason) for u in profile.unparseable] == [(4, "2 fields, the header has 6")]
    assert [(i.kind, i.field) for i in inferred.issues] == [
        ("not_an_identifier", "order_id"),
        ("mixed_types", "unit_price"),
        ("not_an_identifier", "unit_price"),
    ]


def test_csv_headers_repeated_or_differing_in_case_are_not_merged() -> None:
    contract, inferred, _ = _contract(_csv("price,Price,price", "1,2,3"))
    assert [(f.name, f.source_name) for f in contract.fields] == [
        ("price", None), ("Price_2", "Price"), ("price_3", "price"),
    ]  # fmt: skip
    assert [i.kind for i in inferred.issues] == ["case_only_keys", "case_only_keys"]


def test_files_with_another_header_are_left_out_and_counted() -> None:
    records = [
        RawRecord("a.csv", 1, "id,name", first=True), RawRecord("a.csv", 2, "1,x"),
        RawRecord("b.csv", 1, "id,name", first=True), RawRecord("b.csv", 2, "2,y"),
        RawRecord("c.csv", 1, "id;name", first=True), RawRecord("c.csv", 2, "3;z"),
    ]  # fmt: skip
    profile = profile_csv(records)
    assert profile.header == ("id", "name") and profile.excluded == {"c.csv": 1}
    assert profile.parsed == 2


def test_the_yaml_loads_back_to_the_same_contract_with_its_review_header() -> None:
    rows = [{"id": i, "at": "2026-01-01T00:00:00Z", "n": {"x": [1, 2]}} for i in range(3)]
    contract, _, text = _contract(_json(*rows, raw=("oops",)))
    assert parse_contract(yaml.safe_load(text), Path("orders.v1.yaml")) == contract
    header = [line for line in text.splitlines() if line.startswith("#")][:6]
    assert header[1] == "# Sample: 1 file(s), 3 records parsed, 1 unparseable, 0 blank line(s)"
    assert header[2] == "#   f.jsonl: 3 parsed, 1 unparseable"
    assert "# Before use, review:" in text and "f.jsonl:4: malformed JSON" in text
