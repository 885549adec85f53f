"""The Kafka job's environment errors: one line naming the path or value, the exit code of their class.

Bad arguments are exit 2; a lake that cannot be written (read-only, full disk) is exit 74, and the rerun
after the fix loads the batch exactly once. The lake sits on a real tmpfs for the read-only and full-disk
cases (``mount`` needs root, which the test machines and CI run as; elsewhere those tests are skipped).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from test_kafka_ingest import assert_exactly_once, malformed_at, run_job, summaries, table

from feedguard.contracts.registry import load_versions, select_version
from feedguard.errors import EXIT_ENVIRONMENT, EXIT_USAGE
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import KafkaFeed, outage_policy
from feedguard.kafka.ingest import kafka_guard, run_kafka_ingest
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import iso, utc_now
from feedguard.runtime.entry import guarded
from feedguard_dev.foodnow_producer import produce_events
from feedguard_dev.kafka_broker import KafkaBroker

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NewTopic = Callable[..., str]


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the user sees (the log lines beside it say the same); never the internal-error traceback.

    (py4j may log a traceback of its own when a gateway connection resets: that is not the job's.)
    """
    err = capsys.readouterr().err
    assert "unexpected internal error" not in err
    return [line for line in err.splitlines() if line.startswith("feedguard: error:")]


def mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")


def remount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(target)], check=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs, unmounted at the end (tests remount it read-only or smaller)."""
    target = tmp_path / "disk"
    mount(target, "size=64m")
    yield target
    subprocess.run(["umount", str(target)], check=False)


@pytest.mark.parametrize("bootstrap", [" , ", "broker", "broker:ninety", "broker:70000", "kafka://b:9092",
                                       "b1:9092;b2:9092", "b1:9092,,b2:9092"])  # fmt: skip
def test_a_bad_bootstrap_string_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bootstrap: str
) -> None:
    assert run_job(bootstrap, "orders", tmp_path / "lake") == EXIT_USAGE
    (err,) = error_lines(capsys)
    assert err.startswith(f"feedguard: error: --bootstrap_servers {bootstrap!r}: ") and "host:port" in err
    assert not (tmp_path / "lake").exists()


def test_a_lake_path_that_is_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake.txt"
    lake.write_text("not a folder")
    assert run_job("127.0.0.1:9092", "orders", lake) == EXIT_USAGE
    assert error_lines(capsys) == [
        f"feedguard: error: --lake_path {lake} is a file, not a folder: point it at a folder"
    ]


def test_a_read_only_lake_exits_74_naming_the_path(disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remount(disk, "ro")
    assert run_job("127.0.0.1:9092", "orders", disk / "lake") == EXIT_ENVIRONMENT
    (err,) = error_lines(capsys)
    assert str(disk / "lake") in err and "Read-only file system" in err


def test_a_lake_turning_read_only_after_planning_exits_74_and_the_rerun_loads_once(
    spark: SparkSession,
    kafka: KafkaBroker,
    new_topic: NewTopic,
    disk: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = new_topic(partitions=2)
    sent = produce_events(kafka.bootstrap, topic, 30, seed=31)
    lake = disk / "lake"
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    ctx = RunContext("foodnow", "order_events", contract.version, "ro-run", iso(utc_now()))
    feed = KafkaFeed(kafka.bootstrap, topic, "feedguard-foodnow-order_events")

    def read_only_after_planning(stage: str) -> None:
        if stage == "planned":
            remount(disk, "ro")

    code = guarded(
        lambda: int(run_kafka_ingest(spark, contract, Lake(str(lake)), feed, ctx, job_name="test",
                    guard=kafka_guard(outage_policy("1", None)), after_write=read_only_after_planning)
                    ["exit_code"]),
        logging.getLogger("test"),
    )  # fmt: skip

    assert code == EXIT_ENVIRONMENT
    (err,) = error_lines(capsys)  # Hadoop's mkdirs only says no: Delta names the folder it could not create
    assert "a folder in the lake cannot be created" in err and str(lake / "foodnow" / "order_events") in err
    remount(disk, "rw")
    assert run_job(kafka.bootstrap, topic, lake) == 0
    (rerun,) = summaries(lake)
    assert (rerun["batch_seq"], rerun["batch_resumed"], rerun["records_read"]) == (1, True, 30)
    assert_exactly_once(spark, lake, kafka.bootstrap, topic, malformed_at(sent))


def test_a_full_disk_exits_74_and_the_rerun_after_the_fix_loads_once(
    spark: SparkSession,
    kafka: KafkaBroker,
    new_topic: NewTopic,
    disk: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = new_topic()
    sent = produce_events(kafka.bootstrap, topic, 30, seed=32)
    remount(disk, "size=12k")
    lake = disk / "lake"

    assert run_job(kafka.bootstrap, topic, lake) == EXIT_ENVIRONMENT
    (err,) = error_lines(capsys)
    assert "the disk is full" in err
    remount(disk, "size=64m")
    assert run_job(kafka.bootstrap, topic, lake) == 0
    assert sum(s["records_read"] for s in summaries(lake)) == 30
    assert_exactly_once(spark, lake, kafka.bootstrap, topic, malformed_at(sent))
    assert len({r["batch_seq"] for r in table(spark, lake, "_kafka_offsets")}) == 1
