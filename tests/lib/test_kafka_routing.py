"""Kafka messages (inline rows shaped like Spark's Kafka source) -> valid rows and dead letters."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from tests.support.jvm_errors import thrown_by_jvm

from feedguard.contracts.contract import Contract, load_contract
from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, RunContext, error_type
from feedguard.kafka.offsets import OffsetRange, plan_batch
from feedguard.kafka.routing import (
    flag_empty_messages,
    for_routing,
    in_offset_ranges,
    kafka_dead_letter_rows,
    kafka_valid_rows,
)
from feedguard.kafka.source import as_raw_records, is_kafka_unreachable, kafka_read_options
from feedguard.parse.json_records import parse_json_records

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "foodnow" / "order_events.v1.yaml"
KAFKA_SCHEMA = "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP"
CTX = RunContext("foodnow", "order_events", 1, "run-1", "2025-06-01T12:00:00Z")
AT = datetime(2025, 6, 1, 11, 0)
EVENT = {
    "event_id": "e-1", "order_id": "ord-1", "event_type": "created", "restaurant_id": "rest-1",
    "courier_id": None, "amount": 12.5, "currency": "EUR", "event_time": "2025-06-01T10:00:00.000Z",
    "customer_email": "a@example.com",
}  # fmt: skip


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(CONTRACT)


def routed(spark: SparkSession, contract: Contract, values: list[bytes | None]) -> DataFrame:
    rows = [(b"ord-1", v, "orders", 2, 40 + i, AT) for i, v in enumerate(values)]
    return (
        spark.createDataFrame(rows, KAFKA_SCHEMA)
        .transform(as_raw_records)
        .transform(parse_json_records, contract)
        .transform(flag_empty_messages)
        .transform(error_type)
        .transform(for_routing, contract)
    )


def test_a_valid_message_keeps_its_kafka_lineage(spark: SparkSession, contract: Contract) -> None:
    valid = routed(spark, contract, [json.dumps(EVENT).encode()]).transform(kafka_valid_rows, contract, CTX)

    (row,) = [r.asDict() for r in valid.collect()]
    assert (row["event_id"], row["amount"], row["courier_id"]) == ("e-1", Decimal("12.50"), None)
    assert {k: v for k, v in row.items() if k.startswith("_")} == {
        "_source_file": "kafka://orders/2", "_source_line": 40, "_kafka_topic": "orders",
        "_kafka_partition": 2, "_kafka_offset": 40, "_kafka_key": "ord-1", "_kafka_timestamp": AT,
        "_run_id": "run-1", "_ingested_at": datetime(2025, 6, 1, 12, 0), "_contract_version": 1,
    }  # fmt: skip


def test_bad_empty_and_tombstone_messages_are_dead_letters_with_their_exact_payload(
    spark: SparkSession, contract: Contract
) -> None:
    cut = json.dumps(EVENT)[:30].encode()
    frame = routed(spark, contract, [cut, b"  ", None, json.dumps({**EVENT, "amount": "x"}).encode()])

    dead = frame.transform(kafka_dead_letter_rows, CTX)

    assert dead.schema.fieldNames() == DEAD_LETTER_SCHEMA.fieldNames()
    assert [f.dataType for f in dead.schema.fields] == [f.dataType for f in DEAD_LETTER_SCHEMA.fields]
    rows = [r.asDict() for r in dead.orderBy("kafka_offset").collect()]
    assert [(r["kafka_offset"], r["raw_text"], r["error_type"]) for r in rows] == [
        (40, cut.decode(), "malformed_json"),
        (41, "  ", "empty_message"),
        (42, None, "empty_message"),
        (43, json.dumps({**EVENT, "amount": "x"}), "type_mismatch"),
    ]
    assert {
        (r["source_file"], r["source_line"] - r["kafka_offset"], r["kafka_topic"], r["kafka_partition"],
         r["kafka_key"], r["kafka_timestamp"], r["source"], r["run_id"], r["status"])
        for r in rows
    } == {("kafka://orders/2", 0, "orders", 2, "ord-1", AT, "foodnow", "run-1", "open")}  # fmt: skip
    assert frame.transform(kafka_valid_rows, contract, CTX).count() == 0


def test_offset_ranges_select_exactly_their_messages(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(p, o) for p in (0, 1) for o in range(6)], "p INT, o BIGINT")

    inside = frame.where(
        in_offset_ranges([OffsetRange(0, 2, 4), OffsetRange(1, 5, 6)], partition="p", offset="o")
    )

    assert sorted(tuple(r) for r in inside.collect()) == [(0, 2), (0, 3), (1, 5)]
    assert frame.where(in_offset_ranges([], partition="p", offset="o")).count() == 0


def test_the_read_ignores_data_loss_only_when_the_plan_records_it() -> None:
    clean = plan_batch("t", {0: 5}, earliest={0: 0}, latest={0: 9})
    lossy = plan_batch("t", {0: 5}, earliest={0: 7}, latest={0: 9})

    options = kafka_read_options("b:9092", clean, timeout_ms=5000)

    assert (options["startingOffsets"], options["endingOffsets"], options["failOnDataLoss"]) == (
        '{"t":{"0":5}}', '{"t":{"0":9}}', "true",
    )  # fmt: skip
    assert options["kafka.request.timeout.ms"] == options["kafka.default.api.timeout.ms"] == "5000"
    assert kafka_read_options("b:9092", lossy)["failOnDataLoss"] == "false"


@pytest.mark.parametrize(
    ("java_class", "message", "transient"),
    [
        ("org.apache.kafka.common.errors.TimeoutException", "Timeout of 15000ms", True),
        ("java.util.concurrent.TimeoutException", "Cannot fetch record for offset 4 in 15000", True),
        ("java.lang.IllegalStateException", "missing column", False),
    ],
)
def test_spark_kafka_errors_that_mean_the_broker_is_away_are_transient(
    spark: SparkSession, java_class: str, message: str, transient: bool
) -> None:
    assert is_kafka_unreachable(thrown_by_jvm(spark, java_class, message)) is transient


def test_python_errors_and_spark_analysis_errors_are_classified_too(spark: SparkSession) -> None:
    assert is_kafka_unreachable(ConnectionRefusedError("refused"))
    assert not is_kafka_unreachable(ValueError("org.apache.kafka.common.errors.TimeoutException"))
    with pytest.raises(Exception) as analysis:
        spark.sql("SELECT no_such_column")
    assert not is_kafka_unreachable(analysis.value)
