"""Retrying through a broker outage with an injected clock and sleep (runs in milliseconds)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from kafka.errors import KafkaTimeoutError, NoBrokersAvailable, UnknownTopicOrPartitionError
from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession
from tests.support.jvm_errors import thrown_by_jvm

from feedguard.errors import TransientError
from feedguard.kafka.broker_offsets import UnknownTopicError
from feedguard.kafka.outage import (
    Attempt,
    BrokerUnavailableError,
    MaintenanceWindow,
    OutageGuard,
    OutagePolicy,
    is_broker_unreachable,
)
from feedguard.kafka.sla import SLA_LEDGER_DDL, SlaLedgerRow

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


class BrokerDownUntil:
    """A broker call that fails with NoBrokersAvailable until ``up_at``, then returns ``value``."""

    def __init__(self, fake: FakeTime, up_at: datetime | None, value: int = 42) -> None:
        self.fake, self.up_at, self.value, self.calls = fake, up_at, value, 0

    def __call__(self) -> int:
        self.calls += 1
        if self.up_at is None or self.fake.now < self.up_at:
            raise NoBrokersAvailable(f"call {self.calls}")
        return self.value


def guard_for(
    fake: FakeTime, policy: OutagePolicy, on_attempt: Callable[[Attempt], None] | None = None
) -> OutageGuard:
    return OutageGuard(
        policy, clock=fake.clock, sleep=fake.sleep, rng=random.Random(7), on_attempt=on_attempt
    )


def test_a_reachable_broker_is_called_once_and_records_no_outage() -> None:
    fake = FakeTime()
    guard = guard_for(fake, OutagePolicy())

    assert guard.call(BrokerDownUntil(fake, T0)) == 42
    assert (guard.outages, fake.sleeps, guard.total_downtime_seconds) == ([], [], 0.0)


def test_recovery_inside_the_window_returns_the_value_and_records_each_attempt() -> None:
    fake = FakeTime()
    seen: list[Attempt] = []
    guard = guard_for(fake, OutagePolicy(jitter_seconds=0.0), on_attempt=seen.append)

    assert guard.call(BrokerDownUntil(fake, T0 + timedelta(seconds=5)), what="fetch offsets") == 42

    assert fake.sleeps == [1.0, 2.0, 4.0]
    [outage] = guard.outages
    assert outage.attempts == [
        Attempt(1, T0, "NoBrokersAvailable: call 1"),
        Attempt(2, T0 + timedelta(seconds=1), "NoBrokersAvailable: call 2"),
        Attempt(3, T0 + timedelta(seconds=3), "NoBrokersAvailable: call 3"),
    ]
    assert seen == outage.attempts
    assert (outage.what, outage.started_at) == ("fetch offsets", T0)
    assert outage.recovered_at == T0 + timedelta(seconds=7)
    assert (outage.recovered, outage.duration_seconds, guard.total_downtime_seconds) == (True, 7.0, 7.0)
    assert outage.in_maintenance_window is False


def test_past_the_expected_window_it_gives_up_with_exit_75_and_the_last_wait_is_capped() -> None:
    fake = FakeTime()
    policy = OutagePolicy(
        timedelta(minutes=10), initial_wait_seconds=60, max_wait_seconds=120, jitter_seconds=0.0
    )
    call = BrokerDownUntil(fake, None)

    with pytest.raises(BrokerUnavailableError) as raised:
        guard_for(fake, policy).call(call)

    error = raised.value
    assert fake.sleeps == [60, 120, 120, 120, 120, 60]
    assert (call.calls, len(error.outage.attempts), error.downtime_seconds) == (7, 7, 600.0)
    assert isinstance(error, TransientError)
    assert (error.exit_code, error.in_maintenance_window) == (75, False)
    assert error.outage.gave_up_at == T0 + timedelta(minutes=10) and not error.outage.recovered
    assert isinstance(error.__cause__, NoBrokersAvailable)
    assert str(error) == (
        "Kafka broker unreachable for 600.0 s (7 attempts at broker call), past the expected-downtime "
        "window of 600 s (outside a declared maintenance window); last error: NoBrokersAvailable: call 7. "
        "Exit 75: rerun later, it resumes from the committed offsets."
    )


def test_default_policy_waits_thirty_minutes_with_jittered_exponential_backoff() -> None:
    fake = FakeTime()

    with pytest.raises(BrokerUnavailableError) as raised:
        guard_for(fake, OutagePolicy()).call(BrokerDownUntil(fake, None))

    assert raised.value.downtime_seconds == 1800.0
    assert fake.now == T0 + timedelta(minutes=30)
    bases = [min(60.0, 2.0**i) for i in range(len(fake.sleeps))]
    assert all(b <= s <= b + 1.0 for b, s in zip(bases[:-1], fake.sleeps[:-1], strict=True))
    assert len(set(fake.sleeps)) == len(fake.sleeps)  # jitter: no two waits alike
    assert len(raised.value.outage.attempts) == len(fake.sleeps) + 1


def test_a_maintenance_window_keeps_the_guard_waiting_past_the_expected_window() -> None:
    fake = FakeTime()
    window = MaintenanceWindow(T0 - timedelta(minutes=10), T0 + timedelta(hours=2))
    policy = OutagePolicy(maintenance_windows=(window,), max_wait_seconds=60, jitter_seconds=0.0)

    assert guard_for(fake, policy).call(BrokerDownUntil(fake, T0 + timedelta(minutes=90))) == 42

    assert fake.now == T0 + timedelta(seconds=5403)  # 1+2+...+32 = 63 s, then 89 waits of 60 s
    assert sum(fake.sleeps) == 5403


def test_giving_up_inside_a_short_maintenance_window_says_so() -> None:
    fake = FakeTime()
    window = MaintenanceWindow(T0 - timedelta(minutes=1), T0 + timedelta(minutes=5))
    policy = OutagePolicy(maintenance_windows=(window,), jitter_seconds=0.0)

    with pytest.raises(BrokerUnavailableError, match=r"\(inside a declared maintenance window\)") as raised:
        guard_for(fake, policy).call(BrokerDownUntil(fake, None))

    assert (raised.value.in_maintenance_window, raised.value.downtime_seconds) == (True, 1800.0)


def test_an_outage_running_into_a_maintenance_window_waits_until_the_window_ends() -> None:
    fake = FakeTime()
    window = MaintenanceWindow(T0 + timedelta(minutes=20), T0 + timedelta(minutes=60))
    policy = OutagePolicy(maintenance_windows=(window,), jitter_seconds=0.0)

    with pytest.raises(BrokerUnavailableError) as raised:
        guard_for(fake, policy).call(BrokerDownUntil(fake, None))

    assert (raised.value.downtime_seconds, raised.value.in_maintenance_window) == (3600.0, True)


def test_an_error_that_is_not_an_outage_is_raised_at_once() -> None:
    fake = FakeTime()
    guard = guard_for(fake, OutagePolicy())

    def missing_topic() -> int:
        raise UnknownTopicError("topic 'x' does not exist on the broker")

    with pytest.raises(UnknownTopicError):
        guard.call(missing_topic)
    assert (guard.outages, fake.sleeps) == ([], [])


def test_outages_of_several_calls_add_up() -> None:
    fake = FakeTime()
    guard = guard_for(fake, OutagePolicy(jitter_seconds=0.0))

    guard.call(BrokerDownUntil(fake, T0 + timedelta(seconds=2)))
    guard.call(BrokerDownUntil(fake, fake.now + timedelta(seconds=1)))

    assert [o.duration_seconds for o in guard.outages] == [3.0, 1.0]
    assert guard.total_downtime_seconds == 4.0


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NoBrokersAvailable(), True),
        (KafkaTimeoutError(), True),
        (UnknownTopicOrPartitionError(), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (UnknownTopicError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_which_errors_count_as_the_broker_being_unreachable(error: BaseException, transient: bool) -> None:
    assert is_broker_unreachable(error) is transient


@pytest.mark.parametrize(
    ("java_class", "transient"),
    [
        ("org.apache.kafka.common.errors.TimeoutException", True),
        ("org.apache.kafka.common.errors.DisconnectException", True),
        ("java.lang.IllegalArgumentException", False),
    ],
)
def test_errors_thrown_by_the_jvm_are_classified_by_their_java_cause(
    spark: SparkSession, java_class: str, transient: bool
) -> None:
    error = thrown_by_jvm(
        spark, java_class, "Timed out waiting for a node assignment" if transient else "bad"
    )
    assert isinstance(error, Py4JJavaError)
    assert is_broker_unreachable(error) is transient


def test_backoff_doubles_up_to_the_cap_plus_jitter_within_bounds() -> None:
    policy = OutagePolicy(max_wait_seconds=10, jitter_seconds=0.0)
    assert [policy.backoff_seconds(n, random.Random(1)) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    jittered = OutagePolicy(jitter_seconds=0.5).backoff_seconds(3, random.Random(1))
    assert 4.0 <= jittered <= 4.5 and jittered != 4.0


def test_maintenance_windows_parse_iso_intervals_and_are_half_open() -> None:
    window = MaintenanceWindow.parse("2025-06-01T02:00:00Z/2025-06-01T04:00:00+00:00")

    assert window.start == datetime(2025, 6, 1, 2, tzinfo=UTC)
    assert window.end == datetime(2025, 6, 1, 4, tzinfo=UTC)
    assert [window.contains(datetime(2025, 6, 1, h, tzinfo=UTC)) for h in (1, 2, 3, 4)] == [
        False,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-06-01T02:00:00/2025-06-01T04:00:00", "timezone-aware"),
        ("2025-06-01T04:00:00Z/2025-06-01T02:00:00Z", "starts at or after its end"),
        ("2025-06-01T02:00:00Z", "expected START/END"),
    ],
)
def test_bad_maintenance_windows_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaintenanceWindow.parse(text)


def test_sla_ledger_row_from_an_outage_matches_the_ledger_schema() -> None:
    fake = FakeTime()
    window = MaintenanceWindow(T0, T0 + timedelta(hours=1))
    guard = guard_for(fake, OutagePolicy(maintenance_windows=(window,), jitter_seconds=0.0))
    guard.call(BrokerDownUntil(fake, T0 + timedelta(seconds=3)))

    row = SlaLedgerRow.from_outage(
        "foodnow.orders", guard.outages[0], run_id="run-9", messages_lost=4, consumer_lag_at_recovery=120
    )

    assert row.as_dict() == {
        "topic": "foodnow.orders",
        "outage_start": T0,
        "outage_end": T0 + timedelta(seconds=3),
        "duration_seconds": 3.0,
        "detected_by_run_id": "run-9",
        "messages_lost": 4,
        "consumer_lag_at_recovery": 120,
        "in_maintenance_window": True,
    }
    assert [f.name for f in fields(SlaLedgerRow)] == [c.split()[0] for c in SLA_LEDGER_DDL.split(", ")]
