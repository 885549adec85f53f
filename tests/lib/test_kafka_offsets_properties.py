"""Properties of a Kafka batch's offset plan (feedguard.kafka.offsets.plan_batch), for generated offsets.

Each partition's read lies within the broker's [earliest, latest], starts at the committed offset (or at
earliest when retention dropped it: the gap is the lost range), reads at most ``max_per_partition``; and
batch after batch, with the topic growing meanwhile and nothing expiring, every offset is read exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from feedguard.kafka.offsets import plan_batch

PROPERTIES = settings(derandomize=True, max_examples=80, deadline=None)
MAX_PER_PARTITION = st.none() | st.integers(1, 40)


@dataclass(frozen=True)
class Broker:
    earliest: dict[int, int]
    latest: dict[int, int]
    committed: dict[int, int]


@st.composite
def brokers(draw: st.DrawFn) -> Broker:
    """1-4 partitions, earliest <= latest, and a committed offset (maybe none, maybe expired) <= latest."""
    earliest, latest, committed = {}, {}, {}
    for partition in range(draw(st.integers(1, 4))):
        earliest[partition] = draw(st.integers(0, 500))
        latest[partition] = earliest[partition] + draw(st.integers(0, 200))
        offset = draw(st.none() | st.integers(0, latest[partition]))
        if offset is not None:
            committed[partition] = offset
    return Broker(earliest, latest, committed)


@PROPERTIES
@given(brokers(), MAX_PER_PARTITION)
def test_each_read_lies_within_the_broker_and_after_the_committed_offset(
    broker: Broker, max_per_partition: int | None
) -> None:
    plan = plan_batch(
        "t", broker.committed, broker.earliest, broker.latest, max_per_partition=max_per_partition
    )

    for p in plan.partitions:
        assert broker.earliest[p.partition] <= p.start <= p.end <= broker.latest[p.partition]
        committed = broker.committed.get(p.partition)
        assert p.start == (broker.earliest[p.partition] if committed is None else max(committed, p.earliest))
        available = broker.latest[p.partition] - p.start
        assert p.count == (available if max_per_partition is None else min(available, max_per_partition))
    if max_per_partition is not None:
        assert plan.messages_planned <= max_per_partition * len(plan.partitions)


@PROPERTIES
@given(brokers(), MAX_PER_PARTITION)
def test_the_lost_range_and_the_read_continue_the_committed_offset_without_a_gap(
    broker: Broker, max_per_partition: int | None
) -> None:
    plan = plan_batch(
        "t", broker.committed, broker.earliest, broker.latest, max_per_partition=max_per_partition
    )

    for p in plan.partitions:
        if p.lost is not None:
            assert (p.lost.start, p.lost.end) == (broker.committed[p.partition], p.start)
        else:
            assert p.partition not in broker.committed or broker.committed[p.partition] == p.start
    assert plan.messages_lost == sum(max(0, broker.earliest[p] - o) for p, o in broker.committed.items())


@PROPERTIES
@given(
    brokers(), MAX_PER_PARTITION, st.lists(st.lists(st.integers(0, 30), min_size=4, max_size=4), max_size=8)
)
def test_batch_after_batch_every_offset_is_read_exactly_once(
    broker: Broker, max_per_partition: int | None, growth: list[list[int]]
) -> None:
    earliest, latest = broker.earliest, dict(broker.latest)
    committed = {p: o for p, o in broker.committed.items() if o >= earliest[p]}  # nothing expired
    first = {p: committed.get(p, earliest[p]) for p in latest}
    read: dict[int, list[tuple[int, int]]] = {p: [] for p in latest}
    steps = [*growth, *[[0] * 4] * 1000]  # the topic grows while we read, then stops
    for added in steps:
        plan = plan_batch("t", committed, earliest, latest, max_per_partition=max_per_partition)
        assert plan.lost_ranges == ()
        for p in plan.partitions:
            read[p.partition].append((p.start, p.end))
        committed = plan.next_offsets
        latest = {p: latest[p] + added[p] for p in latest}
        if plan.is_empty and not any(added):
            break

    for partition, ranges in read.items():
        offsets = [o for start, end in ranges for o in range(start, end)]
        assert offsets == list(range(first[partition], latest[partition]))
