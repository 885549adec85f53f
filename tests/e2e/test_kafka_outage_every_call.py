"""Every broker call of the Kafka job is under the outage policy, wherever the broker goes away.

A real KRaft broker is killed at a chosen point of a run (through the run's ``after_write`` hook, or
between a consumer's connect and its metadata request); the outage guard gets an injected clock that
moves only when it sleeps, so backing off takes no real time. Each case must end as the policy says:
recovered inside the window (the run succeeds) or past it (exit 75, a broker_unavailable summary, a row
in ``_kafka_sla``), and the next run completes the batch exactly once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from pyspark.sql import SparkSession
from test_kafka_ingest import assert_exactly_once, malformed_at, run_job, summaries, table

from feedguard.contracts.registry import load_versions, select_version
from feedguard.ingest.routing import RunContext
from feedguard.kafka.broker_offsets import (
    UnknownTopicError,
    fetch_group_offsets,
    fetch_offsets,
    topic_partitions,
)
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.ingest import kafka_guard, run_kafka_ingest
from feedguard.kafka.outage import OutageGuard, OutagePolicy
from feedguard.kafka.source import is_kafka_unreachable
from feedguard.lake.layout import Lake
from feedguard.lake.lifecycle import close_run
from feedguard.lake.runlog import iso, utc_now
from feedguard.summary import RunSummary
from feedguard_dev.foodnow_producer import ProduceResult, produce_events
from feedguard_dev.kafka_broker import KafkaBroker

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GROUP = "feedguard-foodnow-order_events"
NewTopic = Callable[..., str]
TIMEOUT_MS = 3000  # each failed attempt at a dead broker takes about this long (real time)


class FakeTime:
    """A clock that moves only when the guard sleeps; ``on_sleep`` runs at each sleep (e.g. a restart)."""

    def __init__(self, on_sleep: Callable[[int], None] = lambda n: None) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        self.on_sleep(len(self.sleeps))


def guard_with(fake: FakeTime, window_seconds: float) -> OutageGuard:
    policy = OutagePolicy(expected_downtime=timedelta(seconds=window_seconds), jitter_seconds=0.0)
    return kafka_guard(policy, clock=fake.clock, sleep=fake.sleep, rng=random.Random(1))


def ingest(
    spark: SparkSession,
    lake: Path,
    bootstrap: str,
    topic: str,
    guard: OutageGuard,
    kill_after: Callable[[str], None],
) -> RunSummary:
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    ctx = RunContext("foodnow", "order_events", contract.version, "outage-run", iso(utc_now()))
    feed = KafkaFeed(bootstrap, topic, GROUP, timeout_ms=TIMEOUT_MS)
    return run_kafka_ingest(spark, contract, Lake(str(lake)), feed, ctx, job_name="test", guard=guard,
                            after_write=kill_after)  # fmt: skip


def kill_at(broker: KafkaBroker, stage: str) -> Callable[[str], None]:
    def hook(done: str) -> None:
        if done == stage:
            broker.kill()

    return hook


def offsets_rows(spark: SparkSession, lake: Path) -> list[tuple[int, str]]:
    return sorted((r["batch_seq"], r["status"]) for r in table(spark, lake, "_kafka_offsets"))


def produce(broker: KafkaBroker, topic: str, seed: int) -> ProduceResult:
    return produce_events(broker.bootstrap, topic, 30, seed=seed)


def test_a_broker_lost_between_planning_and_reading_is_waited_for_and_the_batch_loads_once(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=2)
    sent = produce(kafka, topic, seed=21)
    fake = FakeTime(on_sleep=lambda n: kafka.start() if n == 2 else None)  # back during the 2nd backoff

    summary = ingest(spark, tmp_path, kafka.bootstrap, topic, guard_with(fake, 60), kill_at(kafka, "planned"))

    assert (summary["status"], summary["exit_code"], summary["records_read"]) == (
        "succeeded_with_dead_letters", 0, 30,
    )  # fmt: skip
    (outage,) = summary["outages"]
    assert (outage["what"], outage["recovered"], outage["attempts"]) == (
        "read batch 1 from the broker",
        True,
        2,
    )
    assert outage["duration_seconds"] == sum(fake.sleeps) == 3.0  # backoff 1 s, then 2 s
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["kind"], row["failed_call"], row["attempts"], row["consumer_lag_at_recovery"]) == (
        "broker_unreachable", "read batch 1 from the broker", 2, 30,
    )  # fmt: skip
    assert offsets_rows(spark, tmp_path) == [(1, "committed")] * 2 + [(1, "planned")] * 2
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


def test_a_broker_lost_between_planning_and_reading_past_the_window_exits_75_and_the_rerun_loads_once(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic()
    sent = produce(kafka, topic, seed=22)
    fake = FakeTime()
    try:
        summary = ingest(
            spark, tmp_path, kafka.bootstrap, topic, guard_with(fake, 4), kill_at(kafka, "planned")
        )
    finally:
        kafka.start()

    assert (summary["status"], summary["exit_code"], summary["records_read"], summary["batch_seq"]) == (
        "broker_unavailable", 75, 0, 1,
    )  # fmt: skip
    assert "read batch 1 from the broker" in summary["message"] and "Exit 75" in summary["message"]
    (outage,) = summary["outages"]
    assert (outage["recovered"], outage["duration_seconds"], fake.sleeps) == (False, 4.0, [1.0, 2.0, 1.0])
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["failed_call"], row["attempts"], row["duration_seconds"]) == (
        "read batch 1 from the broker",
        4,
        4.0,
    )
    assert row["consumer_lag_at_recovery"] is None
    assert offsets_rows(spark, tmp_path) == [(1, "planned")]
    assert not (tmp_path / "foodnow").exists() and not (tmp_path / "_dead_letter").exists()

    assert run_job(kafka.bootstrap, topic, tmp_path) == 0
    (rerun,) = summaries(tmp_path)
    assert (rerun["batch_seq"], rerun["batch_resumed"], rerun["records_read"]) == (1, True, 30)
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


def test_a_broker_lost_before_the_consumer_group_commit_exits_75_and_the_rerun_commits(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic()
    sent = produce(kafka, topic, seed=23)
    fake = FakeTime()
    try:
        summary = ingest(
            spark, tmp_path, kafka.bootstrap, topic, guard_with(fake, 4), kill_at(kafka, "offsets_commit")
        )
    finally:
        kafka.start()

    assert (summary["status"], summary["exit_code"], summary["records_read"]) == (
        "broker_unavailable",
        75,
        30,
    )
    assert summary["consumer_group_committed"] is False
    assert "Batch 1 is committed in the lake (30 messages)" in summary["message"]
    (row,) = table(spark, tmp_path, "_kafka_sla")
    assert (row["failed_call"], row["attempts"]) == ("commit consumer-group offsets", 4)
    assert offsets_rows(spark, tmp_path) == [(1, "committed"), (1, "planned")]
    assert fetch_group_offsets(kafka.bootstrap, GROUP, topic) == {}
    close_run(spark, Lake(str(tmp_path)), summary)  # as the job does with its summary

    assert run_job(kafka.bootstrap, topic, tmp_path) == 0
    closed, rerun = summaries(tmp_path)
    assert (closed["run_id"], closed["exit_code"], closed["records_read"]) == ("outage-run", 75, 30)
    assert (rerun["records_read"], rerun["batch_seq"], rerun["consumer_group_committed"]) == (0, None, True)
    _, latest = fetch_offsets(kafka.bootstrap, topic)
    assert fetch_group_offsets(kafka.bootstrap, GROUP, topic) == latest == {0: 30}
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


def test_a_broker_lost_after_the_consumer_connected_is_an_outage_not_a_missing_topic(
    kafka: KafkaBroker, new_topic: NewTopic
) -> None:
    topic = new_topic()
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, enable_auto_commit=False)
    kafka.kill()
    try:
        with pytest.raises(Exception) as raised:
            topic_partitions(consumer, topic, kafka.bootstrap, TIMEOUT_MS)
    finally:
        consumer.close()
        kafka.start()

    assert is_kafka_unreachable(raised.value), raised.value
    with pytest.raises(
        UnknownTopicError, match=f"topic 'no-such-topic' does not exist on the broker {kafka.bootstrap}"
    ):
        fetch_offsets(kafka.bootstrap, "no-such-topic", timeout_ms=TIMEOUT_MS)
