"""Asking a Kafka broker for offsets, and committing the consumer group's, with kafka-python.

:func:`fetch_offsets` gives the broker's earliest/latest offsets per partition (the input of
:func:`feedguard.kafka.offsets.plan_batch`), :func:`fetch_group_offsets` the group's committed ones, and
:func:`commit_group_offsets` commits a run's next offsets so lag tools and MSK metrics see this consumer.
Each call raises kafka-python's errors when the broker is unreachable: wrap it in
:class:`feedguard.kafka.outage.OutageGuard`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError, for_code
from kafka.structs import OffsetAndMetadata

from feedguard.errors import EXIT_USAGE, FeedguardError
from feedguard.kafka.security import NO_SECURITY, KafkaSecurity

DEFAULT_SESSION_TIMEOUT_MS = 10_000  # kafka-python's default


class UnknownTopicError(FeedguardError, LookupError):
    """The topic does not exist on the broker (or has no partitions): missing input, exit 2."""

    exit_code = EXIT_USAGE


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
