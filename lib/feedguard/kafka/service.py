"""The FoodNow consumer as a long-running service: one Spark session, batch after batch, until a signal.

``jobs/ingest_kafka.py --continuous`` (same job, flags and image as the scheduled drain) runs
:func:`run_kafka_service`; start it with ``python``, not ``spark-submit`` (under spark-submit the JVM is
the parent process and a SIGTERM stops Spark under the running batch)::

    python jobs/ingest_kafka.py --continuous --interval 60 --health_address 0.0.0.0:8080 \
        --source foodnow --dataset order_events --bootstrap_servers 127.0.0.1:9092 \
        --topic foodnow.order-events --lake_path lake

Each batch is one run of :func:`feedguard.kafka.lifecycle.ingest_and_report` with a fresh run id (every
guarantee of the scheduled job holds per batch); once caught up, a cheap poll every ``--interval`` seconds
starts a batch only when the latest offsets moved. The feed's lease is held for the service's life. On
SIGTERM/SIGINT no new batch starts; the current one finishes, or is abandoned while it waits for the broker
(its write-ahead plan is re-executed exactly by the next run); exit 0, at the latest after
``--stop_timeout_seconds``. Past the outage window a run closes as ``broker_unavailable`` (alert, SLA row)
and the consumer restarts after a growing backoff. Health: :mod:`feedguard.kafka.health`.
docs/operations.md §3.8 says how to deploy, scale, stop and restart it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from pyspark.sql import SparkSession

from feedguard.errors import EXIT_OK, EXIT_TRANSIENT, UsageError
from feedguard.ingest.routing import RunContext
from feedguard.kafka.broker_offsets import fetch_offsets
from feedguard.kafka.health import ServiceHealth, health_address, serve_health
from feedguard.kafka.ingest import AfterWrite, kafka_guard
from feedguard.kafka.job import KafkaJobSetup, kafka_job_setup, seconds_option
from feedguard.kafka.lifecycle import ingest_and_report
from feedguard.kafka.outage import OutagePolicy
from feedguard.lake.lease import Lease, acquire_lease
from feedguard.lake.lease_store import lease_store
from feedguard.lake.runlog import iso, new_run_id, utc_now
from feedguard.runtime.glue import job_session
from feedguard.summary import RunSummary

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0
DEFAULT_STOP_TIMEOUT_SECONDS = 100.0  # below ECS's maximum stopTimeout of 120 s
UNHEALTHY_MARGIN_SECONDS = 300.0  # beyond the outage window before the task counts as stuck
RESTART_INITIAL_SECONDS = 5.0
RESTART_MAX_SECONDS = 300.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class ServiceSettings:
    """How the service paces itself, reports health and stops."""

    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    health_address: tuple[str, int] | None = ("127.0.0.1", 8080)
    unhealthy_after_seconds: float = 1800.0 + UNHEALTHY_MARGIN_SECONDS
    stop_timeout_seconds: float = DEFAULT_STOP_TIMEOUT_SECONDS
    restart_initial_seconds: float = RESTART_INITIAL_SECONDS

    def restart_backoff(self, restarts: int) -> float:
        """Seconds before consumer restart number ``restarts`` (1, 2, ...): doubling, capped."""
        return float(min(RESTART_MAX_SECONDS, self.restart_initial_seconds * 2 ** (restarts - 1)))


def service_settings(opts: Mapping[str, Any], policy: OutagePolicy) -> ServiceSettings:
    """The service's settings from the job's options (bad values: exit 2)."""
    if opts.get("run_id"):
        raise UsageError("--run_id cannot be combined with --continuous: every batch gets its own run id")
    interval = seconds_option(opts, "interval", DEFAULT_INTERVAL_SECONDS, minimum=0.1)
    stuck = policy.expected_downtime.total_seconds() + max(UNHEALTHY_MARGIN_SECONDS, 2 * interval)
    stop_timeout = seconds_option(opts, "stop_timeout_seconds", DEFAULT_STOP_TIMEOUT_SECONDS, minimum=1)
    return ServiceSettings(
        interval_seconds=interval,
        health_address=health_address(opts.get("health_address")),
        unhealthy_after_seconds=seconds_option(opts, "unhealthy_after_seconds", stuck, minimum=1),
        stop_timeout_seconds=stop_timeout,
    )


class StopRequested(Exception):
    """A stop signal arrived while the service waited (for the broker or the lease): stop waiting."""


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A ``sleep`` for backoffs that raises :class:`StopRequested` as soon as ``stop`` is set."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise StopRequested("stop requested")

    return sleep


def _exit_on_timeout(seconds: float) -> None:
    log.error("still busy %.0f s after the stop signal: exiting; the next run re-executes the batch", seconds)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(EXIT_OK)


@contextmanager
def stop_on_signals(
    stop: threading.Event,
    *,
    timeout_seconds: float,
    on_stop: Callable[[], None] = lambda: None,
    on_timeout: Callable[[float], None] = _exit_on_timeout,
) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT set ``stop`` (once) and arm ``on_timeout`` after ``timeout_seconds``.

    Must be entered from the main thread (Python runs signal handlers there).
    """
    timers: list[threading.Timer] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            return
        log.warning(
            "%s: no new batch; finishing the current one, then stopping (at most %.0f s)",
            signal.Signals(signum).name,
            timeout_seconds,
        )
        stop.set()
        on_stop()
        timer = threading.Timer(timeout_seconds, on_timeout, args=(timeout_seconds,))
        timer.daemon = True
        timer.start()
        timers.append(timer)

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for timer in timers:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class ServiceLoop:
    """What the loop works with for the service's whole life."""

    spark: SparkSession
    setup: KafkaJobSetup
    job_name: str
    settings: ServiceSettings
    stop: threading.Event
    health: ServiceHealth
    lease: Lease | None = None
    after_write: AfterWrite | None = None

    def stage_done(self, stage: str) -> None:
        """Each write stage of a batch is progress (a long batch stays healthy); then the injected hook."""
        self.health.progressed()
        if self.after_write is not None:
            self.after_write(stage)

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` or until a stop signal."""
        self.stop.wait(seconds)


def caught_up(summary: RunSummary) -> bool:
    """True when the run left no lag (its batch was not capped)."""
    return all(int(n) == 0 for n in (summary.get("consumer_lag_after_run") or {}).values())


def nothing_new(loop: ServiceLoop, last: RunSummary) -> bool:
    """True when the last run caught up and the broker's latest offsets have not moved since.

    A cheap poll with a fresh kafka-python client; any failure answers False, so that a real run (under
    the outage guard, with its SLA ledger) faces the broker.
    """
    latest_then = {int(p["partition"]): int(p["latest"]) for p in last.get("partitions") or []}
    if last.get("exit_code") or not latest_then or not caught_up(last):
        return False
    feed = loop.setup.feed
    try:
        _, latest = fetch_offsets(
            feed.bootstrap, feed.topic, timeout_ms=feed.timeout_ms, security=feed.security
        )
    except Exception as exc:  # the run that follows reports it properly
        log.info("idle poll of %s failed (%s): running a batch", feed.topic, exc)
        return False
    if latest != latest_then:
        return False
    loop.health.caught_up()
    return True


def one_batch(loop: ServiceLoop) -> RunSummary | None:
    """Run one batch as a run of its own; None when a stop signal made it give up waiting for the broker."""
    setup = loop.setup
    contract = setup.contract
    ctx = RunContext(contract.source, contract.dataset, contract.version, new_run_id(), iso(utc_now()))
    guard = kafka_guard(
        setup.policy,
        sleep=stoppable_sleep(loop.stop),
        on_attempt=lambda attempt: loop.health.broker_unreachable(attempt.error),
    )
    loop.health.ingesting()
    try:
        summary = ingest_and_report(loop.spark, contract, setup.lake, setup.feed, ctx, setup.reporters,
                                    job_name=loop.job_name, guard=guard,
                                    after_write=loop.stage_done)  # fmt: skip
    except StopRequested:
        log.warning(
            "run %s stopped while waiting for the broker: its batch is abandoned (a planned batch is "
            "re-executed exactly by the next run)",
            ctx.run_id,
        )
        return None
    loop.health.batch_done(summary)
    log.info("%s", summary["message"])
    return summary


def run_batches(loop: ServiceLoop) -> int:
    """Batch after batch until ``loop.stop`` is set; return the exit code (0).

    Errors that are not an outage (a bug, a conservation failure, a lost lease, a full disk) leave as
    exceptions, with their exit codes, as they do for the scheduled job.
    """
    last: RunSummary | None = None
    restarts = 0
    while not loop.stop.is_set():
        if loop.lease is not None:
            loop.lease.check()
        if last is not None and nothing_new(loop, last):
            loop.health.idle()
            loop.pause(loop.settings.interval_seconds)
            continue
        summary = one_batch(loop)
        if summary is None:
            break
        if summary["exit_code"] == EXIT_TRANSIENT:
            restarts += 1
            last = None
            loop.health.restarting(str(summary["message"]))
            backoff = loop.settings.restart_backoff(restarts)
            log.warning("restarting the Kafka consumer in %.0f s (restart %d)", backoff, restarts)
            loop.pause(backoff)
            continue
        restarts, last = 0, summary
        if caught_up(summary):
            loop.health.idle()
            loop.pause(loop.settings.interval_seconds)
    log.info("stopped: no batch in progress")
    return EXIT_OK


@contextmanager
def held_lease(setup: KafkaJobSetup, holder: str, stop: threading.Event) -> Iterator[Lease]:
    """The feed's lease for the service's life (heartbeat); waiting for it ends on a stop signal."""
    store = lease_store(setup.lake.lease(setup.contract.source, setup.contract.dataset))
    lease = acquire_lease(store, holder, feed=setup.contract.key, ttl_seconds=setup.lease_ttl_seconds,
                          wait_seconds=setup.lease_wait_seconds, sleep=stoppable_sleep(stop))  # fmt: skip
    lease.start_heartbeat()
    try:
        yield lease
    finally:
        lease.release()


def run_kafka_service(
    opts: Mapping[str, Any], environ: Mapping[str, str], *, after_write: AfterWrite | None = None
) -> int:
    """Run the consumer until SIGTERM/SIGINT; return the exit code (0 after a graceful stop)."""
    setup = kafka_job_setup(opts, environ)
    settings = service_settings(opts, setup.policy)
    stop = threading.Event()

    def in_window(now: float) -> bool:
        return setup.policy.window_at(datetime.fromtimestamp(now, UTC)) is not None

    health = ServiceHealth(unhealthy_after=settings.unhealthy_after_seconds, in_maintenance_window=in_window)
    holder, job = f"service-{new_run_id()}", str(opts["JOB_NAME"])
    log.info("service %s: %s from %s on %s, polling every %.0f s", holder, setup.contract.key,
             setup.feed.topic, setup.feed.bootstrap, settings.interval_seconds)  # fmt: skip
    signals = stop_on_signals(stop, timeout_seconds=settings.stop_timeout_seconds, on_stop=health.stopping)
    with serve_health(health, settings.health_address), signals:
        try:
            with held_lease(setup, holder, stop) as lease, job_session(job, opts, kafka=True) as spark:
                return run_batches(ServiceLoop(spark, setup, job, settings, stop, health, lease, after_write))
        except StopRequested:
            log.info("stopped while waiting for the feed's lease")
            return EXIT_OK
        finally:
            health.stopped()
