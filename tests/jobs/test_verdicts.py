"""File-level verdicts through the job: above the threshold a file is judged whole, whatever its size.

Issue 14 items 6 and 9: a 27-line JSON file whose 27 records were all malformed was called
``intermittent_corruption`` and the job exited 0; a truncated gzip exited 0 with an "intermittent
corruption" alert. A file above ``intermittent_max_ratio`` (or with no good record) is now quarantined
whole (``file_corrupt``, every record dead-lettered with its raw text), alerted as such, and the job
exits 6.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from feedguard.errors import EXIT_FILE_CORRUPT
from jobs.ingest_files import main


def order(n: int) -> str:
    return (
        f'{{"order_id":"QB-{n:08d}","customer_id":"C000001","restaurant_id":"R1",'
        '"items":[{"sku":"S","qty":1,"price":1.0}],"subtotal":1.0,"total":1.0,'
        '"status":"placed","city":"Berlin","ordered_at":"2026-11-01T10:00:00Z"}'
    )


def broken(n: int) -> str:
    return order(n)[: 20 + n]  # cut short: malformed JSON, a different length each time


def run(folder: Path, lake: Path) -> tuple[int, dict[str, Any]]:
    code = main(
        ["ingest_files.py", "--source", "quickbite", "--dataset", "orders", "--input_path", str(folder),
         "--lake_path", str(lake), "--skip_dq"]
    )  # fmt: skip
    (summary_path,) = (lake / "_runs").glob("*.json")
    return code, json.loads(summary_path.read_text())


def write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_files_above_the_threshold_are_quarantined_whole_whatever_their_size(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    write(feed, "a_all_27_malformed.jsonl", [broken(n) for n in range(27)])
    write(feed, "b_one_of_three_bad.jsonl", [order(100), broken(1), order(102)])
    write(
        feed, "c_two_of_ten_bad.jsonl", [order(200 + n) if n not in (3, 7) else broken(n) for n in range(10)]
    )
    write(
        feed,
        "d_three_with_an_unknown_key.jsonl",
        [order(300 + n)[:-1] + ',"loyalty_tier":"gold"}' for n in range(3)],
    )
    write(feed, "e_clean.jsonl", [order(400 + n) for n in range(5)])

    code, summary = run(feed, tmp_path / "lake")

    assert (code, summary["status"], summary["exit_code"]) == (EXIT_FILE_CORRUPT, "file_quarantined", 6)
    files = {Path(f["path"]).name: f for f in summary["files"]}
    assert {n: (f["verdict"], f["records_read"], f["records_valid"]) for n, f in files.items()} == {
        "a_all_27_malformed.jsonl": ("file_corrupt", 27, 0),
        "b_one_of_three_bad.jsonl": ("file_corrupt", 3, 0),
        "c_two_of_ten_bad.jsonl": ("intermittent_corruption", 10, 8),  # 20% is not above 20%
        "d_three_with_an_unknown_key.jsonl": ("file_corrupt", 3, 0),  # too few records to call it drift
        "e_clean.jsonl": ("clean", 5, 5),
    }
    assert "too few" in files["d_three_with_an_unknown_key.jsonl"]["evidence"]["detail"]
    assert summary["records_valid"] == 13 and summary["records_dead_lettered"] == 35
    assert summary["dead_letters_by_type"] == {"file_corrupt": 33, "malformed_json": 2}
    assert summary["drift_reports"] == {} and summary["schema_drift_detected"] is False
    assert summary["alerts"] == ["file_corrupt", "intermittent_corruption"]
    for name in ("a_all_27_malformed.jsonl", "b_one_of_three_bad.jsonl", "d_three_with_an_unknown_key.jsonl"):
        assert Path(files[name]["quarantined_to"]).read_bytes() == (feed / name).read_bytes()
    # Every record of a quarantined file is a dead letter with its exact raw text, its own reason kept.
    dead = spark.read.format("delta").load(str(tmp_path / "lake" / "_dead_letter"))
    rows = [r.asDict() for r in dead.where(dead.source_file.endswith("a_all_27_malformed.jsonl")).collect()]
    assert sorted((r["source_line"], r["raw_text"]) for r in rows) == [(n + 1, broken(n)) for n in range(27)]
    assert {r["error_type"] for r in rows} == {"file_corrupt"}
    assert all("malformed_json" in r["error_detail"] for r in rows)


def test_a_truncated_gzip_is_a_file_level_alert_and_exit_code(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    write(feed, "b_clean.jsonl", [order(n) for n in range(4)])
    data = gzip.compress(("\n".join(order(10 + n) for n in range(500)) + "\n").encode())
    (feed / "a_truncated.jsonl.gz").write_bytes(data[: len(data) // 2])

    code, summary = run(feed, tmp_path / "lake")

    assert (code, summary["status"]) == (EXIT_FILE_CORRUPT, "file_quarantined")
    assert summary["alerts"] == ["file_corrupt"]  # not "intermittent corruption"
    assert (summary["records_valid"], summary["records_dead_lettered"]) == (4, 1)
