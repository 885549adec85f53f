"""Source: one planned Kafka batch read with Spark's Kafka source, shaped like the file readers' output.

Spark reads exactly ``[startingOffsets, endingOffsets)`` per partition (batch, not streaming). Each
message becomes a raw record for :func:`feedguard.parse.json_records.parse_json_records`: ``_source_file`` is
``kafka://<topic>/<partition>``, ``_block_start`` the partition, ``_row_in_block`` the offset, ``_raw``
the value as text; the Kafka columns (topic, partition, offset, key, timestamp) ride along.

Example::

    raw = load_kafka_batch(spark, "127.0.0.1:9092", "foodnow.order-events", plan)
    parsed = raw.transform(parse_json_records, contract)
"""

from __future__ import annotations

from collections.abc import Mapping

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.kafka.offsets import BatchPlan
from feedguard.kafka.outage import is_broker_unreachable

DEFAULT_TIMEOUT_MS = 15_000
KAFKA_COLUMNS = ("_kafka_topic", "_kafka_partition", "_kafka_offset", "_kafka_key", "_kafka_timestamp")

# Java errors (inside a Spark/Py4J error text) that mean "the broker did not answer": worth a retry.
SPARK_UNREACHABLE_MARKERS = (
    "org.apache.kafka.common.errors.TimeoutException",
    "org.apache.kafka.common.errors.DisconnectException",
    "org.apache.kafka.common.errors.NetworkException",
    "Timed out waiting for a node assignment",
    "java.util.concurrent.TimeoutException: Cannot fetch record",
)


def is_kafka_unreachable(exc: BaseException) -> bool:
    """True for broker-unreachable errors of kafka-python *and* of the Spark Kafka source (JVM side)."""
    if is_broker_unreachable(exc):
        return True
    if isinstance(exc, Py4JError | PySparkException):
        text = str(exc)
        return any(marker in text for marker in SPARK_UNREACHABLE_MARKERS)
    return False


def kafka_read_options(
    bootstrap: str,
    plan: BatchPlan,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> dict[str, str]:
    """Options for ``spark.read.format("kafka")``: the plan's offsets and timeouts short enough to fail fast.

    ``failOnDataLoss`` stays true unless the plan carries lost ranges (recorded by the caller before the
    read): Spark must then not fail on the offsets retention removed, because the loss is accounted for.
    """
    timeout = str(timeout_ms)
    return {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": plan.topic,
        "startingOffsets": plan.starting_offsets_json,
        "endingOffsets": plan.ending_offsets_json,
        "failOnDataLoss": "false" if plan.lost_ranges else "true",
        "includeHeaders": "false",
        "kafka.request.timeout.ms": timeout,
        "kafka.default.api.timeout.ms": timeout,
        "kafka.session.timeout.ms": timeout,
        "kafka.heartbeat.interval.ms": str(max(1, timeout_ms // 3)),  # must stay below the session timeout
        "kafka.client.id": "feedguard-kafka-ingest",
        "fetchOffset.numRetries": "2",
        "fetchOffset.retryIntervalMs": "500",
        "kafkaConsumer.pollTimeoutMs": timeout,
    }


def as_raw_records(df: DataFrame) -> DataFrame:
    """Kafka rows -> the parser's input columns plus the Kafka lineage columns (a pure transform)."""
    return df.select(
        F.concat(
            F.lit("kafka://"), F.col("topic"), F.lit("/"), F.col("partition").cast(T.StringType())
        ).alias("_source_file"),
        F.col("partition").cast(T.LongType()).alias("_block_start"),
        F.col("offset").alias("_row_in_block"),
        F.col("value").cast(T.StringType()).alias("_raw"),
        F.lit(None).cast(T.StringType()).alias("_doc_error"),
        F.col("topic").alias("_kafka_topic"),
        F.col("partition").alias("_kafka_partition"),
        F.col("offset").alias("_kafka_offset"),
        F.col("key").cast(T.StringType()).alias("_kafka_key"),
        F.col("timestamp").alias("_kafka_timestamp"),
    )


def load_kafka_batch(
    spark: SparkSession,
    bootstrap: str,
    topic: str,
    plan: BatchPlan,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    extra_options: Mapping[str, str] | None = None,
) -> DataFrame:
    """The messages of ``plan`` as raw records (lazy: the broker is read when an action runs)."""
    if plan.topic != topic:
        raise ValueError(f"the plan is for topic {plan.topic!r}, not {topic!r}")
    options = kafka_read_options(bootstrap, plan, timeout_ms=timeout_ms)
    # Split big partitions into several tasks so that every core reads (offset ranges stay exact).
    options["minPartitions"] = str(spark.sparkContext.defaultParallelism)
    options.update(extra_options or {})
    return spark.read.format("kafka").options(**options).load().transform(as_raw_records)
