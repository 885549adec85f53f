"""Riding out a Kafka broker outage: the retry policy and the outage record.

:class:`OutageGuard` runs a broker call with tenacity: exponential backoff with jitter for as long as the
outage stays inside the expected-downtime window (default 30 minutes from the first failure) or inside a
declared maintenance window; past that it raises :class:`BrokerUnavailableError` (exit code 75, retry
later: the next run resumes from the committed offsets). Clock, sleep and randomness are injected, so
tests run in milliseconds. Every failed attempt is recorded (time, error) in an :class:`Outage`.

Example::

    guard = OutageGuard(OutagePolicy(maintenance_windows=(MaintenanceWindow.parse(
        "2025-06-01T02:00:00Z/2025-06-01T04:00:00Z"),)))
    earliest, latest = guard.call(lambda: fetch_offsets(bootstrap, topic), what="fetch offsets")
    metrics.put("DowntimeSeconds", guard.total_downtime_seconds)
    rows = [SlaLedgerRow.from_outage(topic, o, run_id=run_id) for o in guard.outages]  # feedguard.kafka.sla
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from kafka.errors import BrokerNotAvailableError, KafkaError
from py4j.protocol import Py4JJavaError
from tenacity import RetryCallState, Retrying, retry_if_exception

from feedguard.errors import EXIT_TRANSIENT, TransientError

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Java exception names that mean "broker unreachable" inside a Spark (Py4J) error text.
JAVA_UNREACHABLE_MARKERS = (
    "org.apache.kafka.common.errors.TimeoutException",
    "org.apache.kafka.common.errors.DisconnectException",
    "Timed out waiting for a node assignment",
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_broker_unreachable(exc: BaseException) -> bool:
    """True for errors worth waiting out: retriable kafka-python errors, connection errors, timeouts."""
    if isinstance(exc, KafkaError):
        return bool(exc.retriable) or isinstance(exc, BrokerNotAvailableError)
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, Py4JJavaError):  # a JVM exception: the Kafka client's text is all we get
        return any(marker in str(exc) for marker in JAVA_UNREACHABLE_MARKERS)
    return False


@dataclass(frozen=True)
class MaintenanceWindow:
    """A declared maintenance window, ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"maintenance window times must be timezone-aware (UTC): {self}")
        if self.start >= self.end:
            raise ValueError(f"maintenance window starts at or after its end: {self}")

    @classmethod
    def parse(cls, text: str) -> MaintenanceWindow:
        """``"2025-06-01T02:00:00Z/2025-06-01T04:00:00Z"`` (ISO-8601 interval)."""
        start, sep, end = text.partition("/")
        if not sep:
            raise ValueError(f"expected START/END (ISO-8601 interval), got {text!r}")
        return cls(datetime.fromisoformat(start.strip()), datetime.fromisoformat(end.strip()))

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class OutagePolicy:
    """How long to wait for the broker, and how fast to retry."""

    expected_downtime: timedelta = timedelta(minutes=30)
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    initial_wait_seconds: float = 1.0
    max_wait_seconds: float = 60.0
    exp_base: float = 2.0
    jitter_seconds: float = 1.0

    def window_at(self, moment: datetime) -> MaintenanceWindow | None:
        """The maintenance window ``moment`` falls into, if any."""
        return next((w for w in self.maintenance_windows if w.contains(moment)), None)

    def deadline(self, outage_start: datetime, now: datetime) -> datetime:
        """Keep retrying until this time: the expected-downtime window, stretched by a maintenance window."""
        window = self.window_at(now)
        expected_end = outage_start + self.expected_downtime
        return max(expected_end, window.end) if window else expected_end

    def backoff_seconds(self, failures: int, rng: random.Random) -> float:
        """``min(max_wait, initial * base**(failures-1))`` plus a uniform jitter in ``[0, jitter]``."""
        base = min(self.max_wait_seconds, self.initial_wait_seconds * self.exp_base ** (failures - 1))
        return base + rng.uniform(0.0, self.jitter_seconds)


@dataclass(frozen=True)
class Attempt:
    """One failed attempt: its number within the outage, when it started, and the error it got."""

    number: int
    at: datetime
    error: str


@dataclass
class Outage:
    """One stretch of unreachability seen by a guarded call."""

    what: str
    started_at: datetime
    attempts: list[Attempt] = field(default_factory=list)
    recovered_at: datetime | None = None
    gave_up_at: datetime | None = None
    in_maintenance_window: bool = False  # some failed attempt fell inside a declared maintenance window

    @property
    def recovered(self) -> bool:
        return self.recovered_at is not None

    @property
    def ended_at(self) -> datetime:
        """Recovery time, else the time we gave up, else the last failed attempt."""
        return self.recovered_at or self.gave_up_at or self.attempts[-1].at

    @property
    def duration_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class BrokerUnavailableError(TransientError):
    """The broker stayed unreachable past the allowed window; exit 75 and let the next run resume."""

    def __init__(self, outage: Outage, policy: OutagePolicy) -> None:
        self.outage = outage
        where = "inside" if outage.in_maintenance_window else "outside"
        last = outage.attempts[-1].error if outage.attempts else "?"
        super().__init__(
            f"Kafka broker unreachable for {outage.duration_seconds:.1f} s ({len(outage.attempts)} attempts "
            f"at {outage.what}), past the expected-downtime window of "
            f"{policy.expected_downtime.total_seconds():.0f} s ({where} a declared maintenance window); "
            f"last error: {last}. Exit {EXIT_TRANSIENT}: rerun later, it resumes from the committed offsets."
        )

    @property
    def in_maintenance_window(self) -> bool:
        return self.outage.in_maintenance_window

    @property
    def downtime_seconds(self) -> float:
        return self.outage.duration_seconds


class OutageGuard:
    """Runs broker calls, retrying through outages per :class:`OutagePolicy`, and keeps the outages seen."""

    def __init__(
        self,
        policy: OutagePolicy | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        is_transient: Callable[[BaseException], bool] = is_broker_unreachable,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        self.policy = policy or OutagePolicy()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.is_transient = is_transient
        self.on_attempt = on_attempt
        self.outages: list[Outage] = []

    @property
    def total_downtime_seconds(self) -> float:
        """Seconds of unreachability over all guarded calls (the DowntimeSeconds metric)."""
        return sum(o.duration_seconds for o in self.outages)

    def call(self, fn: Callable[[], T], what: str = "broker call") -> T:
        """Run ``fn()``, retrying while the broker is unreachable within the window (see class doc)."""
        current: list[Outage] = []  # the outage of this call, once the first attempt failed

        def attempt() -> T:
            at = self.clock()
            try:
                value = fn()
            except BaseException as exc:
                if self.is_transient(exc):
                    self._record_failure(current, what, at, exc)
                raise
            if current:
                current[0].recovered_at = at
                LOG.info(
                    "Kafka broker reachable again at %s after %.1f s (%s)",
                    at.isoformat(),
                    current[0].duration_seconds,
                    what,
                )
            return value

        result: T = self._retrying(current, what)(attempt)
        return result

    def _retrying(self, current: list[Outage], what: str) -> Retrying:
        """Tenacity's loop for one call: stop at the policy's deadline, back off, give up with exit 75."""

        def stop(state: RetryCallState) -> bool:
            now = self.clock()
            return now >= self.policy.deadline(current[0].started_at, now)

        def wait(state: RetryCallState) -> float:
            now = self.clock()
            left = (self.policy.deadline(current[0].started_at, now) - now).total_seconds()
            return min(self.policy.backoff_seconds(len(current[0].attempts), self.rng), max(left, 0.0))

        def before_sleep(state: RetryCallState) -> None:
            LOG.warning("%s: retrying in %.2f s", what, state.upcoming_sleep)

        def give_up(state: RetryCallState) -> Any:
            outage = current[0]
            outage.gave_up_at = self.clock()
            error = BrokerUnavailableError(outage, self.policy)
            LOG.error("%s", error)
            raise error from state.outcome.exception() if state.outcome else None

        return Retrying(
            retry=retry_if_exception(self.is_transient),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            retry_error_callback=give_up,
        )

    def _record_failure(self, current: list[Outage], what: str, at: datetime, exc: BaseException) -> None:
        if not current:
            current.append(Outage(what, started_at=at))
            self.outages.append(current[0])
        outage = current[0]
        text = str(exc) if str(exc).startswith(type(exc).__name__) else f"{type(exc).__name__}: {exc}"
        record = Attempt(len(outage.attempts) + 1, at, text[:500])
        outage.attempts.append(record)
        outage.in_maintenance_window |= self.policy.window_at(at) is not None
        LOG.warning(
            "Kafka broker unreachable (%s, attempt %d at %s): %s",
            what,
            record.number,
            at.isoformat(),
            record.error,
        )
        if self.on_attempt is not None:
            self.on_attempt(record)
