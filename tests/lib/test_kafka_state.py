"""The write-ahead batch plan: which batch a run executes, from the rows of ``_kafka_offsets``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedguard.kafka.offsets import OffsetRange, plan_batch
from feedguard.kafka.state import (
    COMMITTED,
    PLANNED,
    Batch,
    OffsetRow,
    batch_state,
    choose_batch,
    offset_rows,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def row(seq: int, status: str, partition: int, start: int, end: int, **kw: object) -> OffsetRow:
    values: dict[str, object] = {
        "expected_offset": start,
        "earliest_offset": 0,
        "latest_offset": end,
        "lost_start": None,
        "lost_end": None,
        "run_id": f"run-{seq}",
        "planned_at": T0 + timedelta(hours=seq),
        "committed_at": T0 + timedelta(hours=seq, minutes=5) if status == COMMITTED else None,
    }
    values.update(kw)
    return OffsetRow("t", partition, seq, status, start, end, **values)  # type: ignore[arg-type]


def committed_batch(seq: int, ends: dict[int, tuple[int, int]]) -> list[OffsetRow]:
    return [row(seq, s, p, a, b) for s in (PLANNED, COMMITTED) for p, (a, b) in ends.items()]


def test_no_rows_means_a_first_run_from_the_earliest_offsets() -> None:
    state = batch_state([])
    batch = choose_batch(state, "t", earliest={0: 3, 1: 0}, latest={0: 10, 1: 4})

    assert (state.committed, state.last_seq, state.pending_seq, state.last_committed_at) == (
        {},
        0,
        None,
        None,
    )
    assert (batch.seq, batch.resumed, batch.plan.starting_offsets, batch.plan.next_offsets) == (
        1, False, {0: 3, 1: 0}, {0: 10, 1: 4},
    )  # fmt: skip


def test_a_new_batch_starts_at_the_committed_next_offsets_with_the_next_sequence_number() -> None:
    rows = committed_batch(1, {0: (0, 5), 1: (0, 2)}) + committed_batch(2, {0: (5, 9), 1: (2, 2)})
    state = batch_state(rows)

    batch = choose_batch(state, "t", earliest={0: 0, 1: 0}, latest={0: 12, 1: 7}, max_per_partition=2)

    assert (state.committed, state.last_seq, state.last_committed_at) == (
        {0: 9, 1: 2}, 2, T0 + timedelta(hours=2, minutes=5),
    )  # fmt: skip
    assert (batch.seq, batch.resumed) == (3, False)
    assert (batch.plan.starting_offsets, batch.plan.next_offsets) == ({0: 9, 1: 2}, {0: 11, 1: 4})


def test_a_planned_but_uncommitted_batch_is_re_executed_exactly_even_if_the_topic_moved_on() -> None:
    rows = [*committed_batch(1, {0: (0, 5)}), row(2, PLANNED, 0, 5, 9)]
    state = batch_state(rows)

    batch = choose_batch(state, "t", earliest={0: 0}, latest={0: 500}, max_per_partition=1000)

    assert (state.pending_seq, state.committed, state.last_seq) == (2, {0: 5}, 2)
    assert (batch.seq, batch.resumed, batch.replanned) == (2, True, False)
    assert (batch.plan.starting_offsets, batch.plan.next_offsets) == ({0: 5}, {0: 9})
    assert batch.read_ranges == (OffsetRange(0, 5, 9),)


def test_a_pending_batch_keeps_its_recorded_loss_and_counts_what_retention_removed_since() -> None:
    pending = row(2, PLANNED, 0, 5, 9, expected_offset=3, earliest_offset=5, lost_start=3, lost_end=5)
    state = batch_state([*committed_batch(1, {0: (0, 3)}), pending])

    unchanged = choose_batch(state, "t", earliest={0: 5}, latest={0: 20})
    expired = choose_batch(state, "t", earliest={0: 7}, latest={0: 20})

    assert unchanged.plan.lost_ranges == (OffsetRange(0, 3, 5),) and not unchanged.replanned
    assert (expired.replanned, expired.plan.lost_ranges, expired.read_ranges) == (
        True, (OffsetRange(0, 3, 7),), (OffsetRange(0, 7, 9),),
    )  # fmt: skip
    assert expired.plan.messages_lost == 4 and expired.plan.messages_planned == 2


def test_the_newest_planned_rows_of_a_re_planned_batch_win() -> None:
    first = row(2, PLANNED, 0, 5, 9)
    again = row(2, PLANNED, 0, 7, 9, lost_start=5, lost_end=7, planned_at=T0 + timedelta(days=1))

    state = batch_state([*committed_batch(1, {0: (0, 5)}), again, first])

    assert state.pending == (again,)


def test_rows_record_the_plan_and_its_loss_with_aware_times() -> None:
    plan = plan_batch("t", {0: 2, 1: 0}, earliest={0: 4, 1: 0}, latest={0: 6, 1: 1})
    at = datetime(2025, 6, 1, 14, 0, tzinfo=UTC)

    planned = offset_rows(Batch(4, plan), PLANNED, "r", at)
    committed = offset_rows(Batch(4, plan), COMMITTED, "r", at)

    assert [r.as_tuple() for r in planned] == [
        ("t", 0, 4, "planned", 4, 6, 2, 4, 6, 2, 4, "r", at, None),
        ("t", 1, 4, "planned", 0, 1, 0, 0, 1, None, None, "r", at, None),
    ]
    assert {r.committed_at for r in committed} == {at}
    assert batch_state(planned + committed).committed == {0: 6, 1: 1}


@pytest.mark.parametrize(
    ("committed", "earliest", "latest", "needs_run"),
    [({0: 4}, {0: 0}, {0: 4}, False), ({0: 4}, {0: 6}, {0: 6}, True), ({0: 4}, {0: 0}, {0: 5}, True)],
    ids=["nothing-new", "only-a-loss-to-record", "new-messages"],
)
def test_a_batch_runs_when_there_is_something_to_read_or_a_loss_to_record(
    committed: dict[int, int], earliest: dict[int, int], latest: dict[int, int], needs_run: bool
) -> None:
    assert Batch(1, plan_batch("t", committed, earliest, latest)).needs_run is needs_run
