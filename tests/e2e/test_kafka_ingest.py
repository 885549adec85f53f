"""The Kafka job end to end: a real KRaft broker, real Spark, real Delta, runs through ``main(argv)``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from pyspark.sql import SparkSession

from feedguard.foodnow_producer import ProduceResult, produce_events
from feedguard.kafka_broker import KafkaBroker
from feedguard.kafka_offsets import fetch_group_offsets, fetch_offsets
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
    assert one["dead_letters_by_type"] == {"malformed_json": 3, "missing_required_field": 3, "type_mismatch": 3}
    assert (one["status"], one["batch_seq"], one["messages_lost"], one["consumer_lag"]) == (
        "succeeded_with_dead_letters", 1, 0, 90,
    )  # fmt: skip
    assert (nothing["status"], nothing["records_read"], nothing["batch_seq"]) == ("succeeded", 0, None)
    assert (more["records_read"], more["records_dead_lettered"], more["batch_seq"]) == (30, 3, 2)
    assert more["consumer_lag"] == 30 and set(more["consumer_lag_after_run"].values()) == {0}
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(first, second))
    _, latest = fetch_offsets(kafka.bootstrap, topic)
    assert fetch_group_offsets(kafka.bootstrap, "feedguard-foodnow-order_events", topic) == latest
    offsets = table(spark, tmp_path, "_kafka_offsets")
    assert sorted((r["batch_seq"], r["status"]) for r in offsets) == sorted(
        [(1, "planned")] * 3 + [(1, "committed")] * 3 + [(2, "planned")] * 3 + [(2, "committed")] * 3
    )
    assert {r["partition"]: r["end_offset"] for r in offsets if r["batch_seq"] == 2} == latest
