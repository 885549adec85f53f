"""Benchmark: the Kafka ingest job versus a bare Spark Kafka read written to Parquet, in one run.

    .venv/bin/python bench/kafka_bench.py --messages 1000000   # or: make bench-kafka

Starts a local KRaft broker (or uses ``--bootstrap``), fills a topic with a backlog of FoodNow order events
(10% malformed, the seeded producer's payloads) through Spark's Kafka sink (batched Java producer), then
times, in the same SparkSession (``local[2]``, ``spark.driver.memory=4g``, the same settings for both):

(a) bare: ``spark.read.format("kafka")`` over the whole backlog, ``CAST(value AS STRING)``, ``write.parquet``
(b) bare_parse: the same read, ``from_json`` with the contract's schema, ``write.parquet`` (what parsing alone
    costs; the issue's ratio is against (a))
(c) job: ``jobs/ingest_kafka.py``'s ``main`` into a fresh lake (offsets plan, contract parse and checks, valid
    and dead-letter Delta writes, conservation, SLA ledger, consumer-group commit, metrics and run log)

Each is run ``--repeat`` times in turn after two warm-ups of each on a 100,000-message topic; the report
(JSON on stdout) gives every time, the medians, the ratios, the peak RSS and the job's counts.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import timed
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import spark_schema
from feedguard.kafka.broker_offsets import fetch_offsets
from feedguard.parse.json_records import json_options
from feedguard.runtime.session import build_session
from feedguard_dev.foodnow_producer import build_messages, malformed_plan
from feedguard_dev.kafka_broker import KafkaBroker, create_topic
from jobs.ingest_kafka import main as ingest_kafka

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def broker_at(bootstrap: str | None, folder: Path) -> Iterator[str]:
    """``bootstrap`` as given, else a fresh local broker in ``folder`` (stopped at the end)."""
    if bootstrap:
        yield bootstrap
        return
    broker = KafkaBroker(folder, jvm_opts=("-Xmx1g", "-Xms256m", "-XX:+UseSerialGC"))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


def fill_topic(spark: SparkSession, bootstrap: str, topic: str, count: int, folder: Path) -> float:
    """Produce ``count`` FoodNow events (10% malformed) with Spark's Kafka sink; return the seconds taken."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = folder / f"{topic}.tsv"
    with lines.open("w", encoding="utf-8") as out:  # key TAB value: JSON text never holds a raw tab
        for msg in build_messages(count, seed=1, malformed=malformed_plan(count, seed=1)):
            out.write(f"{msg.key.decode()}\t{msg.value.decode()}\n")
    start = time.perf_counter()
    parts = F.split("value", "\t", 2)
    (
        spark.read.text(str(lines))
        .select(parts[0].alias("key"), parts[1].alias("value"))
        .write.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", topic)
        .option("kafka.linger.ms", "20")
        .option("kafka.batch.size", str(1 << 20))
        .option("kafka.compression.type", "none")
        .save()
    )
    return time.perf_counter() - start


def bare_read(spark: SparkSession, bootstrap: str, topic: str, out: Path, *, parse: bool = False) -> None:
    """The baseline: the same offsets, the same split into tasks, values as text (or parsed) into Parquet."""
    shutil.rmtree(out, ignore_errors=True)
    values = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .option("minPartitions", str(spark.sparkContext.defaultParallelism))
        .load()
        .selectExpr("CAST(value AS STRING) AS value")
    )
    if parse:
        contract = load_contract(ROOT / "contracts" / "foodnow" / "order_events.v1.yaml")
        parsed = F.from_json("value", spark_schema(contract), json_options(contract))
        values = values.select(parsed.alias("event")).select("event.*")
    values.write.parquet(str(out))


def run_job(bootstrap: str, topic: str, lake: Path) -> dict[str, Any]:
    shutil.rmtree(lake, ignore_errors=True)
    argv = ["ingest_kafka.py", "--JOB_NAME", "bench-kafka", "--source", "foodnow",
            "--dataset", "order_events", "--bootstrap_servers", bootstrap, "--topic", topic,
            "--lake_path", str(lake)]  # fmt: skip
    with contextlib.redirect_stdout(sys.stderr):
        code = ingest_kafka(argv)
    if code != 0:
        raise SystemExit(f"the job failed with exit code {code}")
    (summary_file,) = (lake / "_runs").glob("*.json")
    summary: dict[str, Any] = json.loads(summary_file.read_text())
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bootstrap", default=None, help="an existing broker (default: start one)")
    parser.add_argument("--workdir", default="bench/out/kafka")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args(argv)

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    spark = build_session(
        "feedguard-kafka-bench",
        master="local[2]",
        kafka=True,
        conf={"spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false"},
    )
    spark.sparkContext.setLogLevel("ERROR")
    stamp = time.strftime("%Y%m%d%H%M%S")
    with (
        tempfile.TemporaryDirectory(dir=work) as scratch,
        broker_at(args.bootstrap, Path(scratch) / "kafka") as bs,
    ):
        warm, topic = f"bench-warmup-{stamp}", f"bench-foodnow-{stamp}"
        for name in (warm, topic):
            create_topic(bs, name, args.partitions)
        fill_topic(spark, bs, warm, 100_000, Path(scratch))
        produce_seconds = fill_topic(spark, bs, topic, args.messages, Path(scratch))
        earliest, latest = fetch_offsets(bs, topic)
        assert sum(latest.values()) - sum(earliest.values()) == args.messages
        runs: dict[str, Callable[[str], object]] = {
            "bare": lambda t: bare_read(spark, bs, t, work / "bare.parquet"),
            "bare_parse": lambda t: bare_read(spark, bs, t, work / "bare_parse.parquet", parse=True),
            "job": lambda t: summaries.append(run_job(bs, t, work / "lake")),
        }
        summaries: list[dict[str, Any]] = []
        for _ in range(2):  # warm-up of every path: JIT, codegen, page cache
            for run in runs.values():
                run(warm)
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, run in runs.items():
                results[name].append(timed(functools.partial(run, topic)))
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    last = summaries[-1]
    report = {
        "messages": args.messages,
        "partitions": args.partitions,
        "driver_memory": args.driver_memory,
        "repeat": args.repeat,
        "produce_seconds": round(produce_seconds, 2),
        **{f"{name}_seconds": [round(t, 2) for t, _ in times] for name, times in results.items()},
        **{f"{name}_median_s": round(med[name], 2) for name in results},
        "ratio_job_over_bare": round(med["job"] / med["bare"], 3),
        "ratio_job_over_bare_parse": round(med["job"] / med["bare_parse"], 3),
        **{f"peak_rss_mb_{name}": round(max(r for _, r in times) / 2**20) for name, times in results.items()},
        "job_records": {k: last[k] for k in ("records_read", "records_valid", "records_dead_lettered")},
        "job_dead_letters_by_type": last["dead_letters_by_type"],
    }
    print(json.dumps(report, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
