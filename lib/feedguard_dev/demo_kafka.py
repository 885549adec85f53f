"""The FoodNow part of ``make run``: a local broker, events, two outages, the consumer recovering.

Three runs of ``jobs/ingest_kafka.py`` (through its ``main(argv)``, in this process, so they share the
demo's SparkSession) against a real broker (:class:`~feedguard_dev.kafka_broker.KafkaBroker`):

1. events produced, the broker stopped; the job backs off, the broker comes back after
   ``outage_seconds`` (inside the expected-downtime window), the job reads the events (exit 0, an outage
   row in ``_kafka_sla``);
2. more events, the broker stopped for longer than the window (``--expected_downtime_minutes``
   shortened to ``short_window_seconds``): the job alerts and exits 75, committing nothing;
3. the broker back: the next run resumes from the committed offsets and reads the backlog (exit 0).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from feedguard_dev.foodnow_producer import produce_events
from feedguard_dev.kafka_broker import KafkaBroker

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "foodnow.order-events"
PARTITIONS = 2
OUTAGE_NOTICE_TIMEOUT = 300.0  # seconds to wait for the job to meet the stopped broker


@dataclass(frozen=True)
class KafkaPlan:
    """How much to produce and how long each outage lasts (seconds; shortened from the real 30 minutes)."""

    batches: tuple[int, int] = (240, 120)
    outage_seconds: float = 6.0
    window_seconds: float = 60.0
    short_window_seconds: float = 4.0
    seed: int = 7


@dataclass
class KafkaOutcome:
    """Exit codes of the three runs and the messages produced (valid, malformed)."""

    exit_codes: list[int] = field(default_factory=list)
    valid: int = 0
    malformed: int = 0


def load_job(name: str) -> Callable[[Sequence[str]], int]:
    """``jobs/<name>.py``'s ``main`` (the jobs folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"feedguard_demo_{name}", ROOT / "jobs" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main: Callable[[Sequence[str]], int] = module.main
    return main


def kafka_argv(bootstrap: str, lake: str, window_seconds: float, extra: Sequence[str]) -> list[str]:
    return [
        "ingest_kafka.py",
        "--JOB_NAME",
        "feedguard-ingest-foodnow",
        "--source",
        "foodnow",
        "--dataset",
        "order_events",
        "--bootstrap_servers",
        bootstrap,
        "--topic",
        TOPIC,
        "--lake_path",
        lake,
        "--expected_downtime_minutes",
        f"{window_seconds / 60:.4f}",
        *extra,
    ]


class OutageSeen(logging.Handler):
    """Set when the Kafka job logs its first failed broker call (the outage has begun for it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "unreachable" in record.getMessage():
            self.seen.set()


def run_during_outage(
    job: Callable[[Sequence[str]], int], broker: KafkaBroker, argv: list[str], down_for: float | None
) -> int:
    """Stop the broker, run the job in a worker thread, start the broker ``down_for`` seconds after the job
    first found it unreachable (``None``: only once the job has given up).

    The broker is restarted from this thread: it dies with the thread that started it.
    """
    watch = OutageSeen()
    logging.getLogger("feedguard").addHandler(watch)
    broker.stop()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="foodnow-job") as pool:
            running = pool.submit(job, argv)
            if down_for is not None:
                watch.seen.wait(timeout=OUTAGE_NOTICE_TIMEOUT)
                time.sleep(down_for)
                broker.start()
            code = running.result(timeout=600)
    finally:
        logging.getLogger("feedguard").removeHandler(watch)
        broker.start()
    return code


def _produce(broker: KafkaBroker, count: int, seed: int, outcome: KafkaOutcome) -> None:
    sent = produce_events(broker.bootstrap, TOPIC, count, seed=seed)
    outcome.valid += sent.valid
    outcome.malformed += sent.malformed


def run_foodnow(broker: KafkaBroker, lake: str, extra: Sequence[str], plan: KafkaPlan) -> KafkaOutcome:
    """The three runs above; the broker is left running (for the health site's Kafka panel)."""
    job = load_job("ingest_kafka")
    outcome = KafkaOutcome()
    broker.start()
    broker.create_topic(TOPIC, PARTITIONS)
    first, second = plan.batches
    _produce(broker, first, plan.seed, outcome)
    print(
        f"foodnow: {first} events on {TOPIC}; broker down for {plan.outage_seconds:g} s, inside the "
        f"{plan.window_seconds:g} s window: the run backs off, then reads them",
        flush=True,
    )
    argv = kafka_argv(broker.bootstrap, lake, plan.window_seconds, extra)
    outcome.exit_codes.append(run_during_outage(job, broker, argv, plan.outage_seconds))
    _produce(broker, second, plan.seed + 1, outcome)
    print(
        f"foodnow: {second} more events; broker down past a {plan.short_window_seconds:g} s window: the run "
        "gives up (exit 75)",
        flush=True,
    )
    argv = kafka_argv(broker.bootstrap, lake, plan.short_window_seconds, extra)
    outcome.exit_codes.append(run_during_outage(job, broker, argv, None))
    print("foodnow: broker back; the next run resumes from the committed offsets", flush=True)
    outcome.exit_codes.append(job(kafka_argv(broker.bootstrap, lake, plan.window_seconds, extra)))
    return outcome
