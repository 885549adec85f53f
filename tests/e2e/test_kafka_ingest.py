"""The Kafka job end to end: a real KRaft broker, real Spark, real Delta, runs through ``main(argv)``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from pyspark.sql import SparkSession

from feedguard.contracts.registry import load_versions, select_version
from feedguard.ingest.routing import RunContext
from feedguard.kafka.broker_offsets import fetch_group_offsets, fetch_offsets
from feedguard.kafka.config import KafkaFeed, outage_policy
from feedguard.kafka.ingest import kafka_guard, run_kafka_ingest
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import iso, utc_now
from feedguard_dev.foodnow_producer import ProduceResult, produce_events
from feedguard_dev.kafka_broker import KafkaBroker
from feedguard_dev.sinks import webhook_receiver
from jobs.ingest_kafka import main

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NewTopic = Callable[..., str]
Message = tuple[int, int, str | None, str, int]  # partition, offset, key, value, timestamp (ms)


def run_job(bootstrap: str, topic: str, lake: Path, *extra: str) -> int:
    return main(job_argv(bootstrap, topic, lake, *extra))


def job_argv(bootstrap: str, topic: str, lake: Path, *extra: str) -> list[str]:
    return [
        "ingest_kafka.py", "--JOB_NAME", "test-kafka", "--source", "foodnow", "--dataset", "order_events",
        "--bootstrap_servers", bootstrap, "--topic", topic, "--lake_path", str(lake), *extra,
    ]  # fmt: skip


def summaries(lake: Path) -> list[dict[str, Any]]:
    rows = sorted((lake / "_runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return [json.loads(p.read_text()) for p in rows]


def table(spark: SparkSession, lake: Path, name: str) -> list[dict[str, Any]]:
    return [r.asDict() for r in spark.read.format("delta").load(str(lake / name)).collect()]


def messages(bootstrap: str, topic: str) -> list[Message]:
    """Every message still on the broker, read with a plain kafka-python consumer."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        begin, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        expected = sum(end[tp] - begin[tp] for tp in tps)
        found: list[Message] = []
        deadline = time.monotonic() + 30
        while len(found) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                found += [
                    (r.partition, r.offset, r.key.decode() if r.key else None, r.value.decode(), r.timestamp)
                    for r in batch
                ]
        return sorted(found)
    finally:
        consumer.close()


def epoch_ms(value: datetime) -> int:
    return round(value.astimezone(UTC).timestamp() * 1000)  # collected timestamps are naive local times


def assert_exactly_once(
    spark: SparkSession, lake: Path, bootstrap: str, topic: str, malformed: set[tuple[int, int]]
) -> None:
    """Each message on the broker is in the valid table or the dead letters, once, with its lineage."""
    valid = [r for r in table(spark, lake, "foodnow/order_events") if r["_kafka_topic"] == topic]
    dead = [r for r in table(spark, lake, "_dead_letter") if r["kafka_topic"] == topic]
    loaded = {(r["_kafka_partition"], r["_kafka_offset"]): r for r in valid}
    rejected = {(r["kafka_partition"], r["kafka_offset"]): r for r in dead}
    assert len(loaded) == len(valid) and len(rejected) == len(dead), "a message landed twice"
    on_broker = messages(bootstrap, topic)
    assert set(loaded) | set(rejected) == {(p, o) for p, o, *_ in on_broker}
    assert set(rejected) == malformed and not set(loaded) & set(rejected)
    for partition, offset, key, value, stamp in on_broker:
        if (partition, offset) in rejected:
            row = rejected[(partition, offset)]
            assert (row["raw_text"], row["kafka_key"], row["source"], row["status"]) == (
                value, key, "foodnow", "open",
            )  # fmt: skip
            assert (row["source_file"], row["source_line"]) == (f"kafka://{topic}/{partition}", offset)
            assert epoch_ms(row["kafka_timestamp"]) == stamp
        else:
            row = loaded[(partition, offset)]
            event = json.loads(value)
            assert (row["event_id"], row["order_id"], row["_kafka_key"]) == (event["event_id"], key, key)
            assert (row["_source_file"], row["_source_line"]) == (f"kafka://{topic}/{partition}", offset)
            assert epoch_ms(row["_kafka_timestamp"]) == stamp


def malformed_at(*results: ProduceResult) -> set[tuple[int, int]]:
    return {at for r in results for at in r.malformed_offsets.values()}


def test_every_message_lands_once_and_reruns_read_only_new_messages(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=3)
    first = produce_events(kafka.bootstrap, topic, 90, seed=3)

    assert run_job(kafka.bootstrap, topic, tmp_path) == 0
    assert run_job(kafka.bootstrap, topic, tmp_path) == 0
    second = produce_events(kafka.bootstrap, topic, 30, seed=4)
    assert run_job(kafka.bootstrap, topic, tmp_path) == 0

    one, nothing, more = summaries(tmp_path)
    assert (one["records_read"], one["records_valid"], one["records_dead_lettered"]) == (90, 81, 9)
    assert one["dead_letters_by_type"] == {
        "malformed_json": 3,
        "missing_required_field": 3,
        "type_mismatch": 3,
    }
    assert (one["status"], one["batch_seq"], one["messages_lost"], one["consumer_lag"]) == (
        "succeeded_with_dead_letters", 1, 0, 90,
    )  # fmt: skip
    assert (nothing["status"], nothing["records_read"], nothing["batch_seq"]) == ("succeeded", 0, None)
    assert (more["records_read"], more["records_dead_lettered"], more["batch_seq"]) == (30, 3, 2)
    assert more["consumer_lag"] == 30 and set(more["consumer_lag_after_run"].values()) == {0}
    zone = tmp_path / "_error_zone" / "foodnow" / one["run_id"]
    mirrored = sorted(line for f in zone.rglob("part-*.txt") for line in f.read_text().splitlines())
    dead_letters = table(spark, tmp_path, "_dead_letter")
    dead_payloads = [r["raw_text"] for r in dead_letters if r["run_id"] == one["run_id"]]
    assert len(mirrored) == 9 and mirrored == sorted(dead_payloads)
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(first, second))
    _, latest = fetch_offsets(kafka.bootstrap, topic)
    assert fetch_group_offsets(kafka.bootstrap, "feedguard-foodnow-order_events", topic) == latest
    offsets = table(spark, tmp_path, "_kafka_offsets")
    assert sorted((r["batch_seq"], r["status"]) for r in offsets) == sorted(
        [(1, "planned")] * 3 + [(1, "committed")] * 3 + [(2, "planned")] * 3 + [(2, "committed")] * 3
    )
    assert {r["partition"]: r["end_offset"] for r in offsets if r["batch_seq"] == 2} == latest


def run_job_while_restarting(broker: KafkaBroker, after_seconds: float, argv: list[str]) -> int:
    """Run the job in a worker thread while this thread restarts the (killed) broker after a while.

    The broker is restarted from the test's own thread because it dies with the *thread* that started it
    (PR_SET_PDEATHSIG): a short-lived timer thread would take it down again when it ends.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="kafka-job") as pool:
        job = pool.submit(main, argv)
        time.sleep(after_seconds)
        broker.start()
        return job.result(timeout=300)


def test_a_broker_outage_inside_the_window_is_waited_out_and_ledgered(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=2)
    sent = produce_events(kafka.bootstrap, topic, 40, seed=5)
    kafka.kill()

    argv = job_argv(kafka.bootstrap, topic, tmp_path, "--expected_downtime_minutes", "1")
    assert run_job_while_restarting(kafka, 3, argv) == 0

    (summary,) = summaries(tmp_path)
    assert (summary["status"], summary["records_read"], summary["records_dead_lettered"]) == (
        "succeeded_with_dead_letters", 40, sent.malformed,
    )  # fmt: skip
    (outage,) = summary["outages"]
    assert outage["what"] == "fetch offsets" and outage["recovered"] and outage["attempts"] >= 2
    assert summary["downtime_seconds"] == outage["duration_seconds"] >= 3
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["topic"], row["kind"], row["detected_by_run_id"], row["in_maintenance_window"]) == (
        topic, "broker_unreachable", summary["run_id"], False,
    )  # fmt: skip
    assert (row["messages_lost"], row["consumer_lag_at_recovery"], row["attempts"]) == (
        0,
        40,
        outage["attempts"],
    )
    assert row["duration_seconds"] == pytest.approx(outage["duration_seconds"], abs=0.01)
    assert epoch_ms(row["outage_end"]) - epoch_ms(row["outage_start"]) == pytest.approx(
        1000 * row["duration_seconds"], abs=2
    )
    metrics = {r["metric_name"]: r["value"] for r in table(spark, tmp_path, "_metrics")}
    assert metrics["DowntimeSeconds"] == pytest.approx(outage["duration_seconds"], abs=0.01)
    assert metrics["ConsumerLag"] == 40


def test_an_outage_past_the_window_exits_75_with_an_alert_and_the_next_run_catches_up(
    spark: SparkSession,
    kafka: KafkaBroker,
    new_topic: NewTopic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = new_topic()
    sent = produce_events(kafka.bootstrap, topic, 20, seed=6)
    kafka.kill()
    try:
        with webhook_receiver() as hook:
            monkeypatch.setenv("FEEDGUARD_SLACK_WEBHOOK_URL", hook.endpoint())
            code = run_job(kafka.bootstrap, topic, tmp_path, "--expected_downtime_minutes", "0.05",
                           "--alerts", "slack")  # fmt: skip
    finally:
        kafka.start()

    assert code == 75
    (failed,) = summaries(tmp_path)
    assert (failed["status"], failed["exit_code"], failed["records_read"], failed["batch_seq"]) == (
        "broker_unavailable", 75, 0, None,
    )  # fmt: skip
    assert "past the expected-downtime window of 3 s" in failed["message"]
    assert failed["downtime_seconds"] >= 3 and not failed["outages"][0]["recovered"]
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["kind"], row["in_maintenance_window"], row["consumer_lag_at_recovery"]) == (
        "broker_unreachable", False, None,
    )  # fmt: skip
    assert row["duration_seconds"] == pytest.approx(failed["downtime_seconds"], abs=0.01)
    (post,) = hook.posts
    assert "run failed" in post.json["text"] and "exit code 75" in post.json["text"]
    assert not (tmp_path / "foodnow").exists()

    monkeypatch.delenv("FEEDGUARD_SLACK_WEBHOOK_URL")
    assert run_job(kafka.bootstrap, topic, tmp_path) == 0
    caught_up = summaries(tmp_path)[-1]
    assert (caught_up["records_read"], caught_up["downtime_seconds"], caught_up["outages"]) == (20, 0, [])
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


def set_topic_config(bootstrap: str, topic: str, config: dict[str, str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)])
    finally:
        admin.close()


def test_messages_expired_by_retention_are_detected_counted_ledgered_and_alerted(
    spark: SparkSession,
    kafka: KafkaBroker,
    new_topic: NewTopic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One event per send = per batch = per 600-byte segment: 5 an hour old, then 5 current ones.
    topic = new_topic(config={"segment.bytes": "600"})
    hour_ago = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    for seed in range(10):
        produce_events(kafka.bootstrap, topic, 1, seed=seed, malformed={},
                       timestamp_ms=hour_ago if seed < 5 else None)  # fmt: skip
    assert run_job(kafka.bootstrap, topic, tmp_path, "--max_offsets_per_partition", "1") == 0
    # While the job is away, retention drops the old segments: offsets 1 to 4 are never read.
    set_topic_config(kafka.bootstrap, topic, {"segment.bytes": "600", "retention.ms": "60000"})
    deadline = time.monotonic() + 30
    while fetch_offsets(kafka.bootstrap, topic)[0] != {0: 5} and time.monotonic() < deadline:
        time.sleep(0.5)

    with webhook_receiver() as hook:
        monkeypatch.setenv("FEEDGUARD_SLACK_WEBHOOK_URL", hook.endpoint())
        assert run_job(kafka.bootstrap, topic, tmp_path, "--alerts", "slack") == 0

    first, lossy = summaries(tmp_path)
    assert (first["records_read"], first["consumer_lag_after_run"]) == (1, {"0": 9})
    assert (lossy["status"], lossy["records_read"], lossy["messages_lost"]) == (
        "succeeded_with_message_loss",
        5,
        4,
    )
    assert lossy["lost_ranges"] == [{"partition": 0, "start": 1, "end": 5, "count": 4}]
    assert lossy["partitions"][0]["lost"] == {"start": 1, "end": 5, "count": 4}
    valid = table(spark, tmp_path, "foodnow/order_events")
    assert sorted(r["_kafka_offset"] for r in valid) == [0, 5, 6, 7, 8, 9]
    planned = [r for r in table(spark, tmp_path, "_kafka_offsets") if r["batch_seq"] == 2]
    assert {(r["status"], r["lost_start"], r["lost_end"], r["start_offset"]) for r in planned} == {
        ("planned", 1, 5, 5), ("committed", 1, 5, 5),
    }  # fmt: skip
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["kind"], row["messages_lost"], row["detected_by_run_id"], row["in_maintenance_window"]) == (
        "retention_loss", 4, lossy["run_id"], False,
    )  # fmt: skip
    assert json.loads(row["lost_ranges"]) == lossy["lost_ranges"]
    assert epoch_ms(row["outage_start"]) == pytest.approx(
        epoch_ms(datetime.fromisoformat(first["ended_at"])), abs=30_000
    )  # from the last commit (the consumer was away since) ...
    assert epoch_ms(row["outage_end"]) >= epoch_ms(datetime.fromisoformat(lossy["started_at"]))  # ... to now
    metrics = {
        r["metric_name"]: r["value"]
        for r in table(spark, tmp_path, "_metrics")
        if r["run_id"] == lossy["run_id"]
    }
    assert metrics["MessagesLost"] == 4
    (post,) = hook.posts
    assert "4 messages lost to retention" in post.json["text"]
    assert "partition 0: 1 to 4 (4)" in post.json["text"]
    assert "message_loss" in lossy["alerts"]


def offsets_rows(spark: SparkSession, lake: Path) -> list[tuple[int, str]]:
    return sorted((r["batch_seq"], r["status"]) for r in table(spark, lake, "_kafka_offsets"))


def test_a_job_killed_right_after_its_valid_write_is_completed_exactly_once_by_the_rerun(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=2)
    sent = produce_events(kafka.bootstrap, topic, 50, seed=8)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env |= {
        "FEEDGUARD_SPARK_MASTER": "local[1]",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lib")]),
    }

    crash = [sys.executable, "tests/support/crash_kafka_job.py", "valid_write"]
    killed = subprocess.run(
        [*crash, *job_argv(kafka.bootstrap, topic, tmp_path)[1:]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert killed.returncode == 137, killed.stderr[-3000:]
    assert len(table(spark, tmp_path, "foodnow/order_events")) == sent.valid  # landed before the kill
    assert not (tmp_path / "_dead_letter").exists() and not (tmp_path / "_runs").exists()
    assert offsets_rows(spark, tmp_path) == [(1, "planned")] * 2
    # The killed job still holds the feed's lease until it expires (10 min); the rerun comes after that.
    lease = tmp_path / "_leases" / "foodnow" / "order_events.json"
    assert json.loads(lease.read_text())["run_id"]
    lease.unlink()

    assert run_job(kafka.bootstrap, topic, tmp_path) == 0

    (rerun,) = summaries(tmp_path)
    assert (rerun["batch_seq"], rerun["batch_resumed"], rerun["records_read"]) == (1, True, 50)
    assert (rerun["records_valid"], rerun["records_dead_lettered"]) == (sent.valid, sent.malformed)
    assert "already written: valid" in rerun["message"]
    assert offsets_rows(spark, tmp_path) == [(1, "committed")] * 2 + [(1, "planned")] * 2
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))
    _, latest = fetch_offsets(kafka.bootstrap, topic)
    assert fetch_group_offsets(kafka.bootstrap, "feedguard-foodnow-order_events", topic) == latest


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs (not even ``except Exception`` handlers)."""


@pytest.mark.parametrize("stage", ["dead_letter_write", "offsets_commit"])
def test_a_run_that_dies_after_a_later_stage_is_completed_exactly_once_by_the_rerun(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path, stage: str
) -> None:
    topic = new_topic()
    sent = produce_events(kafka.bootstrap, topic, 30, seed=9)
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    ctx = RunContext("foodnow", "order_events", contract.version, "crashing-run", iso(utc_now()))
    feed = KafkaFeed(kafka.bootstrap, topic, "feedguard-foodnow-order_events")

    def die_after(done: str) -> None:
        if done == stage:
            raise Crash(stage)

    with pytest.raises(Crash):
        run_kafka_ingest(spark, contract, Lake(str(tmp_path)), feed, ctx, job_name="test", guard=kafka_guard(
            outage_policy("1", None)), after_write=die_after)  # fmt: skip
    assert run_job(kafka.bootstrap, topic, tmp_path) == 0

    *closed, rerun = summaries(tmp_path)
    if stage == "dead_letter_write":  # the batch is re-executed; both of its writes had landed
        assert (rerun["batch_seq"], rerun["batch_resumed"], rerun["records_read"]) == (1, True, 30)
        assert closed == []
        assert "already written: valid, dead_letter" in rerun["message"]
    else:  # the batch was committed: the rerun closes the dead run, finds nothing new, commits the group
        assert [(s["run_id"], s["records_read"]) for s in closed] == [("crashing-run", 30)]
        assert (rerun["batch_seq"], rerun["records_read"], rerun["consumer_group_committed"]) == (
            None,
            0,
            True,
        )
    # ignore: mypy rejects using a None-returning call as a value; the helper asserts inside, returns None
    assert assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent)) is None  # type: ignore[func-returns-value]
    assert {r["_run_id"] for r in table(spark, tmp_path, "foodnow/order_events")} == {"crashing-run"}
    _, latest = fetch_offsets(kafka.bootstrap, topic)
    assert fetch_group_offsets(kafka.bootstrap, "feedguard-foodnow-order_events", topic) == latest
