"""Nothing silently changed, through whole runs of the file job (issue 14 items 1, 2, 3, 9).

The offending inputs of the issue (a repeated ``status`` key, ``items.price`` ``17.884``, ``1e1`` for a
decimal, MealDash ``price`` ``25.678``, ``"a"b`` quoting, lines of spaces and tabs) each end as one dead
letter naming the field, the valid table holds only exact values, blank lines are counted as skipped,
and a field whose contract allows rounding is rounded and counted in the run summary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import SparkSession

from jobs.ingest_files import main

ORDER = {
    "order_id": "QB-00000001", "customer_id": "C000001", "restaurant_id": "R1",
    "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "tip": 0.5, "total": 1.5,
    "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z",
}  # fmt: skip
HEADER = (
    "order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,customer_phone,order_datetime"
)
GOOD_ROWS = 20


def order(n: int) -> str:
    return json.dumps({**ORDER, "order_id": f"QB-{n:08d}"}, separators=(",", ":"))


def csv_row(n: int, menu: str = "Falafel", price: str = "9.50") -> str:
    return f"MD{n:07d},{menu},2,{price},,card,completed,+49-170-0000001,2026-11-28 10:00:00"


def contracts(tmp_path: Path, source: str, field: str, **options: Any) -> Path:
    """A copy of the committed contracts with ``options`` added to one top-level field of ``source``."""
    folder = tmp_path / "contracts"
    shutil.copytree("contracts", folder)
    path = folder / source / "orders.v1.yaml"
    data = yaml.safe_load(path.read_text())
    for spec in data["fields"]:
        if spec["name"] == field:
            spec.update(options)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def run(source: str, feed: Path, lake: Path, contracts_dir: Path) -> dict[str, Any]:
    code = main(
        ["ingest_files.py", "--JOB_NAME", "test", "--source", source, "--dataset", "orders", "--skip_dq",
         "--input_path", str(feed), "--lake_path", str(lake), "--contracts_dir", str(contracts_dir)]
    )  # fmt: skip
    (path,) = (lake / "_runs").glob("*.json")
    summary: dict[str, Any] = json.loads(path.read_text())
    assert code == summary["exit_code"] == 0
    return summary


def dead_letters(spark: SparkSession, lake: Path) -> dict[int, tuple[str, str, str]]:
    rows = spark.read.format("delta").load(str(lake / "_dead_letter")).collect()
    return {r["source_line"]: (r["error_type"], r["raw_text"], r["error_detail"]) for r in rows}


def test_quickbite_repeated_keys_inexact_decimals_and_blank_lines(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    repeated = order(101)[:-1] + ',"status":"delivered"}'
    places = order(102).replace('"price":1.0', '"price":17.884')
    exponent = order(103).replace('"total":1.5', '"total":1e1')
    rounded = order(104).replace('"tip":0.5', '"tip":1.005')
    lines = [*[order(n) for n in range(GOOD_ROWS)], repeated, " \t ", places, exponent, rounded]
    (feed / "orders.jsonl").write_text("\n".join(lines) + "\n")
    lake = tmp_path / "lake"
    summary = run("quickbite", feed, lake, contracts(tmp_path, "quickbite", "tip", rounding="half_up"))

    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (
        24,
        21,
        3,
    )
    assert (summary["blank_lines_skipped"], summary["values_rounded"]) == (1, 1)
    dead = dead_letters(spark, lake)
    assert {line: (kind, raw) for line, (kind, raw, _) in dead.items()} == {
        21: ("duplicate_key", repeated),
        23: ("type_mismatch", places),
        24: ("type_mismatch", exponent),
    }
    assert "items[].price expected decimal(10,2), got '17.884'" in dead[23][2]
    assert "total expected decimal(10,2), got '1e1'" in dead[24][2]
    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    tip = valid.where("order_id = 'QB-00000104'").select("tip").first()
    assert tip is not None and str(tip["tip"]) == "1.01"


def test_mealdash_inexact_price_bad_quotes_and_blank_lines(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    places = csv_row(101, price="25.678")
    quotes = csv_row(102, menu='"Fala"fel')
    lines = [HEADER, *[csv_row(n) for n in range(GOOD_ROWS)], places, "\t", quotes]
    (feed / "orders.csv").write_text("\n".join(lines) + "\n")
    lake = tmp_path / "lake"
    summary = run("mealdash", feed, lake, contracts(tmp_path, "mealdash", "price"))

    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (
        22,
        20,
        2,
    )
    assert (summary["blank_lines_skipped"], summary["values_rounded"]) == (1, 0)
    dead = dead_letters(spark, lake)
    assert {line: (kind, raw) for line, (kind, raw, _) in dead.items()} == {
        22: ("type_mismatch", places),
        24: ("malformed_quoting", quotes),
    }
    assert "price expected decimal(10,2), got '25.678'" in dead[22][2]
    assert "menu_id: a quote RFC 4180 does not allow" in dead[24][2]
