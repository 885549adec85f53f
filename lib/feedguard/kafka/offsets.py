"""The offset plan of a Kafka batch run: what to read, what was lost, how far behind we are.

:func:`plan_batch` is pure: from the next offsets committed by the last successful run and the broker's
earliest/latest offsets, it plans the run (Spark's ``startingOffsets``/``endingOffsets`` JSON), reports the
offset ranges lost to retention while we were away, and the consumer lag. Asking the broker for those
offsets and committing the group's is :mod:`feedguard.kafka.broker_offsets`.

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

from feedguard.errors import UsageError


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
