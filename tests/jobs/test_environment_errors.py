"""Environment errors get one line naming the path or value and the exit code of their class (issue 13).

The full-disk and read-only cases put the lake on a real tmpfs (``mount`` needs root, which the
test machines and CI run as; elsewhere those two tests are skipped with the reason).
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feedguard.errors import EXIT_ENVIRONMENT, EXIT_USAGE
from feedguard_dev.samples import _dumps, quickbite_order
from jobs.ingest_files import main

DAY = dt.date(2026, 11, 28)


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the user sees (the log lines beside it say the same); never a traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("feedguard: error:")]


def run(input_path: Path, lake: Path, *extra: str) -> int:
    return main(
        ["ingest_files.py", "--JOB_NAME", "test", "--source", "quickbite", "--dataset", "orders",
         "--input_path", str(input_path), "--lake_path", str(lake), "--skip_dq", *extra]
    )  # fmt: skip


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = random.Random(3)
    lines = [_dumps(quickbite_order(rng, n, DAY)) for n in range(1, 41)]
    (folder / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "small"
    _mount(target, "size=8k")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "ro"
    _mount(target, "ro,size=64k")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_lake_path_that_is_a_file_is_a_usage_error(
    feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake.txt"
    lake.write_text("not a folder")
    assert run(feed, lake) == EXIT_USAGE
    err = error_lines(capsys)
    assert err == [f"feedguard: error: --lake_path {lake} is a file, not a folder: point it at a folder"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--contract_version", "two"), ("--lease_wait_seconds", "soon"), ("--lease_ttl_seconds", "-1")],
)
def test_a_bad_number_names_the_flag_and_the_value(
    feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    assert run(feed, tmp_path / "lake", flag, value) == EXIT_USAGE
    (err,) = error_lines(capsys)
    assert flag in err and repr(value) in err


def test_a_read_only_lake_exits_74_naming_the_path(
    feed: Path, read_only_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = read_only_disk / "lake"
    assert run(feed, lake) == EXIT_ENVIRONMENT
    (err,) = error_lines(capsys)
    assert str(lake) in err and "Read-only file system" in err


def test_a_full_disk_exits_74_and_the_rerun_after_a_fix_loses_nothing(
    spark: SparkSession, feed: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = small_disk / "lake"
    assert run(feed, lake, "--run_id", "full") == EXIT_ENVIRONMENT
    (err,) = error_lines(capsys)
    assert "disk is full" in err
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    assert run(feed, lake, "--run_id", "full") == 0
    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    assert valid.count() == 40
    assert valid.select("_source_line").distinct().count() == 40
