"""The file-ingest job end to end through ``main(argv)``: real Spark, real Delta, temp folders."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import Column, DataFrame, SparkSession

from feedguard.errors import EXIT_FILE_CORRUPT
from feedguard.lake.runlog import mark_inflight
from feedguard_dev.samples import write_samples
from jobs.ingest_files import main


def run(source: str, input_path: Path | str, lake: Path, *extra: str, dataset: str = "orders") -> int:
    return main(
        ["ingest_files.py", "--JOB_NAME", "test", "--source", source, "--dataset", dataset,
         "--input_path", str(input_path), "--lake_path", str(lake), *extra]
    )  # fmt: skip


def summaries(lake: Path) -> list[dict[str, Any]]:
    files = sorted((lake / "_runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return [json.loads(p.read_text()) for p in files]


def dead_letters(spark: SparkSession, lake: Path) -> list[dict[str, Any]]:
    rows = spark.read.format("delta").load(str(lake / "_dead_letter")).orderBy("source_file", "source_line")
    return [r.asDict() for r in rows.collect()]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("samples")
    return out, write_samples(out, records=120)


@pytest.mark.parametrize("source", ["quickbite", "mealdash"])
def test_sample_feed_lands_exactly_once(
    spark: SparkSession, samples: tuple[Path, dict[str, Any]], tmp_path: Path, source: str
) -> None:
    folder, expected = samples
    want = expected[f"{source}/orders"]
    assert run(source, folder / source, tmp_path) == 0
    (summary,) = summaries(tmp_path)
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (
        want["records"],
        want["valid"],
        want["dead_lettered"],
    )
    assert summary["dead_letters_by_type"] == want["dead_letters_by_type"]
    assert summary["status"] == "succeeded_with_dead_letters"
    valid = spark.read.format("delta").load(str(tmp_path / source / "orders"))
    assert valid.count() == want["valid"]
    assert valid.select("_run_id").distinct().collect()[0][0] == summary["run_id"]
    # Every dead letter holds the exact raw line found at its file and line number.
    for row in dead_letters(spark, tmp_path):
        path = Path(row["source_file"].removeprefix("file://"))
        if path.suffix == ".gz":
            lines = gzip.decompress(path.read_bytes()).decode().splitlines()
        else:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert lines[row["source_line"] - 1] == row["raw_text"], row
        assert row["status"] == "open" and row["run_id"] == summary["run_id"]
    # Valid rows keep their lineage: no line is both valid and dead, and the lines add up.
    valid_lines = {(r[0], r[1]) for r in valid.select("_source_file", "_source_line").collect()}
    dead_lines = {(r["source_file"], r["source_line"]) for r in dead_letters(spark, tmp_path)}
    assert not valid_lines & dead_lines
    assert len(valid_lines) + len(dead_lines) == want["records"]
    # The error zone mirrors the bad lines, file by file.
    zone = tmp_path / "_error_zone" / source / summary["run_id"]
    mirrored = sorted(line for p in zone.rglob("part-*.txt") for line in p.read_text().splitlines())
    assert mirrored == sorted(r["raw_text"] for r in dead_letters(spark, tmp_path))


def test_rerun_skips_processed_files_and_reprocess_forces(
    spark: SparkSession, samples: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, expected = samples
    assert run("mealdash", folder / "mealdash", tmp_path) == 0
    assert run("mealdash", folder / "mealdash", tmp_path) == 0
    first, second = summaries(tmp_path)
    assert (second["records_read"], second["files_skipped_already_processed"]) == (0, 2)
    assert (
        spark.read.format("delta").load(str(tmp_path / "mealdash" / "orders")).count()
        == first["records_valid"]
    )
    assert run("mealdash", folder / "mealdash", tmp_path, "--reprocess") == 0
    assert summaries(tmp_path)[-1]["records_read"] == expected["mealdash/orders"]["records"]


def test_unfinished_run_is_undone_by_the_next_run(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    (feed / "a.jsonl").write_text('{"order_id": "QB-1"\n')
    lake = tmp_path / "lake"
    # A file with no good record is quarantined whole (exit 6), its record dead-lettered.
    assert run("quickbite", feed, lake, "--run_id", "crashed-run") == EXIT_FILE_CORRUPT
    # Pretend the run died after writing: its in-flight marker is still there.
    mark_inflight(str(lake / "_inflight" / "quickbite" / "orders"), "crashed-run")
    assert run("quickbite", feed, lake, "--reprocess", "--run_id", "second") == EXIT_FILE_CORRUPT
    rows = spark.read.format("delta").load(str(lake / "_dead_letter")).select("run_id").collect()
    assert [r[0] for r in rows] == ["second"]
    runs = spark.read.format("delta").load(str(lake / "_runs")).select("run_id").collect()
    assert [r[0] for r in runs] == ["second"]


def test_line_numbers_are_exact_when_spark_splits_a_file(spark: SparkSession, tmp_path: Path) -> None:
    good = json.dumps(
        {"order_id": "QB-00000001", "customer_id": "C000001", "restaurant_id": "R1",
         "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "total": 1.0,
         "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z"}
    )  # fmt: skip
    bad_lines = {7, 500, 1201, 2999, 3000}
    lines = [f"broken line {n}" if n in bad_lines else good for n in range(1, 3001)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "big.jsonl").write_text("\n".join(lines) + "\n")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16384")
    try:
        assert run("quickbite", tmp_path / "in", tmp_path / "lake", "--skip_dq") == 0  # one order id
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    dead = dead_letters(spark, tmp_path / "lake")
    assert [(r["source_line"], r["raw_text"]) for r in dead] == [
        (n, f"broken line {n}") for n in sorted(bad_lines)
    ]
    valid = spark.read.format("delta").load(str(tmp_path / "lake" / "quickbite" / "orders"))
    got = sorted(r[0] for r in valid.select("_source_line").collect())
    assert got == [n for n in range(1, 3001) if n not in bad_lines]


def test_a_clean_file_skips_the_error_list_and_one_bad_line_gets_it(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No record flagged: the measuring pass splits without the error list's expression (it is built on a
    second thread while the first pass runs, and planned only when needed); one bad line and it is used."""
    from feedguard.parse.flags import split_flagged as real_split

    planned: list[int] = []  # the size of the error expression each split plans

    def spied(df: DataFrame, record_errors: Column, scratch: tuple[str, ...]) -> tuple[DataFrame, DataFrame]:
        planned.append(len(str(record_errors)))
        return real_split(df, record_errors, scratch)

    monkeypatch.setattr("feedguard.parse.measure.split_flagged", spied)
    orders = [
        json.dumps(
            {
                "order_id": f"QB-{n:08d}",
                "customer_id": "C000001",
                "restaurant_id": "R1",
                "items": [{"sku": "S", "qty": 1, "price": 1.0}],
                "subtotal": 1.0,
                "total": 1.0,
                "status": "placed",
                "city": "Berlin",
                "ordered_at": "2026-11-01T10:00:00Z",
            }
        )
        for n in range(1, 16)
    ]
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "day1.jsonl").write_text("\n".join(orders[:5]) + "\n\n")  # a blank line: no record
    assert run("quickbite", tmp_path / "clean", tmp_path / "lake", "--skip_dq") == 0
    (summary,) = summaries(tmp_path / "lake")
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (5, 5, 0)
    assert summary["status"] == "succeeded"
    assert len(planned) == 1 and planned[0] < 200  # an empty array literal
    (tmp_path / "bad").mkdir()
    bad = orders[5].replace("QB-", "QB_")
    (tmp_path / "bad" / "day2.jsonl").write_text("\n".join([bad, *orders[6:]]) + "\n")
    assert run("quickbite", tmp_path / "bad", tmp_path / "lake", "--skip_dq") == 0
    assert [
        (r["source_line"], r["error_type"], r["raw_text"]) for r in dead_letters(spark, tmp_path / "lake")
    ] == [(1, "constraint_violation", bad)]
    assert len(planned) == 2 and planned[1] > 10_000  # the whole error list
    (_, second) = summaries(tmp_path / "lake")
    assert (second["records_read"], second["records_valid"], second["records_dead_lettered"]) == (10, 9, 1)


def test_unreadable_and_odd_files(spark: SparkSession, tmp_path: Path) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    good = (
        '{"order_id":"QB-00000001","customer_id":"C000001","restaurant_id":"R1",'
        '"items":[{"sku":"S","qty":1,"price":1.0}],"subtotal":1.0,"total":1.0,'
        '"status":"placed","city":"Berlin","ordered_at":"2026-11-01T10:00:00Z"}'
    )
    truncated = gzip.compress((good + "\n").encode() * 2000)
    (feed / "a_truncated.jsonl.gz").write_bytes(truncated[: len(truncated) // 2])
    (feed / "b_binary.json").write_bytes(bytes(range(256)) * 64)
    (feed / "c_empty.jsonl").write_bytes(b"")
    (feed / "d_bom_crlf.jsonl").write_bytes(b"\xef\xbb\xbf" + (good + "\r\n").encode() * 2)
    (feed / "e_nul_latin1.jsonl").write_bytes(
        good.encode() + b"\n" + good.replace("Berlin", "K\xf6ln").encode("latin-1") + b'\n{"order_id":\x00}\n'
    )
    huge = '{"order_id":"QB-00000009","note":"' + "x" * (50 * 1024 * 1024) + '"'
    (feed / "f_huge_line.jsonl").write_text(huge + "\n")
    # The same order id in every file (--skip_dq); unreadable files and files above the contract's
    # threshold (20% bad, whatever their size) are quarantined whole: exit 6.
    assert run("quickbite", feed, tmp_path / "lake", "--skip_dq") == 6
    (summary,) = summaries(tmp_path / "lake")
    by_file = {Path(f["path"]).name: f for f in summary["files"]}
    assert {n: (f["records_read"], f["records_valid"], f["verdict"]) for n, f in by_file.items()} == {
        "a_truncated.jsonl.gz": (1, 0, "file_corrupt"),
        "b_binary.json": (1, 0, "file_corrupt"),
        "c_empty.jsonl": (0, 0, "clean"),
        "d_bom_crlf.jsonl": (2, 2, "clean"),
        "e_nul_latin1.jsonl": (3, 0, "file_corrupt"),
        "f_huge_line.jsonl": (1, 0, "file_corrupt"),
    }
    quarantined = Path(by_file["a_truncated.jsonl.gz"]["quarantined_to"])
    assert quarantined.read_bytes() == (feed / "a_truncated.jsonl.gz").read_bytes()
    dead = {
        (Path(r["source_file"]).name, r["source_line"]): r for r in dead_letters(spark, tmp_path / "lake")
    }
    assert "encoding_error" in dead[("e_nul_latin1.jsonl", 2)]["error_detail"]
    assert "encoding_error" in dead[("e_nul_latin1.jsonl", 3)]["error_detail"]
    assert "malformed_json" in dead[("f_huge_line.jsonl", 1)]["error_detail"]
    assert dead[("f_huge_line.jsonl", 1)]["raw_text"] == huge
    assert dead[("a_truncated.jsonl.gz", None)]["error_type"] == "file_corrupt"
    assert "truncated" in dead[("a_truncated.jsonl.gz", None)]["error_detail"]


def test_user_errors_exit_2_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("quickbite", tmp_path / "nowhere", tmp_path / "lake") == 2
    assert f"no input file matches '{tmp_path / 'nowhere'}'" in capsys.readouterr().err
    assert run("acme", tmp_path, tmp_path / "lake") == 2
    assert "no contract for acme/orders" in capsys.readouterr().err
    assert main(["ingest_files.py", "--source", "quickbite"]) == 2
    assert (
        "the following arguments are required: --dataset, --input_path, --lake_path"
        in capsys.readouterr().err
    )


def test_csv_edge_files(spark: SparkSession, tmp_path: Path) -> None:
    header = (
        "order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,"
        "customer_phone,order_datetime"
    )
    row = "MD0000001,Falafel,2,9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"
    feed = tmp_path / "in"
    feed.mkdir()
    (feed / "a_header_only.csv").write_text(header + "\n")
    latin1 = row.replace("MD0000001", "MD0000002").replace("Falafel", "Käse").encode("latin-1")
    # Six good rows and one bad: below the contract's intermittent threshold, so the file loads.
    good = [row] + [row.replace("MD0000001", f"MD000000{n}") for n in range(3, 8)]
    (feed / "b_latin1.csv").write_bytes(("\n".join([header, *good]) + "\n").encode() + latin1 + b"\n")
    assert run("mealdash", feed, tmp_path / "lake") == 0
    (summary,) = summaries(tmp_path / "lake")
    by_file = {Path(f["path"]).name: (f["records_read"], f["records_valid"]) for f in summary["files"]}
    assert by_file == {"a_header_only.csv": (0, 0), "b_latin1.csv": (7, 6)}
    (dead,) = dead_letters(spark, tmp_path / "lake")
    assert (dead["source_line"], dead["error_type"]) == (8, "encoding_error")
    assert dead["raw_text"] == row.replace("MD0000001", "MD0000002").replace("Falafel", "K\ufffdse")
