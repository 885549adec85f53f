"""Ask a Kafka broker for the Kafka panel: brokers up, partitions and replication, consumer lag per group.

The same figures the MSK widgets of the CloudWatch dashboard show (``ActiveControllerCount``,
``UnderReplicatedPartitions``, ``OfflinePartitionsCount``, ``MaxOffsetLag``), read here with the Kafka
admin client. A broker that does not answer is a :class:`BrokerStatus` with ``reachable=False`` and the
reason, never an error: the site is built anyway.
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from feedguard.health.model import BrokerStatus, GroupLag, PartitionStatus

TIMEOUT_MS = 5000
INTERNAL_TOPIC_PREFIX = "__"


def broker_status(bootstrap: str) -> BrokerStatus:
    """Cluster, partitions and consumer-group lag of the broker at ``bootstrap`` (never raises)."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS, client_id="feedguard-health"
        )
    except Exception as exc:
        return BrokerStatus(bootstrap, False, f"{type(exc).__name__}: {exc}")
    try:
        brokers = len(admin.describe_cluster().get("brokers", []))
        partitions = _partitions(admin)
        groups = _group_lags(admin, bootstrap)
    except Exception as exc:
        return BrokerStatus(bootstrap, False, f"{type(exc).__name__}: {exc}")
    finally:
        admin.close()
    return BrokerStatus(bootstrap, True, "", brokers, partitions, groups)


def _partitions(admin: Any) -> list[PartitionStatus]:
    topics = [t for t in admin.list_topics() if not t.startswith(INTERNAL_TOPIC_PREFIX)]
    out = []
    for topic in admin.describe_topics(topics):
        for p in topic.get("partitions", []):
            out.append(
                PartitionStatus(
                    topic["topic"], int(p["partition"]), int(p["leader"]), len(p["replicas"]), len(p["isr"])
                )
            )
    return sorted(out, key=lambda p: (p.topic, p.partition))


def _group_lags(admin: Any, bootstrap: str) -> list[GroupLag]:
    committed: dict[tuple[str, TopicPartition], int] = {}
    for group, _protocol in admin.list_consumer_groups():
        for tp, meta in admin.list_consumer_group_offsets(group).items():
            if meta.offset >= 0:
                committed[(group, tp)] = int(meta.offset)
    if not committed:
        return []
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS + 1000, client_id="feedguard-health"
    )
    try:
        ends = consumer.end_offsets(list({tp for _, tp in committed}))
    finally:
        consumer.close()
    return sorted(
        (
            GroupLag(g, tp.topic, tp.partition, off, int(ends.get(tp, off)))
            for (g, tp), off in committed.items()
        ),
        key=lambda lag: (lag.group, lag.topic, lag.partition),
    )
