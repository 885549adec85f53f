"""Sample FoodNow order events for a Kafka topic, with seeded malformed payloads at known positions.

The same ``count`` and ``seed`` always give the same messages, so a test knows exactly which positions
are malformed and how many messages are valid. Messages are keyed by ``order_id``.

Example::

    result = produce_events("127.0.0.1:9092", "foodnow.orders", 1000, seed=7)
    assert result.valid + result.malformed == 1000

Command line::

    python -m feedguard_dev.foodnow_producer --bootstrap 127.0.0.1:9092 --topic foodnow.orders --count 1000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from feedguard_dev.kafka_broker import create_topic

EVENT_TYPES = ("created", "accepted", "picked_up", "delivered", "cancelled")
CURRENCIES = ("EUR", "USD", "GBP")
MALFORMED_KINDS = ("bad_json", "wrong_type", "missing_field")
DEFAULT_MALFORMED_RATIO = 0.1
DEFAULT_START = datetime(2025, 6, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SampleMessage:
    position: int
    key: bytes
    value: bytes
    malformed: str | None  # one of MALFORMED_KINDS, or None for a valid event


@dataclass
class ProduceResult:
    """What was sent: exact counts, where the malformed messages are, and per-partition counts."""

    topic: str
    count: int
    malformed_positions: dict[int, str]
    per_partition: dict[int, int] = field(default_factory=dict)
    malformed_offsets: dict[int, tuple[int, int]] = field(default_factory=dict)  # position -> (part, off)

    @property
    def malformed(self) -> int:
        return len(self.malformed_positions)

    @property
    def valid(self) -> int:
        return self.count - self.malformed

    @property
    def malformed_by_kind(self) -> dict[str, int]:
        counts = Counter(self.malformed_positions.values())
        return {kind: counts[kind] for kind in MALFORMED_KINDS}

    def summary(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "count": self.count,
            "valid": self.valid,
            "malformed": self.malformed,
            "malformed_by_kind": self.malformed_by_kind,
            "per_partition": {str(p): n for p, n in sorted(self.per_partition.items())},
        }


def malformed_plan(count: int, seed: int, ratio: float = DEFAULT_MALFORMED_RATIO) -> dict[int, str]:
    """Seeded positions of the malformed messages; the kinds rotate so each gets a third (±1).

    >>> malformed_plan(10, seed=1, ratio=0.3)
    {4: 'bad_json', 5: 'wrong_type', 9: 'missing_field'}
    """
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio must be within [0, 1], got {ratio}")
    positions = sorted(random.Random(f"malformed-{seed}").sample(range(count), round(count * ratio)))
    return {pos: MALFORMED_KINDS[i % len(MALFORMED_KINDS)] for i, pos in enumerate(positions)}


def sample_event(rng: random.Random, position: int, start: datetime = DEFAULT_START) -> dict[str, Any]:
    """One valid FoodNow order event (the contract's fields; ``customer_email`` is PII)."""
    event_type = rng.choice(EVENT_TYPES)
    cents = rng.randint(0, 20_000)
    courier = None if event_type in ("created", "cancelled") else f"cour-{rng.randint(1, 500):04d}"
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "order_id": f"ord-{rng.randint(1, 10**6):07d}",
        "event_type": event_type,
        "restaurant_id": f"rest-{rng.randint(1, 300):04d}",
        "courier_id": courier,
        "amount": cents / 100,
        "currency": rng.choice(CURRENCIES),
        "event_time": (start + timedelta(seconds=position * 3))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "customer_email": f"customer{rng.randint(1, 10**5)}@example.com",
    }


def _corrupt(event: dict[str, Any], kind: str) -> bytes:
    if kind == "bad_json":
        text = json.dumps(event)
        return text[: len(text) // 2].encode()  # a cut-off object never parses
    if kind == "wrong_type":
        return json.dumps({**event, "amount": "twelve euros"}).encode()
    if kind == "missing_field":
        return json.dumps({k: v for k, v in event.items() if k != "event_id"}).encode()
    raise ValueError(f"unknown malformed kind {kind!r}; expected one of {MALFORMED_KINDS}")


def build_messages(
    count: int,
    seed: int = 0,
    *,
    malformed: Mapping[int, str] | None = None,
    start: datetime = DEFAULT_START,
) -> Iterator[SampleMessage]:
    """The ``count`` messages for ``seed``; ``malformed`` (position -> kind) defaults to the seeded plan."""
    plan = malformed_plan(count, seed) if malformed is None else malformed
    rng = random.Random(seed)
    for position in range(count):
        event = sample_event(rng, position, start)
        kind = plan.get(position)
        value = json.dumps(event).encode() if kind is None else _corrupt(event, kind)
        yield SampleMessage(position, str(event["order_id"]).encode(), value, kind)


def produce_events(
    bootstrap: str,
    topic: str,
    count: int,
    *,
    seed: int = 0,
    malformed: Mapping[int, str] | None = None,
    partition: int | None = None,
    timestamp_ms: int | None = None,
    timeout_s: float = 60.0,
) -> ProduceResult:
    """Send ``count`` sample events to ``topic`` (acks=all) and return the exact counts.

    ``malformed`` (position -> kind) overrides the seeded plan; ``partition`` pins every message to one
    partition; ``timestamp_ms`` sets the record timestamps (e.g. old ones, to test retention).
    """
    plan = malformed_plan(count, seed) if malformed is None else dict(malformed)
    result = ProduceResult(topic, count, dict(sorted(plan.items())))
    errors: list[BaseException] = []

    def on_sent(position: int, is_bad: bool, metadata: Any) -> None:
        result.per_partition[metadata.partition] = result.per_partition.get(metadata.partition, 0) + 1
        if is_bad:
            result.malformed_offsets[position] = (metadata.partition, metadata.offset)

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,
        retries=5,
        client_id="feedguard-foodnow-producer",
    )
    try:
        for msg in build_messages(count, seed, malformed=plan):
            future = producer.send(
                topic, value=msg.value, key=msg.key, partition=partition, timestamp_ms=timestamp_ms
            )
            future.add_callback(on_sent, msg.position, msg.malformed is not None)
            future.add_errback(errors.append)
        producer.flush(timeout=timeout_s)
    finally:
        producer.close(timeout=timeout_s)
    if errors or sum(result.per_partition.values()) != count:
        raise RuntimeError(
            f"sent {sum(result.per_partition.values())} of {count} messages to {topic}; errors: {errors[:3]}"
        )
    result.malformed_offsets = dict(sorted(result.malformed_offsets.items()))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Produce sample FoodNow events and print the counts as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m feedguard_dev.foodnow_producer", description=main.__doc__
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--malformed-ratio", type=float, default=DEFAULT_MALFORMED_RATIO)
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="create the topic with this many partitions if it does not exist",
    )
    args = parser.parse_args(argv)
    if args.partitions:
        create_topic(args.bootstrap, args.topic, args.partitions)
    plan = malformed_plan(args.count, args.seed, args.malformed_ratio)
    result = produce_events(args.bootstrap, args.topic, args.count, seed=args.seed, malformed=plan)
    print(json.dumps(result.summary(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
