"""The quality gate inside the ingest job: a failed critical expectation publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.ingest_files import main


def order(n: int, **changes: object) -> str:
    base = {
        "order_id": f"QB-{n:08d}", "customer_id": "C000001", "restaurant_id": "R1",
        "items": [{"sku": "S", "qty": 2, "price": 2.5}], "subtotal": 5.0, "tip": 1.0, "total": 6.0,
        "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z",
    }  # fmt: skip
    return json.dumps({**base, **changes})


def run(feed: Path, lake: Path) -> tuple[int, dict[str, Any]]:
    code = main(
        ["ingest_files.py", "--source", "quickbite", "--dataset", "orders", "--input_path", str(feed),
         "--lake_path", str(lake), "--docs", "build"]
    )  # fmt: skip
    (path,) = (lake / "_runs").glob("*.json")
    return code, json.loads(path.read_text())


def test_failed_critical_expectation_holds_back_the_batch(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    lines = [order(n) for n in range(1, 9)] + [order(9, total=99.0), "{broken"]
    (feed / "orders.jsonl").write_text("\n".join(lines) + "\n")
    code, summary = run(feed, tmp_path / "lake")
    assert code == 3
    assert (summary["status"], summary["dq_success"]) == ("dq_failed", False)
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (
        10,
        0,
        10,
    )
    assert summary["dead_letters_by_type"] == {"dq_critical_failure": 10}
    failed = [(f["expectation_type"], f["unexpected_count"]) for f in summary["dq_failures"]]
    assert ("unexpected_rows_expectation", 1) in failed
    lake = tmp_path / "lake"
    assert not (lake / "quickbite" / "orders").exists()
    dead = spark.read.format("delta").load(str(lake / "_dead_letter")).orderBy("source_line").collect()
    assert [r["source_line"] for r in dead] == list(range(1, 11))
    assert [r["raw_text"] for r in dead] == lines
    assert {r["error_type"] for r in dead} == {"dq_critical_failure"}
    quarantine = lake / "_quarantine" / "quickbite" / "orders" / summary["run_id"]
    assert (quarantine / "orders.jsonl").read_bytes() == (feed / "orders.jsonl").read_bytes()
    assert json.loads((quarantine / "dq_validation_result.json").read_text())["success"] is False
    results = spark.read.format("delta").load(str(lake / "_dq_results"))
    assert results.count() == summary["expectations_evaluated"]
    assert results.where(~F.col("success")).count() == summary["expectations_failed"] >= 1


def test_passing_gate_publishes_and_records_results(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    (feed / "orders.jsonl").write_text("\n".join(order(n) for n in range(1, 6)) + "\n")
    code, summary = run(feed, tmp_path / "lake")
    assert code == 0
    assert (summary["dq_success"], summary["expectations_failed"], summary["records_valid"]) == (True, 0, 5)
    assert summary["expectations_evaluated"] >= 10
    index = tmp_path / "lake" / "_docs" / "feedguard" / "index.html"
    assert summary["run_id"] in index.read_text() or "quickbite" in index.read_text()
