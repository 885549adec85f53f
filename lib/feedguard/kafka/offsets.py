"""Offsets for a Kafka batch run: what to read, what was lost, how far behind we are.

:func:`plan_batch` is pure: from the next offsets committed by the last successful run and the broker's
earliest/latest offsets, it plans the run (Spark's ``startingOffsets``/``endingOffsets`` JSON), reports the
offset ranges lost to retention while we were away, and the consumer lag. :func:`fetch_offsets`,
:func:`fetch_group_offsets` and :func:`commit_group_offsets` talk to the broker with kafka-python.

Example::

    earliest, latest = fetch_offsets("127.0.0.1:9092", "foodnow.orders")
    plan = plan_batch("foodnow.orders", committed={0: 12}, earliest=earliest, latest=latest,
                      max_per_partition=100_000)
    df = (spark.read.format("kafka").option("subscribe", plan.topic)
          .option("startingOffsets", plan.starting_offsets_json)
          .option("endingOffsets", plan.ending_offsets_json).load())
    ...  # write the data together with plan.next_offsets, then:
    commit_group_offsets("127.0.0.1:9092", "feedguard-foodnow", plan.topic, plan.next_offsets)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError, for_code
from kafka.structs import OffsetAndMetadata

from feedguard.errors import EXIT_USAGE, FeedguardError, UsageError
from feedguard.kafka.security import NO_SECURITY, KafkaSecurity

DEFAULT_SESSION_TIMEOUT_MS = 10_000  # kafka-python's default


class UnknownTopicError(FeedguardError, LookupError):
    """The topic does not exist on the broker (or has no partitions): missing input, exit 2."""

    exit_code = EXIT_USAGE


class OffsetsAheadOfBrokerError(UsageError):
    """A committed offset is past the broker's latest offset: the topic was recreated or truncated.

    Neither skipping nor re-reading is safe without a human decision, so the plan refuses (exit 2).
    """


@dataclass(frozen=True)
class OffsetRange:
    """Offsets ``start`` (inclusive) to ``end`` (exclusive) of one partition."""

    partition: int
    start: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class PartitionPlan:
    """The plan for one partition; ``expected`` is the committed next offset (None on a first read)."""

    partition: int
    expected: int | None
    earliest: int
    latest: int
    start: int
    end: int
    lost: OffsetRange | None

    @property
    def lag(self) -> int:
        """Consumer lag before this run: latest minus committed (minus earliest when nothing is committed)."""
        return self.latest - (self.earliest if self.expected is None else self.expected)

    @property
    def lag_after(self) -> int:
        """Lag once this run's offsets are committed (non-zero only when capped)."""
        return self.latest - self.end

    @property
    def count(self) -> int:
        """Offsets this run reads (messages, unless some offsets are transaction markers)."""
        return self.end - self.start


@dataclass(frozen=True)
class BatchPlan:
    topic: str
    partitions: tuple[PartitionPlan, ...]

    @property
    def starting_offsets(self) -> dict[int, int]:
        return {p.partition: p.start for p in self.partitions}

    @property
    def next_offsets(self) -> dict[int, int]:
        """The next offsets to commit once this run's data is written (the run's ``endingOffsets``)."""
        return {p.partition: p.end for p in self.partitions}

    @property
    def starting_offsets_json(self) -> str:
        """``{"topic":{"0":12,"1":0}}`` for Spark's ``startingOffsets`` option (every partition listed)."""
        return offsets_json(self.topic, self.starting_offsets)

    @property
    def ending_offsets_json(self) -> str:
        """``{"topic":{"0":40,"1":7}}`` for Spark's ``endingOffsets`` option (exclusive)."""
        return offsets_json(self.topic, self.next_offsets)

    @property
    def lost_ranges(self) -> tuple[OffsetRange, ...]:
        return tuple(p.lost for p in self.partitions if p.lost is not None)

    @property
    def messages_lost(self) -> int:
        return sum(r.count for r in self.lost_ranges)

    @property
    def lag(self) -> dict[int, int]:
        return {p.partition: p.lag for p in self.partitions}

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def messages_planned(self) -> int:
        return sum(p.count for p in self.partitions)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to read (Spark would return an empty DataFrame)."""
        return self.messages_planned == 0


def plan_partition(
    partition: int, expected: int | None, earliest: int, latest: int, max_messages: int | None = None
) -> PartitionPlan:
    """Plan one partition; see :func:`plan_batch`."""
    if not 0 <= earliest <= latest:
        raise ValueError(f"partition {partition}: earliest {earliest} / latest {latest} are not ordered")
    if expected is not None and expected > latest:
        raise OffsetsAheadOfBrokerError(
            f"partition {partition}: committed next offset {expected} is past the broker's latest offset "
            f"{latest} (topic recreated or truncated?); fix the committed offsets before rerunning"
        )
    lost = None
    if expected is None:
        start = earliest
    elif expected < earliest:
        lost = OffsetRange(partition, expected, earliest)
        start = earliest
    else:
        start = expected
    end = latest if max_messages is None else min(latest, start + max_messages)
    return PartitionPlan(partition, expected, earliest, latest, start, end, lost)


def plan_batch(
    topic: str,
    committed: Mapping[int, int],
    earliest: Mapping[int, int],
    latest: Mapping[int, int],
    *,
    max_per_partition: int | None = None,
) -> BatchPlan:
    """Plan a batch read from the committed next offsets up to the latest (or a capped) offsets.

    ``committed`` is empty on a first run (read from the earliest offset); a partition missing from it
    (added to the topic since) is read from its earliest offset. When the earliest offset still on the
    broker is past the committed one, retention dropped messages while we were away: the range
    ``[committed, earliest)`` is reported in :attr:`BatchPlan.lost_ranges` and the run starts at earliest.

    >>> plan = plan_batch("t", {0: 3}, earliest={0: 5}, latest={0: 9}, max_per_partition=2)
    >>> plan.starting_offsets_json, plan.ending_offsets_json, plan.messages_lost, plan.lag
    ('{"t":{"0":5}}', '{"t":{"0":7}}', 2, {0: 6})
    """
    if set(earliest) != set(latest) or not latest:
        raise ValueError(f"earliest {dict(earliest)} and latest {dict(latest)} must list the same partitions")
    if max_per_partition is not None and max_per_partition < 1:
        raise ValueError(f"max_per_partition must be at least 1, got {max_per_partition}")
    unknown = set(committed) - set(latest)
    if unknown:
        raise OffsetsAheadOfBrokerError(f"committed partitions {sorted(unknown)} no longer exist in {topic}")
    return BatchPlan(
        topic,
        tuple(
            plan_partition(p, committed.get(p), earliest[p], latest[p], max_per_partition)
            for p in sorted(latest)
        ),
    )


def offsets_json(topic: str, offsets: Mapping[int, int]) -> str:
    """The JSON Spark's Kafka source takes for ``startingOffsets``/``endingOffsets``."""
    return json.dumps({topic: {str(p): offsets[p] for p in sorted(offsets)}}, separators=(",", ":"))


def _consumer(
    bootstrap: str, group_id: str | None, timeout_ms: int, security: KafkaSecurity = NO_SECURITY
) -> KafkaConsumer:
    """A consumer that never joins its group (kafka-python: session < request timeout, heartbeat below)."""
    request_timeout_ms = max(timeout_ms, 1000) + 500
    session_timeout_ms = min(DEFAULT_SESSION_TIMEOUT_MS, request_timeout_ms - 1)
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        request_timeout_ms=request_timeout_ms,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=session_timeout_ms // 3,
        client_id="feedguard-offsets",
        **security.client_options(),
    )


def topic_partitions(
    consumer: KafkaConsumer,
    topic: str,
    bootstrap: str,
    timeout_ms: int,
    security: KafkaSecurity = NO_SECURITY,
) -> list[TopicPartition]:
    """The topic's partitions; a missing topic is exit 2, a broker that does not answer is transient.

    kafka-python returns no partitions both for a topic that does not exist and for a metadata request
    the broker never answered (it went away after the consumer connected): the admin API tells them apart.
    """
    partitions = consumer.partitions_for_topic(topic)
    if partitions:
        return [TopicPartition(topic, p) for p in sorted(partitions)]
    if topic_exists(bootstrap, topic, timeout_ms=timeout_ms, security=security):
        raise KafkaTimeoutError(f"the broker did not answer the metadata request for topic {topic!r}")
    raise UnknownTopicError(f"topic {topic!r} does not exist on the broker {bootstrap}")


def topic_exists(
    bootstrap: str, topic: str, *, timeout_ms: int = 10_000, security: KafkaSecurity = NO_SECURITY
) -> bool:
    """True when the broker lists ``topic``; raises kafka-python's errors when it cannot be asked."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(timeout_ms, 1000) + 500,
        client_id="feedguard-offsets",
        **security.client_options(),
    )
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    code = int(described["error_code"])
    if code == UnknownTopicOrPartitionError.errno:
        return False
    if code:
        raise for_code(code)(f"describe topic {topic!r}")
    return bool(described["partitions"])


def fetch_offsets(
    bootstrap: str, topic: str, *, timeout_ms: int = 10_000, security: KafkaSecurity = NO_SECURITY
) -> tuple[dict[int, int], dict[int, int]]:
    """The broker's (earliest, latest) offsets per partition of ``topic``.

    Raises kafka-python's ``NoBrokersAvailable``/``KafkaTimeoutError`` when the broker is unreachable
    (wrap the call in :class:`feedguard.kafka.outage.OutageGuard`).
    """
    consumer = _consumer(bootstrap, None, timeout_ms, security)
    try:
        tps = topic_partitions(consumer, topic, bootstrap, timeout_ms, security)
        earliest = consumer.beginning_offsets(tps)
        latest = consumer.end_offsets(tps)
        return ({tp.partition: earliest[tp] for tp in tps}, {tp.partition: latest[tp] for tp in tps})
    finally:
        consumer.close()


def fetch_group_offsets(
    bootstrap: str,
    group_id: str,
    topic: str,
    *,
    timeout_ms: int = 10_000,
    security: KafkaSecurity = NO_SECURITY,
) -> dict[int, int]:
    """The next offsets ``group_id`` committed for ``topic`` (partitions without a commit are omitted)."""
    consumer = _consumer(bootstrap, group_id, timeout_ms, security)
    try:
        result: dict[int, int] = {}
        for tp in topic_partitions(consumer, topic, bootstrap, timeout_ms, security):
            offset = consumer.committed(tp, timeout_ms=timeout_ms)
            if offset is not None:
                result[tp.partition] = offset
        return result
    finally:
        consumer.close()


def commit_group_offsets(
    bootstrap: str,
    group_id: str,
    topic: str,
    next_offsets: Mapping[int, int],
    *,
    metadata: str = "",
    timeout_ms: int = 10_000,
    security: KafkaSecurity = NO_SECURITY,
) -> None:
    """Commit ``next_offsets`` for ``group_id`` on the broker, so lag tools and MSK metrics see this consumer.

    The offsets are the *next* offsets to read (Kafka's convention, = the run's ``endingOffsets``);
    ``metadata`` is stored with each (e.g. the run id). The lake stays the source of truth.
    """
    if not next_offsets:
        return
    consumer = _consumer(bootstrap, group_id, timeout_ms, security)
    try:
        consumer.commit(
            {TopicPartition(topic, p): OffsetAndMetadata(o, metadata, -1) for p, o in next_offsets.items()},
            timeout_ms=timeout_ms,
        )
    finally:
        consumer.close()
