"""Benchmark (issue 19, item 3): the fixed cost of one Kafka batch in a running session (the service).

    .venv/bin/python bench/kafka_batch_cost.py --batches 5            # or: make bench-kafka-batch

The consumer service (``jobs/ingest_kafka.py --continuous``) keeps one Spark session for its life and runs
every batch as a run of its own. This starts a local broker, a 2-partition topic, and one session
(``local[2]``), then into one lake: a first batch of ``--first`` messages (JVM warm-up, tables created),
then ``--batches`` times: one message produced, one batch run (``jobs.ingest_kafka.main``, the run the
service makes per batch: plan, read, parse and check, Delta writes, conservation, offsets, consumer-group
commit, SLA ledger, run log, metrics). Reports each batch's seconds, the median of the one-message batches
(the per-batch fixed cost; target 3 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.kafka_bench import broker_at

from feedguard.runtime.session import build_session
from feedguard_dev.foodnow_producer import produce_events
from feedguard_dev.kafka_broker import create_topic
from jobs.ingest_kafka import main as ingest_kafka


def one_batch(bootstrap: str, topic: str, lake: Path) -> tuple[float, dict[str, Any]]:
    """One run of the Kafka job in this session; its seconds and summary."""
    before = set((lake / "_runs").glob("*.json")) if (lake / "_runs").exists() else set()
    argv = ["ingest_kafka.py", "--JOB_NAME", "bench-kafka-batch", "--source", "foodnow",
            "--dataset", "order_events", "--bootstrap_servers", bootstrap, "--topic", topic,
            "--lake_path", str(lake)]  # fmt: skip
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        code = ingest_kafka(argv)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"the batch failed with exit code {code}")
    (new,) = set((lake / "_runs").glob("*.json")) - before
    summary: dict[str, Any] = json.loads(new.read_text(encoding="utf-8"))
    return seconds, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--first", type=int, default=1000, help="messages of the first (warm-up) batch")
    parser.add_argument("--batches", type=int, default=5, help="one-message batches after it")
    parser.add_argument("--workdir", default="bench/out/kafka_batch")
    parser.add_argument("--driver-memory", default="1g", help="the service's measured heap (operations §3.8)")
    args = parser.parse_args(argv)
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    spark = build_session(
        "feedguard-kafka-batch-bench",
        master="local[2]",
        kafka=True,
        conf={"spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false"},
    )
    spark.sparkContext.setLogLevel("ERROR")
    topic = f"bench-batch-{time.strftime('%Y%m%d%H%M%S')}"
    with tempfile.TemporaryDirectory(dir=work) as scratch, broker_at(None, Path(scratch) / "kafka") as bs:
        create_topic(bs, topic, 2)
        lake = Path(scratch) / "lake"
        produce_events(bs, topic, args.first, seed=1)
        first_seconds, first = one_batch(bs, topic, lake)
        batches = []
        for index in range(args.batches):
            produce_events(bs, topic, 1, seed=100 + index, malformed={})
            seconds, summary = one_batch(bs, topic, lake)
            assert summary["records_read"] == 1, summary["records_read"]
            batches.append(round(seconds, 2))
    report = {
        "first_batch": {"messages": args.first, "seconds": round(first_seconds, 2),
                        "records_read": first["records_read"], "records_valid": first["records_valid"],
                        "records_dead_lettered": first["records_dead_lettered"]},
        "one_message_batches": batches,
        "median_one_message_batch_seconds": round(statistics.median(batches), 2),
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
