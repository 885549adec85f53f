"""The Kafka service's parts that need no JVM: health, its HTTP endpoint, settings, signals, stop-aware waits.

The loop itself runs against a real broker in tests/e2e/test_kafka_service_e2e.py.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from feedguard.errors import UsageError
from feedguard.kafka.health import ServiceHealth, health_address, serve_health
from feedguard.kafka.outage import MaintenanceWindow, OutageGuard, OutagePolicy
from feedguard.kafka.service import (
    ServiceSettings,
    StopRequested,
    caught_up,
    service_settings,
    stop_on_signals,
    stoppable_sleep,
)
from feedguard.summary import RunSummary

T0 = 1_780_000_000.0  # 2026-05-28T...Z


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def summary(**fields: Any) -> RunSummary:
    base: dict[str, Any] = {"run_id": "r1", "status": "succeeded", "exit_code": 0, "batch_seq": 1,
            "consumer_lag_after_run": {"0": 0, "1": 0}}  # fmt: skip
    return cast(RunSummary, base | fields)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


# --- health state ---------------------------------------------------------------------------------------


def test_a_new_service_is_healthy_while_starting_and_unhealthy_once_nothing_progressed_for_too_long() -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=60, clock=clock)
    start = health.snapshot()
    assert (start["status"], start["state"], start["broker_reachable"], start["last_success_at"]) == (
        "healthy", "starting", None, None,
    )  # fmt: skip
    clock.now += 60
    assert health.snapshot()["status"] == "healthy"
    clock.now += 1
    assert (health.snapshot()["status"], health.snapshot()["seconds_since_progress"]) == ("unhealthy", 61)


def test_a_finished_batch_records_its_run_lag_and_success_and_counts_as_progress() -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=60, clock=clock)
    clock.now += 50
    health.batch_done(summary(run_id="r7", consumer_lag_after_run={"0": 3, "1": 4}))
    health.idle()
    clock.now += 30
    snap = health.snapshot()
    assert {k: snap[k] for k in ("status", "state", "broker_reachable", "consumer_lag", "last_run_id",
                                 "batches", "seconds_since_progress")} == {
        "status": "healthy", "state": "idle", "broker_reachable": True, "consumer_lag": 7,
        "last_run_id": "r7", "batches": 1, "seconds_since_progress": 30,
    }  # fmt: skip
    assert snap["last_success_at"] == datetime.fromtimestamp(T0 + 50, UTC).isoformat().replace("+00:00", "Z")


def test_a_run_that_gave_up_on_the_broker_is_no_progress_and_the_restarts_are_counted() -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=60, clock=clock)
    health.broker_unreachable("NoBrokersAvailable")
    waiting = health.snapshot()
    assert (waiting["state"], waiting["broker_reachable"]) == ("waiting_for_broker", False)
    clock.now += 40
    health.batch_done(summary(status="broker_unavailable", exit_code=75, batch_seq=None))
    health.restarting("Kafka broker unreachable for 31 s")
    clock.now += 21
    snap = health.snapshot()
    assert (snap["status"], snap["state"], snap["restarts"], snap["last_status"], snap["batches"]) == (
        "unhealthy", "restarting_consumer", 1, "broker_unavailable", 0,
    )  # fmt: skip
    assert snap["last_error"] == "Kafka broker unreachable for 31 s"
    health.caught_up()  # the broker answers again and nothing is new
    assert (health.snapshot()["status"], health.snapshot()["broker_reachable"]) == ("healthy", True)


def test_inside_a_declared_maintenance_window_a_long_wait_stays_healthy() -> None:
    clock = Clock()
    window = MaintenanceWindow(datetime.fromtimestamp(T0 + 100, UTC), datetime.fromtimestamp(T0 + 900, UTC))

    def in_window(now: float) -> bool:
        return window.contains(datetime.fromtimestamp(now, UTC))

    health = ServiceHealth(unhealthy_after=60, clock=clock, in_maintenance_window=in_window)
    clock.now += 500
    assert health.snapshot()["status"] == "healthy"
    clock.now += 500  # the window ended 100 s ago, nothing progressed for 1000 s
    assert health.snapshot()["status"] == "unhealthy"


def test_once_stopping_only_stopped_follows_and_a_stopped_service_is_unhealthy() -> None:
    health = ServiceHealth(unhealthy_after=60)
    health.stopping()
    health.broker_unreachable("gone")
    health.ingesting()
    assert health.snapshot()["state"] == "stopping"
    health.stopped()
    assert (health.snapshot()["state"], health.snapshot()["status"]) == ("stopped", "unhealthy")


# --- the HTTP endpoint ----------------------------------------------------------------------------------


def test_healthz_answers_200_then_503_with_the_snapshot_and_the_page_escapes_what_it_shows() -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=60, clock=clock)
    health.batch_done(summary(run_id="<script>alert(1)</script>"))
    with serve_health(health, ("127.0.0.1", 0)) as address:
        assert address is not None
        base = f"http://127.0.0.1:{address[1]}"
        code, kind, body = get(f"{base}/healthz")
        assert (code, kind) == (200, "application/json")
        assert json.loads(body) == health.snapshot()
        clock.now += 61
        code, _, body = get(f"{base}/healthz")
        assert (code, json.loads(body)["status"]) == (503, "unhealthy")
        code, kind, page = get(f"{base}/")
        assert (code, kind) == (503, "text/html; charset=utf-8")
        assert "&lt;script&gt;" in page and "<script>" not in page
        assert get(f"{base}/metrics")[0] == 404
    with pytest.raises(OSError):  # the server is gone
        urllib.request.urlopen(f"{base}/healthz", timeout=2)


def test_a_health_address_that_is_taken_is_a_usage_error_naming_it() -> None:
    health = ServiceHealth(unhealthy_after=60)
    with serve_health(health, ("127.0.0.1", 0)) as address:
        assert address is not None
        taken = pytest.raises(UsageError, match=f"--health_address 127.0.0.1:{address[1]}: cannot listen")
        with taken, serve_health(health, address):
            pass


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("0.0.0.0:0", ("0.0.0.0", 0)), (":9000", ("0.0.0.0", 9000)),
     ("[::1]:8080", ("::1", 8080)), ("none", None), ("", None)],
)  # fmt: skip
def test_health_address_parses_host_and_port(text: str, expected: tuple[str, int] | None) -> None:
    assert health_address(text) == expected


@pytest.mark.parametrize("text", ["8080", "host:http", "host:70000"])
def test_a_bad_health_address_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--health_address expects HOST:PORT"):
        health_address(text)


# --- settings -------------------------------------------------------------------------------------------


def test_settings_default_to_a_60_s_poll_and_unhealthy_5_minutes_past_the_outage_window() -> None:
    settings = service_settings({"health_address": "127.0.0.1:8080"}, OutagePolicy())
    assert settings == ServiceSettings(60.0, ("127.0.0.1", 8080), 1800.0 + 300.0, 100.0)
    slow = service_settings({"interval": "600", "health_address": "none"}, OutagePolicy())
    assert (slow.unhealthy_after_seconds, slow.health_address) == (1800.0 + 1200.0, None)


def test_settings_reject_a_run_id_and_values_that_are_not_seconds() -> None:
    with pytest.raises(UsageError, match="--run_id cannot be combined with --continuous"):
        service_settings({"run_id": "r1"}, OutagePolicy())
    with pytest.raises(UsageError, match="--interval expects seconds, got 'soon'"):
        service_settings({"interval": "soon"}, OutagePolicy())
    with pytest.raises(UsageError, match="--stop_timeout_seconds must be at least 1 seconds"):
        service_settings({"stop_timeout_seconds": "0"}, OutagePolicy())


def test_consumer_restarts_back_off_doubling_up_to_five_minutes() -> None:
    assert [ServiceSettings().restart_backoff(n) for n in (1, 2, 3, 7, 20)] == [5, 10, 20, 300, 300]


def test_caught_up_means_no_lag_left_on_any_partition() -> None:
    assert caught_up(summary()) and caught_up(summary(consumer_lag_after_run={}))
    assert not caught_up(summary(consumer_lag_after_run={"0": 0, "1": 2}))


# --- stopping -------------------------------------------------------------------------------------------


def test_a_backoff_wait_of_the_outage_guard_ends_with_stop_requested_once_stop_is_set() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def unreachable() -> None:
        calls.append(1)
        if len(calls) == 2:
            stop.set()  # the signal arrives during the second attempt
        raise ConnectionError("broker down")

    guard = OutageGuard(OutagePolicy(expected_downtime=timedelta(hours=1)), sleep=stoppable_sleep(stop))
    with pytest.raises(StopRequested):
        guard.call(unreachable, what="fetch offsets")
    assert len(calls) == 2 and len(guard.outages[0].attempts) == 2 and not guard.outages[0].recovered


def test_sigterm_and_sigint_set_stop_once_arm_the_timeout_and_the_old_handlers_come_back() -> None:
    stop = threading.Event()
    stopped: list[str] = []
    timed_out = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(stop, timeout_seconds=0.2, on_stop=lambda: stopped.append("stop"),
                         on_timeout=lambda seconds: timed_out.set()):  # fmt: skip
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5) and timed_out.wait(5)
        os.kill(os.getpid(), signal.SIGINT)  # a second signal changes nothing (no KeyboardInterrupt)
    assert stopped == ["stop"]
    assert signal.getsignal(signal.SIGTERM) is before
    late = threading.Event()
    with stop_on_signals(threading.Event(), timeout_seconds=0.3, on_timeout=lambda seconds: late.set()):
        os.kill(os.getpid(), signal.SIGTERM)
    assert not late.wait(0.6)  # the batch ended in time: leaving the block cancelled the timer
