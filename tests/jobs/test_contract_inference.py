"""Onboarding a feed (issue 20): infer a contract from samples, then ingest the samples with it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from feedguard.cli import main as cli_main
from feedguard.contracts.contract import Contract, FieldSpec, load_contract
from feedguard.contracts.infer import InferRequest, infer_contract, write_contract
from feedguard_dev.samples import write_samples
from jobs.ingest_files import main as ingest_main

DAY = dt.date(2026, 1, 1)


def _fields(specs: tuple[FieldSpec, ...], prefix: str = "") -> dict[str, tuple[str, bool]]:
    """Every field path with its type and required flag (array items as ``path[]``)."""
    found: dict[str, tuple[str, bool]] = {}
    for spec in specs:
        path = f"{prefix}{spec.name}"
        found[path] = (spec.type, spec.required)
        found |= _fields(spec.fields or (), f"{path}.")
        if spec.items is not None:
            found[f"{path}[]"] = (spec.items.type, False)
            found |= _fields(spec.items.fields or (), f"{path}[].")
    return found


def _differences(inferred: Contract, committed: Contract) -> dict[str, Any]:
    mine, theirs = _fields(inferred.fields), _fields(committed.fields)
    return {
        path: (mine.get(path), theirs.get(path))
        for path in sorted(set(mine) | set(theirs))
        if mine.get(path) != theirs.get(path)
    }


def _ingest(tmp: Path, source: str, feed: Path, contracts: Path, run_id: str, *extra: str) -> dict[str, Any]:
    lake = tmp / "lake"
    code = ingest_main(
        ["ingest_files.py", "--source", source, "--dataset", "orders", "--input_path", str(feed),
         "--lake_path", str(lake), "--contracts_dir", str(contracts), "--run_id", run_id, *extra]
    )  # fmt: skip
    summary: dict[str, Any] = json.loads((lake / "_runs" / f"{run_id}.json").read_text())
    summary["exit_code"] = code
    return summary


def _counts(summary: dict[str, Any]) -> tuple[int, int, int]:
    return summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]


def test_round_trip_on_the_project_samples(spark: SparkSession, tmp_path: Path) -> None:
    expected = write_samples(tmp_path / "samples", seed=7, records=200)
    contracts = tmp_path / "contracts"
    results = {}
    for source in ("quickbite", "mealdash"):
        request = InferRequest(source, "orders", str(tmp_path / "samples" / source), effective_from=DAY)
        results[source] = infer_contract(spark, request)
        write_contract(results[source], contracts)

    quickbite = load_contract(contracts / "quickbite" / "orders.v1.yaml")
    assert quickbite == results["quickbite"].contract
    # Differences from the hand-written contract, each explained by the sample:
    assert _differences(quickbite, load_contract("contracts/quickbite/orders.v1.yaml")) == {
        # the seeded missing_required_field and field_case_mismatch records lack order_id
        "order_id": (("string", False), ("string", True)),
        # every sample record carries an e-mail address
        "customer_email": (("string", True), ("string", False)),
        # every sample record has a tip (0 included)
        "tip": (("decimal(10,2)", True), ("decimal(10,2)", False)),
        # the seeded unexpected_field records carry promo_code: an optional field here
        "promo_code": (("string", False), None),
    }
    assert quickbite.timestamp_format == "yyyy-MM-dd'T'HH:mm:ssXXX"
    assert quickbite.field("customer_email").pii
    kinds = {(i.kind, i.field) for i in results["quickbite"].issues}
    assert kinds == {("case_only_keys", "Order_Id"), ("mixed_types", "total")}
    unparseable = results["quickbite"].summary.profile.unparseable
    qb = expected["quickbite/orders"]["dead_letters_by_type"]
    assert len(unparseable) == qb["malformed_json"] + qb["not_an_object"]
    assert all(u.reason for u in unparseable)

    mealdash = load_contract(contracts / "mealdash" / "orders.v1.yaml")
    assert _differences(mealdash, load_contract("contracts/mealdash/orders.v1.yaml")) == {
        # the seeded missing_required_field rows have an empty order_id
        "order_id": (("string", False), ("string", True)),
        # every sample row has a phone number
        "customer_phone": (("string", True), ("string", False)),
    }
    assert mealdash.field("order_datetime").format == "yyyy-MM-dd HH:mm:ss"
    assert mealdash.field("customer_phone").pii
    assert {(i.kind, i.field) for i in results["mealdash"].issues} == {("mixed_types", "quantity")}

    # Ingesting the samples with the inferred contracts accounts for every record: the records the
    # inference called unparseable or outliers are the dead letters; the seeded faults the inferred
    # contract does not forbid (no allowed_values, order_id optional, promo_code a field) are valid.
    qb_dead = sum(qb[k] for k in ("malformed_json", "not_an_object", "type_mismatch", "field_case_mismatch"))
    summary = _ingest(tmp_path, "quickbite", tmp_path / "samples" / "quickbite", contracts, "qb", "--skip_dq")
    assert _counts(summary) == (expected["quickbite/orders"]["records"],
                                expected["quickbite/orders"]["records"] - qb_dead, qb_dead)  # fmt: skip
    md = expected["mealdash/orders"]["dead_letters_by_type"]
    md_dead = sum(md[k] for k in ("extra_columns", "missing_columns", "malformed_csv", "type_mismatch"))
    summary = _ingest(tmp_path, "mealdash", tmp_path / "samples" / "mealdash", contracts, "md", "--skip_dq")
    assert _counts(summary) == (expected["mealdash/orders"]["records"],
                                expected["mealdash/orders"]["records"] - md_dead, md_dead)  # fmt: skip


def _acme_order(i: int) -> dict[str, Any]:
    order: dict[str, Any] = {
        "order_id": f"AC-{i:05d}",
        "placed_at": f"2026-03-{1 + i % 28:02d}T10:{i % 60:02d}:00{'.125' if i % 3 else ''}+01:00",
        "paid_at": f"{1 + i % 28:02d}/03/2026 11:{i % 60:02d}",  # another format: kept as string
        "delivered_on": f"2026-03-{1 + i % 28:02d}",
        "amount": [12.5, 3, 7.25, 120.99][i % 4],
        "views": 3_000_000_000 + i,
        "rating": round(1 + i / 7, 6),
        "amount_text": f"{i}.50",
        "lines": [{"sku": f"SKU-{i % 7:03d}", "qty": 1 + i % 3, "unit_price": 1.99}] * (1 + i % 2),
        "tags": [["new"], [], ["gift", "express"]][i % 3],
        "customer": {"email": f"c{i}@shop.example", "phone": f"+44 20 7946 {i:04d}"},
    }
    if i % 4 == 0:
        order["note"] = "leave at the door"
    return order


def test_generated_feeds_through_the_command(spark: SparkSession, tmp_path: Path, capsys: Any) -> None:
    """JSON Lines + a JSON array with nesting, decimals, timestamps; a CSV with a BOM, CRLF and
    quoted, non-identifier headers; each inferred by the command, its suite written, then ingested."""
    feed = tmp_path / "acme"
    feed.mkdir()
    lines = [json.dumps(_acme_order(i)) for i in range(1, 41)]
    lines[4] = lines[4][:30]  # truncated: unparseable
    lines[9] = json.dumps({**_acme_order(10), "amount": "n/a"})  # an outlier: dead-lettered
    lines[14] = lines[14][:-1] + ', "order_id": "AC-dupe"}'  # a repeated key: unparseable
    (feed / "orders_1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    array = [json.dumps(_acme_order(i)) for i in range(41, 51)]
    (feed / "orders_2.json").write_text("[\n" + ",\n".join(array) + "\n]\n", encoding="utf-8")
    contracts, suites = tmp_path / "contracts", tmp_path / "expectations"
    args = ["contracts", "infer", "--source", "acme", "--dataset", "orders", "--out", str(contracts),
            "--expectations-dir", str(suites), "--effective-from", "2026-01-01"]  # fmt: skip
    assert cli_main([*args, "--input", str(feed)]) == 0
    out = capsys.readouterr().out
    assert "orders_1.jsonl:5: malformed JSON" in out and "orders_1.jsonl:15: repeated key 'order_id'" in out
    acme = load_contract(contracts / "acme" / "orders.v1.yaml")
    assert (suites / "acme" / "orders.v1.json").exists()
    assert _fields(acme.fields) == {
        "order_id": ("string", True),
        "placed_at": ("timestamp", True),
        "paid_at": ("string", True),
        "delivered_on": ("date", True),
        "amount": ("decimal(10,2)", True),
        "views": ("long", True),
        "rating": ("double", True),
        "amount_text": ("string", True),
        "lines": ("array", True),
        "lines[]": ("struct", False),
        "lines[].sku": ("string", True),
        "lines[].qty": ("integer", True),
        "lines[].unit_price": ("decimal(10,2)", True),
        "tags": ("array", False),  # some are empty: the job reads an empty required array as missing
        "tags[]": ("string", False),
        "customer": ("struct", True),
        "customer.email": ("string", True),
        "customer.phone": ("string", True),
        "note": ("string", False),
    }
    assert acme.timestamp_format == "yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX"
    customer = acme.field("customer").fields or ()
    assert [f.pii for f in customer] == [True, True]
    issues = {(i.kind, i.field) for i in infer_issues(spark, feed)}
    assert issues == {("unsupported_format", "paid_at"), ("mixed_types", "amount"),
                      ("numbers_as_strings", "amount_text")}  # fmt: skip
    summary = _ingest(tmp_path, "acme", feed, contracts, "acme", "--expectations_dir", str(suites))
    assert (summary["exit_code"], _counts(summary)) == (0, (50, 47, 3))

    csv_feed = tmp_path / "beta"
    csv_feed.mkdir()
    header = '"Order ID";"Unit Price (EUR)";placed;shipped;promo;zip;gift;paid'
    rows = [
        f"B{i:04d};{i % 9}.{i % 100:02d};2026-04-{1 + i % 28:02d}T08:00:00Z;{1 + i % 28:02d}/04/2026 09:30;"
        f"{'' if i % 3 else 'SPRING'};0{1000 + i};{'true' if i % 2 else 'false'};"
        f"04/{1 + i % 28:02d}/2026 10:00:00"
        for i in range(1, 31)
    ]  # fmt: skip
    rows[6] = "B0007;1.00"  # too few fields: unparseable, dead-lettered
    (csv_feed / "beta.csv").write_bytes(("\ufeff" + header + "\r\n" + "\r\n".join(rows) + "\r\n").encode())
    assert cli_main([*args[:3], "beta", *args[4:], "--input", str(csv_feed)]) == 0
    beta = load_contract(contracts / "beta" / "orders.v1.yaml")
    assert beta.csv.delimiter == ";"
    assert [(f.name, f.source_name, f.type, f.format, f.required) for f in beta.fields] == [
        ("order_id", "Order ID", "string", None, True),
        ("unit_price_eur", "Unit Price (EUR)", "decimal(10,2)", None, True),
        ("placed", None, "timestamp", "yyyy-MM-dd'T'HH:mm:ssXXX", True),
        ("shipped", None, "timestamp", "dd/MM/yyyy HH:mm", True),
        ("promo", None, "string", None, False),
        ("zip", None, "string", None, True),
        ("gift", None, "boolean", None, True),
        ("paid", None, "timestamp", "MM/dd/yyyy HH:mm:ss", True),
    ]
    summary = _ingest(tmp_path, "beta", csv_feed, contracts, "beta", "--expectations_dir", str(suites))
    assert (summary["exit_code"], _counts(summary)) == (0, (30, 29, 1))

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "dump.jsonl").write_text('{"a": 1}\nnot json\n<html>\n{"a": \n', encoding="utf-8")
    assert cli_main([*args[:3], "gamma", *args[4:], "--input", str(garbage)]) == 2
    err = capsys.readouterr().err
    assert "refusing to infer a contract: 3 of 4 records are unparseable" in err and "dump.jsonl" in err
    assert not (contracts / "gamma").exists()


def infer_issues(spark: SparkSession, feed: Path) -> list[Any]:
    return infer_contract(spark, InferRequest("acme", "orders", str(feed))).issues


def test_json_lines_with_a_bom_crlf_and_utf16(spark: SparkSession, tmp_path: Path) -> None:
    """Windows exports: a UTF-8 byte-order mark and CRLF line ends; UTF-16 (little-endian, with its mark)."""
    rows = [
        json.dumps({"id": i, "name": f"Zoë {i}", "price": f"{i}.5"}, ensure_ascii=False) for i in range(1, 13)
    ]
    bom = tmp_path / "bom"
    bom.mkdir()
    (bom / "export.jsonl").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    wide = tmp_path / "wide"
    wide.mkdir()
    (wide / "export.jsonl").write_bytes(("\ufeff" + "\n".join(rows) + "\n").encode("utf-16-le"))
    contracts = tmp_path / "contracts"
    for source, folder in (("bom", bom), ("wide", wide)):
        result = infer_contract(spark, InferRequest(source, "orders", str(folder), effective_from=DAY))
        assert result.summary.profile.unparseable == []
        assert [(f.name, f.type, f.required) for f in result.contract.fields] == [
            ("id", "integer", True), ("name", "string", True), ("price", "string", True)
        ]  # fmt: skip
        assert [i.kind for i in result.issues] == ["numbers_as_strings"]
        write_contract(result, contracts)
    assert load_contract(contracts / "wide" / "orders.v1.yaml").encoding == "utf-16le"
    summary = _ingest(tmp_path, "bom", bom, contracts, "bom", "--skip_dq")
    assert (summary["exit_code"], _counts(summary)) == (0, (12, 12, 0))
