"""Planning a Kafka batch from committed and broker offsets (pure: no broker, no Spark)."""

from __future__ import annotations

import json

import pytest

from feedguard.kafka.offsets import (
    OffsetRange,
    OffsetsAheadOfBrokerError,
    offsets_json,
    plan_batch,
)


def test_first_run_reads_every_partition_from_earliest_to_latest() -> None:
    plan = plan_batch("orders", {}, earliest={0: 0, 1: 4}, latest={0: 10, 1: 9})

    assert plan.starting_offsets_json == '{"orders":{"0":0,"1":4}}'
    assert plan.ending_offsets_json == '{"orders":{"0":10,"1":9}}'
    assert (plan.lost_ranges, plan.messages_lost) == ((), 0)
    assert plan.lag == {0: 10, 1: 5}
    assert (plan.messages_planned, plan.is_empty, plan.next_offsets) == (15, False, {0: 10, 1: 9})


def test_next_run_resumes_from_the_committed_offsets() -> None:
    plan = plan_batch("orders", {0: 12, 1: 7}, earliest={0: 0, 1: 0}, latest={0: 20, 1: 7})

    assert plan.starting_offsets == {0: 12, 1: 7}
    assert plan.next_offsets == {0: 20, 1: 7}
    assert (plan.lag, plan.total_lag, plan.messages_planned) == ({0: 8, 1: 0}, 8, 8)
    assert [p.lag_after for p in plan.partitions] == [0, 0]


def test_nothing_new_is_an_empty_plan() -> None:
    plan = plan_batch("orders", {0: 20}, earliest={0: 3}, latest={0: 20})

    assert plan.is_empty
    assert (plan.starting_offsets_json, plan.ending_offsets_json) == ('{"orders":{"0":20}}',) * 2


def test_cap_bounds_each_partition_and_leaves_the_rest_as_lag() -> None:
    plan = plan_batch(
        "orders", {0: 12, 1: 0}, earliest={0: 0, 1: 0}, latest={0: 20, 1: 3}, max_per_partition=5
    )

    assert plan.next_offsets == {0: 17, 1: 3}
    assert [(p.count, p.lag, p.lag_after) for p in plan.partitions] == [(5, 8, 3), (3, 3, 0)]


def test_retention_past_the_committed_offset_reports_the_lost_range_and_reads_what_is_left() -> None:
    plan = plan_batch("orders", {0: 3, 1: 10}, earliest={0: 8, 1: 4}, latest={0: 15, 1: 12})

    assert plan.lost_ranges == (OffsetRange(0, 3, 8),)
    assert plan.messages_lost == 5
    assert plan.starting_offsets == {0: 8, 1: 10}
    assert plan.next_offsets == {0: 15, 1: 12}
    assert plan.lag == {0: 12, 1: 2}
    assert plan.messages_planned == 9


def test_a_fully_expired_partition_loses_everything_and_moves_the_offset_on() -> None:
    plan = plan_batch("orders", {0: 3}, earliest={0: 10}, latest={0: 10})

    assert plan.lost_ranges == (OffsetRange(0, 3, 10),)
    assert (plan.messages_lost, plan.is_empty, plan.next_offsets) == (7, True, {0: 10})


def test_capped_read_after_a_loss_starts_at_the_earliest_offset() -> None:
    plan = plan_batch("orders", {0: 1}, earliest={0: 5}, latest={0: 100}, max_per_partition=10)

    assert (plan.starting_offsets, plan.next_offsets, plan.messages_lost) == ({0: 5}, {0: 15}, 4)


def test_a_partition_added_since_the_last_run_is_read_from_earliest_without_loss() -> None:
    plan = plan_batch("orders", {0: 5}, earliest={0: 0, 1: 2}, latest={0: 5, 1: 6})

    assert plan.starting_offsets == {0: 5, 1: 2}
    assert plan.lost_ranges == ()
    assert plan.lag == {0: 0, 1: 4}


def test_a_committed_offset_past_the_latest_refuses_to_plan_with_exit_2() -> None:
    with pytest.raises(OffsetsAheadOfBrokerError, match="partition 0: committed next offset 30 is past") as e:
        plan_batch("orders", {0: 30}, earliest={0: 0}, latest={0: 20})
    assert e.value.exit_code == 2


def test_a_committed_partition_missing_on_the_broker_refuses_to_plan() -> None:
    with pytest.raises(OffsetsAheadOfBrokerError, match=r"committed partitions \[1\] no longer exist"):
        plan_batch("orders", {0: 1, 1: 1}, earliest={0: 0}, latest={0: 2})


@pytest.mark.parametrize(
    ("earliest", "latest", "cap", "message"),
    [
        ({0: 0}, {0: 1, 1: 1}, None, "must list the same partitions"),
        ({}, {}, None, "must list the same partitions"),
        ({0: 5}, {0: 4}, None, "are not ordered"),
        ({0: 0}, {0: 4}, 0, "max_per_partition must be at least 1"),
    ],
)
def test_inconsistent_inputs_are_rejected(
    earliest: dict[int, int], latest: dict[int, int], cap: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plan_batch("orders", {}, earliest, latest, max_per_partition=cap)


def test_offsets_json_lists_partitions_in_numeric_order_and_round_trips() -> None:
    text = offsets_json("foodnow.orders", {10: 1, 2: 3})

    assert text == '{"foodnow.orders":{"2":3,"10":1}}'
    assert json.loads(text) == {"foodnow.orders": {"2": 3, "10": 1}}
