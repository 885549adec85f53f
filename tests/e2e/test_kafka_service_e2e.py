"""The continuous Kafka consumer (``jobs/ingest_kafka.py --continuous``) against a real broker.

The first test is the issue's whole story in real processes: several batches, a broker outage longer than
the window (the consumer restarts instead of dying, ``/healthz`` turns unhealthy, then healthy again), a
SIGTERM in the middle of a batch (right after its valid write: the batch finishes, exit 0), a restart, and
a SIGTERM while idle; every message is then in the lake exactly once. The second runs the loop in this
process to stop it at the point a signal cannot finish: a batch planned, then waiting for a dead broker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from test_kafka_ingest import assert_exactly_once, job_argv, malformed_at, summaries, table

from feedguard.contracts.registry import load_versions, select_version
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.health import ServiceHealth
from feedguard.kafka.job import KafkaJobSetup
from feedguard.kafka.outage import OutagePolicy
from feedguard.kafka.service import ServiceLoop, ServiceSettings, run_batches
from feedguard.lake.layout import Lake
from feedguard.runtime.reporting import Reporters
from feedguard_dev.foodnow_producer import produce_events
from feedguard_dev.kafka_broker import KafkaBroker

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NewTopic = Callable[..., str]
GROUP = "feedguard-foodnow-order_events"
WAIT = 240.0  # seconds any one expected change may take on a busy 2-core machine

# The service with a test hook: SIGTERM to itself right after the valid write of the first batch that
# starts once the trigger file exists (the hook is injected, as in tests/support/crash_kafka_job.py).
SERVICE = """
import os, signal, sys
from pathlib import Path
from jobs.ingest_kafka import main

trigger = Path(sys.argv[1])

def hook(stage):
    if stage == "valid_write" and trigger.exists():
        trigger.unlink()
        print("test: SIGTERM after the valid write", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

sys.exit(main(["ingest_kafka.py", *sys.argv[2:]], after_write=hook))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def health_of(port: int) -> dict[str, Any] | None:
    """The service's /healthz (whatever its HTTP status), or None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    except OSError:
        return None
    data: dict[str, Any] = json.loads(body)
    return data


class Watcher:
    """Polls /healthz in the background and keeps every (status, state) it saw, in order."""

    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port, self.proc = port, proc
        self.seen: list[tuple[str, str]] = []
        self.last: dict[str, Any] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.wait(0.2):
            snap = health_of(self.port)
            if snap is not None:
                self.last = snap
                if not self.seen or self.seen[-1] != (snap["status"], snap["state"]):
                    self.seen.append((snap["status"], snap["state"]))

    def until(self, what: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.last and check(self.last):
                return self.last
            assert self.proc.poll() is None, f"the service ended ({self.proc.returncode}) before: {what}"
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for: {what}; last health {self.last}; seen {self.seen}")

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)


@contextmanager
def service(bootstrap: str, topic: str, lake: Path, trigger: Path, log: Path) -> Iterator[Watcher]:
    """Start the service in a subprocess (plain ``python``, as in the container); yield a health watcher."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env |= {
        "FEEDGUARD_SPARK_MASTER": "local[1]",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lib")]),
    }
    argv = job_argv(bootstrap, topic, lake, "--continuous", "--interval", "1", "--health_address",
                    f"127.0.0.1:{port}", "--expected_downtime_minutes", "0.05",
                    "--unhealthy_after_seconds", "10")[1:]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", SERVICE, str(trigger), *argv], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    watcher = Watcher(port, proc)
    try:
        yield watcher
    finally:
        watcher.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def ended(watcher: Watcher, log: Path) -> int:
    """The service's exit code once it ends (within its stop timeout and then some)."""
    try:
        return watcher.proc.wait(150)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the service did not stop:\n{log.read_text()[-3000:]}") from None


def test_the_service_rides_out_an_outage_stops_gracefully_on_sigterm_and_restarts_exactly_once(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic, lake, log, trigger = new_topic(partitions=2), tmp_path / "lake", tmp_path / "log", tmp_path / "t"
    sent = [produce_events(kafka.bootstrap, topic, 30, seed=61)]
    with service(kafka.bootstrap, topic, lake, trigger, log) as first:
        first.until("the first batch", lambda h: h["batches"] >= 1 and h["consumer_lag"] == 0)
        sent.append(produce_events(kafka.bootstrap, topic, 20, seed=62))
        first.until("the second batch", lambda h: h["batches"] >= 2 and h["consumer_lag"] == 0)
        kafka.kill()
        try:
            down = first.until("unhealthy, restarting the consumer", lambda h: (h["status"], h["state"]) == (
                "unhealthy", "restarting_consumer"))  # fmt: skip
        finally:
            kafka.start()
        assert down["broker_reachable"] is False and down["restarts"] >= 1
        first.until("healthy again", lambda h: h["status"] == "healthy" and h["broker_reachable"])
        trigger.touch()
        sent.append(produce_events(kafka.bootstrap, topic, 20, seed=63))
        assert ended(first, log) == 0, log.read_text()[-3000:]
    assert not trigger.exists(), "the SIGTERM hook never ran"
    seen_first = first.seen
    sent.append(produce_events(kafka.bootstrap, topic, 10, seed=64))  # while no consumer runs
    with service(kafka.bootstrap, topic, lake, trigger, log) as second:
        second.until("the restart catches up", lambda h: h["batches"] >= 1 and h["consumer_lag"] == 0)
        second.proc.send_signal(signal.SIGTERM)
        assert ended(second, log) == 0, log.read_text()[-3000:]

    text = log.read_text()
    assert text.count("SIGTERM: no new batch; finishing the current one") == 2
    assert ("unhealthy", "restarting_consumer") in seen_first and ("healthy", "idle") in seen_first
    assert seen_first.index(("unhealthy", "restarting_consumer")) < len(seen_first) - 1  # then healthy again
    assert ("healthy", "stopping") in seen_first + second.seen
    assert_exactly_once(spark, lake, kafka.bootstrap, topic, malformed_at(*sent))
    runs = summaries(lake)
    loaded = [s for s in runs if s["batch_seq"] is not None]
    assert sum(s["records_read"] for s in loaded) == 80 and all(not s["batch_resumed"] for s in loaded)
    assert [s["batch_seq"] for s in loaded] == list(range(1, len(loaded) + 1))
    failed = [s for s in runs if s["status"] == "broker_unavailable"]
    assert failed and all(s["exit_code"] == 75 for s in failed)
    sla = [r for r in table(spark, lake, "_kafka_sla") if r["kind"] == "broker_unreachable"]
    assert {r["detected_by_run_id"] for r in sla} >= {s["run_id"] for s in failed}
    gave_up = [r for r in sla if r["detected_by_run_id"] in {s["run_id"] for s in failed}]
    assert all(r["duration_seconds"] >= 3 for r in gave_up)  # each waited out the 3 s window


def test_a_stop_while_a_planned_batch_waits_for_the_broker_abandons_it_and_the_next_run_loads_it_once(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=2)
    sent = produce_events(kafka.bootstrap, topic, 30, seed=65)
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    setup = KafkaJobSetup(contract, KafkaFeed(kafka.bootstrap, topic, GROUP, timeout_ms=3000),
                          OutagePolicy(expected_downtime=timedelta(minutes=10)), Lake(str(tmp_path)),
                          Reporters(), 600.0, 0.0)  # fmt: skip
    settings = ServiceSettings(interval_seconds=0.5, health_address=None)

    def loop(stop: threading.Event, hook: Callable[[str], None] | None = None) -> tuple[ServiceLoop, Any]:
        health = ServiceHealth(unhealthy_after=600)
        service_loop = ServiceLoop(spark, setup, "test-service", settings, stop, health, None, hook)
        return service_loop, pool.submit(run_batches, service_loop)

    stop = threading.Event()

    def signal_after_planning(stage: str) -> None:
        if stage == "planned":
            kafka.kill()
            stop.set()  # what the SIGTERM handler does

    with ThreadPoolExecutor(1, thread_name_prefix="service") as pool:
        try:
            _, abandoned = loop(stop, signal_after_planning)
            assert abandoned.result(timeout=WAIT) == 0
        finally:
            kafka.start()  # from this thread: the broker dies with the thread that started it
        assert sorted((r["batch_seq"], r["status"]) for r in table(spark, tmp_path, "_kafka_offsets")) == [
            (1, "planned"), (1, "planned"),
        ]  # fmt: skip
        assert not (tmp_path / "foodnow").exists() and summaries(tmp_path) == []
        (outage,) = table(spark, tmp_path, "_kafka_sla")
        assert (outage["kind"], outage["failed_call"]) == (
            "broker_unreachable",
            "read batch 1 from the broker",
        )

        again = threading.Event()
        restarted, running = loop(again)
        deadline = time.monotonic() + WAIT
        while restarted.health.snapshot()["batches"] < 1 and time.monotonic() < deadline:
            assert not running.done(), running.result()
            time.sleep(0.2)
        again.set()
        assert running.result(timeout=WAIT) == 0

    (rerun,) = summaries(tmp_path)
    assert (rerun["batch_seq"], rerun["batch_resumed"], rerun["records_read"]) == (1, True, 30)
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))
