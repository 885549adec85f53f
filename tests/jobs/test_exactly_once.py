"""Exactly once under real operations (issue 13): reprocessing, re-sent files, retries, crashes, leases.

Each run goes through ``run_file_job`` (what ``jobs/ingest_files.py`` calls) on the shared Spark session.
A crash is simulated by an exception that no handler of the job catches (a ``BaseException``), raised
before a chosen step: nothing after it runs, as if the process had been killed there.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.registry import load_versions
from feedguard.errors import LeaseHeldError
from feedguard.ingest.flow import StepHook, no_hook
from feedguard.ingest.job import run_file_job
from feedguard.lake.layout import Lake
from feedguard.lake.lease_store import LeaseRecord, LocalLeaseStore
from feedguard.lake.runlog import mark_inflight
from feedguard.lake.storage import list_files
from feedguard.runtime.reporting import Reporters
from feedguard.summary import RunSummary
from feedguard_dev.samples import _dumps, quickbite_order

DAY = dt.date(2026, 11, 28)
BAD_LINE = '{"order_id": "QB-broken", "items": [}'


class SimulatedCrash(BaseException):
    """The process dies here: no ``except Exception`` sees it."""


def crash_before(step: str) -> StepHook:
    def hook(name: str) -> None:
        if name == step:
            raise SimulatedCrash(step)

    return hook


def good_lines(start: int, count: int) -> list[str]:
    rng = random.Random(start)
    return [_dumps(quickbite_order(rng, n, DAY)) for n in range(start, start + count)]


def ingest(
    spark: SparkSession,
    feed: Path,
    lake: Path,
    run_id: str,
    *,
    reprocess: bool = False,
    on_step: StepHook = no_hook,
    lease_ttl_seconds: float = 600.0,
) -> list[RunSummary]:
    return run_file_job(
        spark,
        load_versions("contracts", "quickbite", "orders"),
        list_files(str(feed)),
        Lake(str(lake)),
        Reporters(),
        job_name="test",
        input_path=str(feed),
        run_id=run_id,
        reprocess=reprocess,
        expectations_dir=None,
        on_step=on_step,
        lease_ttl_seconds=lease_ttl_seconds,
    )


def table(spark: SparkSession, path: Path) -> list[dict[str, Any]]:
    return [r.asDict() for r in spark.read.format("delta").load(str(path)).collect()]


def assert_exactly_once(spark: SparkSession, lake: Path, want_valid: int, want_dead: int) -> None:
    """Every (file, line) once: in the valid table or among the open dead letters, never both."""
    valid = [(r["_source_file"], r["_source_line"]) for r in table(spark, lake / "quickbite" / "orders")]
    dead = [
        (r["source_file"], r["source_line"])
        for r in table(spark, lake / "_dead_letter")
        if r["status"] == "open" and r["source"] == "quickbite"
    ]
    assert (len(valid), len(dead)) == (want_valid, want_dead)
    assert len(set(valid)) == len(valid)
    assert len(set(dead)) == len(dead)
    assert not set(valid) & set(dead)


def inflight(lake: Path) -> list[str]:
    folder = lake / "_inflight" / "quickbite" / "orders"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    """One JSON Lines file: 5 valid records and 1 malformed one (line 3)."""
    folder = tmp_path / "in"
    folder.mkdir()
    lines = good_lines(1, 5)
    lines.insert(2, BAD_LINE)
    (folder / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_reprocess_replaces_what_earlier_runs_loaded(spark: SparkSession, feed: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest(spark, feed, lake, "first")
    (summary,) = ingest(spark, feed, lake, "second", reprocess=True)
    assert_exactly_once(spark, lake, 5, 1)
    assert {r["_run_id"] for r in table(spark, lake / "quickbite" / "orders")} == {"second"}
    assert summary["superseded_runs"] == {(feed / "orders.jsonl").resolve().as_uri(): ["first"]}
    assert summary["rows_superseded"] == {"valid": 5, "dead_letters": 1}
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (6, 5, 1)
    # The superseded run's error-zone copy of the file is gone; the new run wrote its own.
    assert not list((lake / "_error_zone" / "quickbite" / "first").glob("file=*"))
    assert list((lake / "_error_zone" / "quickbite" / "second").glob("file=*"))


def test_corrected_file_resent_under_the_same_name_supersedes_the_old_version(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    ingest(spark, feed, lake, "first")
    fixed = good_lines(1, 6)
    (feed / "orders.jsonl").write_text("\n".join(fixed) + "\n", encoding="utf-8")
    (summary,) = ingest(spark, feed, lake, "resent")
    assert_exactly_once(spark, lake, 6, 0)
    assert summary["superseded_runs"] == {(feed / "orders.jsonl").resolve().as_uri(): ["first"]}


def test_the_same_content_is_never_loaded_twice(spark: SparkSession, feed: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest(spark, feed, lake, "first")
    original = feed / "orders.jsonl"
    original.touch()  # re-sent unchanged: a new modification time, the same bytes
    (feed / "orders (1).jsonl").write_bytes(original.read_bytes())  # delivered twice under another name
    (summary,) = ingest(spark, feed, lake, "again")
    assert_exactly_once(spark, lake, 5, 1)
    assert summary["records_read"] == 0
    assert summary["files_skipped_already_processed"] == 1
    assert summary["files_skipped_duplicate_content"] == {
        (feed / "orders (1).jsonl").resolve().as_uri(): original.resolve().as_uri()
    }


STEPS = [
    "check",
    "parse_and_measure",
    "write_valid",
    "write_dead_letters",
    "write_error_zone",
    "write_ledger",
    "report",
    "close",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_then_a_retry_with_the_same_run_id_loses_and_duplicates_nothing(
    spark: SparkSession, feed: Path, tmp_path: Path, step: str
) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(SimulatedCrash):
        ingest(spark, feed, lake, "attempt", on_step=crash_before(step))
    pending = sorted(p.name for p in (lake / "_runs" / "_pending_reports").rglob("*.json"))
    if step == "report":  # after the commit point: closed, its report not sent yet
        assert (inflight(lake), pending) == ([], ["attempt.json"])
    else:
        assert (inflight(lake), pending) == (["attempt"], [])
    (summary,) = ingest(spark, feed, lake, "attempt")
    assert summary["exit_code"] == 0, summary["message"]
    assert (summary["records_read"], summary["records_valid"], summary["records_dead_lettered"]) == (6, 5, 1)
    assert_exactly_once(spark, lake, 5, 1)
    assert [r["run_id"] for r in table(spark, lake / "_runs")] == ["attempt"]
    metrics = table(spark, lake / "_metrics")
    read = [m["value"] for m in metrics if m["metric_name"] == "RecordsRead"]
    assert read == [6.0]  # neither undone nor double-counted metrics rows, and the report was sent
    assert summary["metrics_destination"] == "none"
    assert inflight(lake) == []
    assert not list((lake / "_runs" / "_pending_reports").rglob("*.json"))


@pytest.mark.parametrize("step", ["write_dead_letters", "write_ledger", "close"])
def test_a_crash_while_reprocessing_restores_what_it_had_superseded(
    spark: SparkSession, feed: Path, tmp_path: Path, step: str
) -> None:
    lake = tmp_path / "lake"
    ingest(spark, feed, lake, "first")
    with pytest.raises(SimulatedCrash):
        ingest(spark, feed, lake, "reprocess", reprocess=True, on_step=crash_before(step))
    (summary,) = ingest(spark, feed, lake, "next")  # a new run id, no --reprocess: the file is done
    assert summary["records_read"] == 0
    assert_exactly_once(spark, lake, 5, 1)
    assert {r["_run_id"] for r in table(spark, lake / "quickbite" / "orders")} == {"first"}
    assert {r["run_id"] for r in table(spark, lake / "_dead_letter")} == {"first"}


def test_a_retry_of_a_finished_run_does_nothing(spark: SparkSession, feed: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    (first,) = ingest(spark, feed, lake, "done")
    (again,) = ingest(spark, feed, lake, "done", reprocess=True)
    assert again == json.loads(json.dumps(first, default=str))
    assert_exactly_once(spark, lake, 5, 1)
    assert [r["run_id"] for r in table(spark, lake / "_runs")] == ["done"]


def test_a_failing_step_ends_the_run_accounted_and_the_next_run_loads_the_file(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"

    def fail(name: str) -> None:
        if name == "write_dead_letters":
            raise RuntimeError("injected failure")

    (failed,) = ingest(spark, feed, lake, "failing", on_step=fail)
    assert (failed["status"], failed["exit_code"], failed["failed_step"]) == (
        "failed",
        1,
        "write_dead_letters",
    )
    assert (failed["records_read"], failed["records_valid"], failed["records_dead_lettered"]) == (1, 0, 1)
    (dead,) = table(spark, lake / "_dead_letter")
    assert dead["error_type"] == "run_failed" and "injected failure" in dead["error_detail"]
    kept = lake / "_quarantine" / "quickbite" / "orders" / "failing" / "orders.jsonl"
    assert kept.read_bytes() == (feed / "orders.jsonl").read_bytes()
    assert table(spark, lake / "quickbite" / "orders") == []  # the valid commit was undone
    assert inflight(lake) == []
    (summary,) = ingest(spark, feed, lake, "next")
    assert summary["superseded_runs"] == {(feed / "orders.jsonl").resolve().as_uri(): ["failing"]}
    assert_exactly_once(spark, lake, 5, 1)
    assert {r["error_type"] for r in table(spark, lake / "_dead_letter")} == {"malformed_json"}


def test_a_file_that_vanished_before_it_was_read_is_accounted_and_retried(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    listed = list_files(str(feed))
    gone = feed / "orders.jsonl"
    content = gone.read_bytes()
    gone.unlink()
    (summary,) = run_file_job(
        spark, load_versions("contracts", "quickbite", "orders"), listed, Lake(str(lake)), Reporters(),
        job_name="test", input_path=str(feed), run_id="vanished", expectations_dir=None,
    )  # fmt: skip
    assert summary["dead_letters_by_type"] == {"file_unreadable": 1}
    gone.write_bytes(content)
    ingest(spark, feed, lake, "back")
    assert_exactly_once(spark, lake, 5, 1)


def test_a_run_of_a_feed_whose_lease_is_held_does_nothing(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    store = LocalLeaseStore(Lake(str(lake)).lease("quickbite", "orders"))
    now = dt.datetime.now(dt.UTC).timestamp()
    assert store.create(LeaseRecord("other-run", "t1", "host-a", 1, now, now, now + 600))
    with pytest.raises(LeaseHeldError, match="other-run"):
        ingest(spark, feed, lake, "second")
    assert not (lake / "quickbite").exists()
    assert inflight(lake) == []


def test_an_expired_lease_is_taken_over_and_the_dead_run_undone(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(SimulatedCrash):
        ingest(spark, feed, lake, "dead", on_step=crash_before("write_ledger"))
    store = LocalLeaseStore(Lake(str(lake)).lease("quickbite", "orders"))
    past = dt.datetime.now(dt.UTC).timestamp() - 3600
    assert store.create(LeaseRecord("dead", "t-dead", "host-a", 1, past, past, past + 600))
    (summary,) = ingest(spark, feed, lake, "survivor")
    assert summary["records_read"] == 6
    assert_exactly_once(spark, lake, 5, 1)
    assert store.read() is None  # released at the end


def test_two_runs_at_once_load_everything_exactly_once(
    spark: SparkSession, feed: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    outcomes: dict[str, Any] = {}
    started = threading.Barrier(2)

    def run(run_id: str) -> None:
        started.wait()
        try:
            outcomes[run_id] = ingest(spark, feed, lake, run_id)
        except LeaseHeldError as exc:
            outcomes[run_id] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = sorted(type(v).__name__ for v in outcomes.values())
    assert kinds == ["LeaseHeldError", "list"]
    assert_exactly_once(spark, lake, 5, 1)
    # The loser retries later: nothing left to do.
    (later,) = ingest(spark, feed, lake, "later")
    assert later["records_read"] == 0
    assert_exactly_once(spark, lake, 5, 1)


def test_recovery_leaves_no_metrics_of_undone_runs(spark: SparkSession, feed: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest(spark, feed, lake, "r1")
    mark_inflight(str(lake / "_inflight" / "quickbite" / "orders"), "r1")  # as if r1 died after reporting
    ingest(spark, feed, lake, "r2")
    metrics = spark.read.format("delta").load(str(lake / "_metrics"))
    assert metrics.where(F.col("run_id") == "r1").count() == 0
    assert_exactly_once(spark, lake, 5, 1)


def test_a_kafka_run_of_a_feed_whose_lease_is_held_exits_75_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jobs.ingest_kafka import main as kafka_main

    lake = tmp_path / "lake"
    store = LocalLeaseStore(Lake(str(lake)).lease("foodnow", "order_events"))
    now = dt.datetime.now(dt.UTC).timestamp()
    assert store.create(LeaseRecord("hourly-run", "t1", "host-a", 1, now, now, now + 600))
    code = kafka_main(
        ["ingest_kafka.py", "--source", "foodnow", "--dataset", "order_events", "--lake_path", str(lake),
         "--bootstrap_servers", "127.0.0.1:9", "--topic", "foodnow.order-events"]
    )  # fmt: skip
    assert code == 75
    assert "foodnow/order_events is being ingested by run hourly-run" in capsys.readouterr().err
    assert sorted(p.name for p in lake.iterdir()) == ["_leases"]
