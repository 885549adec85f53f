"""Raw bytes, encodings, JSON arrays and caps on hostile input, through whole runs of the file job.

Each test runs the job once on a folder of small files written here, then compares the dead letters
and the error zone with the input *bytes*.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import SparkSession

from feedguard.cli import main as cli
from jobs.ingest_files import main

ORDER = {
    "order_id": "QB-00000001", "customer_id": "C000001", "restaurant_id": "R1",
    "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "total": 1.0,
    "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z",
}  # fmt: skip
HEADER = (
    b"order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,customer_phone,order_datetime"
)


def order(n: int, **changes: Any) -> str:
    return json.dumps({**ORDER, "order_id": f"QB-{n:08d}", **changes}, ensure_ascii=False)


def contracts(tmp_path: Path, source: str, **overrides: Any) -> Path:
    """A copy of the committed contracts with top-level keys of ``source``'s contract replaced."""
    folder = tmp_path / "contracts"
    if not folder.exists():
        shutil.copytree("contracts", folder)
    path = folder / source / "orders.v1.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **overrides}, sort_keys=False))
    return folder


def run(source: str, feed: Path, lake: Path, contracts_dir: Path | None = None) -> dict[str, Any]:
    extra = ["--contracts_dir", str(contracts_dir)] if contracts_dir else []
    code = main(
        ["ingest_files.py", "--JOB_NAME", "test", "--source", source, "--dataset", "orders", "--skip_dq",
         "--input_path", str(feed), "--lake_path", str(lake), *extra]
    )  # fmt: skip
    (path,) = (lake / "_runs").glob("*.json")
    summary: dict[str, Any] = json.loads(path.read_text())
    assert code == summary["exit_code"]
    return summary


def dead_letters(spark: SparkSession, lake: Path) -> dict[tuple[str, int | None], dict[str, Any]]:
    rows = spark.read.format("delta").load(str(lake / "_dead_letter")).collect()
    return {(Path(r["source_file"]).name, r["source_line"]): r.asDict() for r in rows}


# These few-record files are judged record by record: above the default threshold (20% bad) a file is
# quarantined whole (tests/jobs/test_verdicts.py).
LENIENT = {"intermittent_max_ratio": 1.0}


def error_zone(lake: Path, source: str, summary: dict[str, Any], file: str) -> bytes:
    folder = lake / "_error_zone" / source / summary["run_id"] / f"file={file}"
    return b"".join(p.read_bytes() for p in sorted(folder.glob("part-*")))


def by_file(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).name: f for f in summary["files"]}


def test_bytes_that_are_not_utf8_reach_the_dead_letter_and_error_zone_byte_for_byte(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    lines = [
        order(1).encode(),
        order(2, city="K\u00f6ln").encode("cp1252"),  # a Windows-1252 byte: F6
        b'{"order_id":"QB-00000003",\x80"city":"Berlin"}',  # a lone continuation byte
        order(4, status="lost", city="Z\u00fcrich").encode(),  # valid UTF-8, a bad value
        b"\xef\xbb\xbf\xff\xfe broken",  # bytes that are no text at all
    ]
    (feed / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    lake = tmp_path / "lake"
    summary = run("quickbite", feed, lake, contracts(tmp_path, "quickbite", thresholds=LENIENT))
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (5, 1, 4)
    dead = dead_letters(spark, lake)
    for line in (2, 3, 5):
        row = dead[("mixed.jsonl", line)]
        assert row["error_type"] == "encoding_error"
        assert (row["raw_bytes"], row["raw_encoding"]) == (lines[line - 1], "utf-8")
        assert row["raw_text"] == lines[line - 1].decode("utf-8", errors="replace")
    valid_utf8 = dead[("mixed.jsonl", 4)]
    assert (valid_utf8["raw_text"], valid_utf8["raw_bytes"], valid_utf8["raw_encoding"]) == (
        lines[3].decode(),
        None,
        None,
    )
    assert error_zone(lake, "quickbite", summary, "mixed.jsonl") == b"".join(
        lines[n - 1] + b"\n" for n in (2, 3, 4, 5)
    )
    # Replay reads the original bytes back: the records fail as before, the bytes are untouched.
    args = ["replay", "--source", "quickbite", "--dataset", "orders", "--lake", str(lake)]
    assert cli([*args, "--replay-run-id", "replay-1"]) == 0
    after = dead_letters(spark, lake)
    assert {k: (r["status"], r["error_type"], r["raw_bytes"]) for k, r in after.items()} == {
        k: ("open", r["error_type"], r["raw_bytes"]) for k, r in dead.items()
    }
    assert after[("mixed.jsonl", 2)]["error_detail"].startswith("replayed under v1: encoding_error")


def test_a_windows_1252_contract_decodes_exactly_and_keeps_the_input_bytes(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    row = "MD{n:07d},{menu},{qty},9.50,,card,completed,+49-170-0000001,2026-11-28 10:00:00"
    lines = [
        HEADER,
        row.format(n=1, menu="Cr\u00e8me br\u00fbl\u00e9e \u20ac", qty=2).encode("cp1252"),
        row.format(n=2, menu="K\u00e4se", qty=0).encode("cp1252"),  # quantity below the minimum
        row.format(n=3, menu="Falafel", qty=1)
        .encode("cp1252")
        .replace(b"Falafel", b"Fal\x81fel"),  # undefined
        row.format(n=4, menu="Tofu", qty=1).encode() + b",x" * 30_000,  # 30,009 fields: the parser's limit
    ]
    (feed / "orders.csv").write_bytes(b"\r\n".join(lines) + b"\r\n")
    lake = tmp_path / "lake"
    summary = run(
        "mealdash", feed, lake, contracts(tmp_path, "mealdash", encoding="windows-1252", thresholds=LENIENT)
    )
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (4, 1, 3)
    valid = spark.read.format("delta").load(str(lake / "mealdash" / "orders")).collect()
    assert [r["menu_id"] for r in valid] == ["Cr\u00e8me br\u00fbl\u00e9e \u20ac"]
    dead = dead_letters(spark, lake)
    assert {line: r["error_type"] for (_, line), r in dead.items()} == {
        3: "constraint_violation",
        4: "encoding_error",
        5: "too_many_columns",
    }
    cheese = dead[("orders.csv", 3)]
    assert (cheese["raw_text"], cheese["raw_bytes"], cheese["raw_encoding"]) == (
        lines[2].decode("cp1252"),
        lines[2],
        "windows-1252",
    )
    assert dead[("orders.csv", 4)]["raw_bytes"] == lines[3]
    assert dead[("orders.csv", 5)]["raw_text"] == lines[4].decode()
    assert dead[("orders.csv", 5)]["error_detail"].startswith(
        "too_many_columns: 30009 fields, above the cap of 20480 (limits.max_csv_columns)"
    )
    assert error_zone(lake, "mealdash", summary, "orders.csv") == b"".join(line + b"\n" for line in lines[2:])


def test_utf16_files_are_read_under_a_utf16_contract_and_named_under_a_utf8_one(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    # U+0A2C U+4E00 are 2C 0A 00 4E in UTF-16LE: a "0A 00" that is no newline.
    lines = [order(1, city="K\u00f6ln"), order(2, city="\u0a2c\u4e00"), order(3, status="lost"), order(4)]
    data = "\r\n".join(lines).encode("utf-16")  # FF FE, then UTF-16LE; CRLF; no final newline
    (feed / "orders.jsonl").write_bytes(data)
    lake = tmp_path / "lake"
    summary = run(
        "quickbite", feed, lake, contracts(tmp_path, "quickbite", encoding="utf-16", thresholds=LENIENT)
    )
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (4, 3, 1)
    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    assert sorted((r["_source_line"], r["city"]) for r in valid.collect()) == [
        (1, "K\u00f6ln"),
        (2, "\u0a2c\u4e00"),
        (4, "Berlin"),
    ]
    (lost,) = dead_letters(spark, lake).values()
    assert (lost["source_line"], lost["raw_text"], lost["raw_encoding"]) == (3, lines[2], "utf-16le")
    assert lost["raw_bytes"] == lines[2].encode("utf-16-le")
    assert error_zone(lake, "quickbite", summary, "orders.jsonl") == (lines[2] + "\n").encode("utf-16-le")

    other = tmp_path / "lake_utf8"
    summary = run("quickbite", feed, other)  # the committed contract: utf-8
    file = by_file(summary)["orders.jsonl"]
    assert (file["verdict"], file["records_read"], file["records_valid"]) == ("file_corrupt", 1, 0)
    assert file["evidence"] == {
        "reason": "the file is utf-16le (it starts with the byte-order mark FF FE) "
        "but the contract declares encoding utf-8",
        "encoding_detected": "utf-16le",
    }
    assert Path(file["quarantined_to"]).read_bytes() == data
    (row,) = dead_letters(spark, other).values()
    assert row["error_type"] == "file_corrupt" and "utf-16le" in row["error_detail"]


ARRAY_ELEMENTS = 20_000  # 4.6 MB: the wholetext + posexplode reader ran out of a 2 GB driver's memory


def test_hostile_json_input_meets_its_caps_and_a_large_array_loads(
    spark: SparkSession, tmp_path: Path
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    elements = [order(n) for n in range(ARRAY_ELEMENTS)]
    elements[9] = elements[9].replace('"placed"', '"lost"')
    elements[11] = elements[11].replace("}", "} x", 1)  # trailing content inside one element
    (feed / "array.json").write_text("[\n" + ",\n".join(elements) + "\n]\n", encoding="utf-8")
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    (feed / "bomb.jsonl.gz").write_bytes(member * 1024)  # about 1 MB that expands to 1 GiB
    deep = '{"order_id":"QB-99999999","note":' + "[" * 60 + "]" * 60 + "}"
    large = order(99_999_998, note="x" * 5000)
    (feed / "hostile.jsonl").write_text(f"{deep}\n{large}\n{order(99_999_997)}\n", encoding="utf-8")
    limits = {"max_record_bytes": 4096, "max_nesting_depth": 50}
    lake = tmp_path / "lake"
    summary = run(
        "quickbite", feed, lake, contracts(tmp_path, "quickbite", limits=limits, thresholds=LENIENT)
    )
    files = by_file(summary)
    assert {name: (f["records_read"], f["records_valid"]) for name, f in files.items()} == {
        "array.json": (ARRAY_ELEMENTS, ARRAY_ELEMENTS - 2),
        "bomb.jsonl.gz": (1, 0),
        "hostile.jsonl": (3, 1),
    }
    assert files["bomb.jsonl.gz"]["verdict"] == "file_corrupt"
    assert "limits.max_compression_ratio" in files["bomb.jsonl.gz"]["evidence"]["reason"]
    dead = dead_letters(spark, lake)
    assert dead[("array.json", 10)]["raw_text"] == elements[9]
    assert dead[("array.json", 10)]["error_detail"].endswith("(array element 10, from line 11)")
    assert dead[("array.json", 12)]["raw_text"] == elements[11]
    assert dead[("array.json", 12)]["error_type"] == "malformed_json"
    assert dead[("hostile.jsonl", 1)]["error_type"] == "too_deeply_nested"
    assert dead[("hostile.jsonl", 1)]["error_detail"] == (
        "too_deeply_nested: the JSON nests deeper than 50 levels (limits.max_nesting_depth)"
    )
    too_large = dead[("hostile.jsonl", 2)]
    assert (too_large["error_type"], too_large["raw_text"]) == ("record_too_large", large)
    assert too_large["error_detail"].startswith(
        f"record_too_large: the record is {len(large)} bytes, "
        "above the cap of 4096 bytes (limits.max_record_bytes)"
    )
    assert dead[("bomb.jsonl.gz", None)]["error_type"] == "file_corrupt"
