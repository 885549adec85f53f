"""The local Kafka broker, the FoodNow producer and the offset helpers, against a real KRaft broker."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from feedguard.kafka.broker_offsets import (
    UnknownTopicError,
    commit_group_offsets,
    fetch_group_offsets,
    fetch_offsets,
)
from feedguard.kafka.offsets import OffsetRange, plan_batch
from feedguard.kafka.outage import OutageGuard, OutagePolicy
from feedguard_dev import foodnow_producer, kafka_broker
from feedguard_dev.foodnow_producer import build_messages, produce_events
from feedguard_dev.kafka_broker import BrokerStartError, KafkaBroker, KafkaJarsMissingError, free_ports

pytestmark = pytest.mark.e2e

NewTopic = Callable[..., str]


def consume_all(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the earliest offset to the latest, read with a plain consumer."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        begin, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        expected = sum(end[tp] - begin[tp] for tp in tps)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + 30
        # (not consumer.position(): in kafka-python 2.2.15 it spins without polling the network)
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def test_foodnow_events_round_trip_with_malformed_payloads_at_known_offsets(
    kafka: KafkaBroker, new_topic: NewTopic
) -> None:
    topic = new_topic(partitions=3)

    result = produce_events(kafka.bootstrap, topic, 60, seed=11)

    records = consume_all(kafka.bootstrap, topic)
    expected = list(build_messages(60, seed=11))
    assert (result.count, result.valid, result.malformed) == (60, 54, 6)
    assert result.malformed_by_kind == {"bad_json": 2, "wrong_type": 2, "missing_field": 2}
    assert sorted((r.key, r.value) for r in records) == sorted((m.key, m.value) for m in expected)
    assert dict(Counter(r.partition for r in records)) == result.per_partition
    earliest, latest = fetch_offsets(kafka.bootstrap, topic)
    assert earliest == {0: 0, 1: 0, 2: 0}
    assert latest == {p: result.per_partition.get(p, 0) for p in range(3)}

    by_offset = {(r.partition, r.offset): r.value for r in records}
    assert set(result.malformed_offsets) == set(result.malformed_positions)
    for position, kind in result.malformed_positions.items():
        value = by_offset[result.malformed_offsets[position]]
        assert value == expected[position].value
        if kind == "bad_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(value)
        elif kind == "wrong_type":
            assert json.loads(value)["amount"] == "twelve euros"
        else:
            assert "event_id" not in json.loads(value)
    valid = [json.loads(m.value) for m in expected if m.malformed is None]
    assert len(valid) == 54
    assert all(
        len(e) == 9 and e["event_type"] in {"created", "accepted", "picked_up", "delivered", "cancelled"}
        for e in valid
    )


def test_kill_and_restart_keeps_ports_and_data(kafka: KafkaBroker, new_topic: NewTopic) -> None:
    topic = new_topic()
    produce_events(kafka.bootstrap, topic, 10, seed=2, malformed={})
    bootstrap = kafka.bootstrap

    kafka.kill()
    assert not kafka.is_running()
    with pytest.raises(KafkaError):
        fetch_offsets(bootstrap, topic, timeout_ms=2000)
    kafka.restart()

    assert kafka.bootstrap == bootstrap
    assert fetch_offsets(kafka.bootstrap, topic) == ({0: 0}, {0: 10})
    assert [r.value for r in consume_all(kafka.bootstrap, topic)] == [
        m.value for m in build_messages(10, seed=2, malformed={})
    ]


def test_group_offsets_committed_on_the_broker_survive_a_graceful_restart(
    kafka: KafkaBroker, new_topic: NewTopic
) -> None:
    topic = new_topic(partitions=2)
    produce_events(kafka.bootstrap, topic, 20, seed=5, malformed={})
    assert fetch_group_offsets(kafka.bootstrap, "feedguard-test", topic) == {}

    commit_group_offsets(kafka.bootstrap, "feedguard-test", topic, {0: 3, 1: 4}, metadata="run-1")
    kafka.restart()

    assert fetch_group_offsets(kafka.bootstrap, "feedguard-test", topic) == {0: 3, 1: 4}
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        seen = admin.list_consumer_group_offsets("feedguard-test")
    finally:
        admin.close()
    assert {(tp.partition, om.offset, om.metadata) for tp, om in seen.items()} == {
        (0, 3, "run-1"),
        (1, 4, "run-1"),
    }


def test_fetch_offsets_of_a_missing_topic_names_it(kafka: KafkaBroker) -> None:
    with pytest.raises(UnknownTopicError, match="no-such-topic"):
        fetch_offsets(kafka.bootstrap, "no-such-topic")


def test_retention_drops_expired_segments_and_the_plan_reports_the_lost_range(
    kafka: KafkaBroker, new_topic: NewTopic
) -> None:
    # A one-event batch is ~370 bytes: 600-byte segments hold exactly one each. Records an hour old
    # are past retention.ms and go at the broker's next retention check (every second).
    topic = new_topic(config={"retention.ms": "60000", "segment.bytes": "600"})
    hour_ago = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    for seed in range(10):  # one event per send (= per batch, per segment): 5 old, then 5 current
        produce_events(
            kafka.bootstrap, topic, 1, seed=seed, malformed={}, timestamp_ms=hour_ago if seed < 5 else None
        )

    deadline = time.monotonic() + 30
    while fetch_offsets(kafka.bootstrap, topic)[0] != {0: 5} and time.monotonic() < deadline:
        time.sleep(0.5)
    earliest, latest = fetch_offsets(kafka.bootstrap, topic)
    plan = plan_batch(topic, {0: 1}, earliest, latest)

    assert (earliest, latest) == ({0: 5}, {0: 10})
    assert plan.lost_ranges == (OffsetRange(0, 1, 5),)
    assert (plan.messages_lost, plan.lag, plan.messages_planned) == (4, {0: 9}, 5)
    assert (plan.starting_offsets_json, plan.ending_offsets_json) == (
        f'{{"{topic}":{{"0":5}}}}',
        f'{{"{topic}":{{"0":10}}}}',
    )
    assert [r.value for r in consume_all(kafka.bootstrap, topic)] == [
        next(build_messages(1, seed=seed, malformed={})).value for seed in range(5, 10)
    ]


def test_outage_guard_waits_for_a_killed_broker_and_records_the_outage(
    kafka: KafkaBroker, new_topic: NewTopic
) -> None:
    topic = new_topic()
    produce_events(kafka.bootstrap, topic, 3, seed=1, malformed={})
    kafka.kill()
    sleeps: list[float] = []

    def sleep_then_restart_on_second_wait(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            kafka.restart()

    guard = OutageGuard(
        OutagePolicy(expected_downtime=timedelta(minutes=5), initial_wait_seconds=0.01, jitter_seconds=0.0),
        sleep=sleep_then_restart_on_second_wait,
    )
    offsets = guard.call(lambda: fetch_offsets(kafka.bootstrap, topic, timeout_ms=2000), what="offsets")

    assert offsets == ({0: 0}, {0: 3})
    assert sleeps == [0.01, 0.02]
    [outage] = guard.outages
    assert [a.number for a in outage.attempts] == [1, 2]
    assert all(a.error.startswith(("NoBrokersAvailable", "KafkaTimeoutError")) for a in outage.attempts)
    assert outage.recovered and outage.recovered_at is not None
    assert outage.started_at == outage.attempts[0].at
    assert guard.total_downtime_seconds == (outage.recovered_at - outage.started_at).total_seconds() > 1.0


def test_producer_cli_creates_the_topic_and_prints_exact_counts(
    kafka: KafkaBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--bootstrap",
        kafka.bootstrap,
        "--topic",
        "cli-orders",
        "--count",
        "30",
        "--partitions",
        "2",
        "--seed",
        "4",
        "--malformed-ratio",
        "0.2",
    ]

    assert foodnow_producer.main(argv) == 0

    summary = json.loads(capsys.readouterr().out)
    assert (summary["count"], summary["valid"], summary["malformed"]) == (30, 24, 6)
    assert summary["malformed_by_kind"] == {"bad_json": 2, "wrong_type": 2, "missing_field": 2}
    earliest, latest = fetch_offsets(kafka.bootstrap, "cli-orders")
    assert earliest == {0: 0, 1: 0}
    assert latest == {int(p): n for p, n in summary["per_partition"].items()} and sum(latest.values()) == 30


def test_broker_cli_up_status_down_on_fixed_ports(tmp_path: Path) -> None:
    folder, (port, controller) = str(tmp_path / "local"), free_ports(2)
    args = ["--dir", folder, "--port", str(port), "--controller-port", str(controller)]

    assert kafka_broker.main(["up", *args]) == 0
    try:
        assert kafka_broker.main(["status", *args]) == 0
        assert kafka_broker.create_topic(f"127.0.0.1:{port}", "local", 2) is True
        assert kafka_broker.create_topic(f"127.0.0.1:{port}", "local", 2) is False
        assert fetch_offsets(f"127.0.0.1:{port}", "local") == ({0: 0, 1: 0}, {0: 0, 1: 0})
    finally:
        assert kafka_broker.main(["down", *args]) == 0
    assert kafka_broker.main(["status", *args]) == 3
    assert not (tmp_path / "local" / "broker.pid").exists()
    assert "Kafka Server started" in (tmp_path / "local" / "broker.log").read_text()


def test_missing_jars_say_to_run_make_setup(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "kafka", jars_dir=tmp_path / "no-jars")

    with pytest.raises(KafkaJarsMissingError, match="run `make setup`"):
        broker.start()
    assert not broker.is_running()


def test_a_taken_port_fails_the_start_with_the_bind_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = KafkaBroker(tmp_path / "kafka", port=taken.getsockname()[1])

        with pytest.raises(BrokerStartError, match="Address already in use"):
            broker.start()
    assert not broker.is_running()
