"""Benchmark the quality gate: GX's own Spark validation vs the single-pass path, same suite, same data.

    .venv/bin/python bench/dq_bench.py --rows 100000            # quick
    .venv/bin/python bench/dq_bench.py                          # 1,000,000 rows (once: 2 cores)

QuickBite-like valid rows (contract columns + lineage) are generated in Spark, persisted and
counted once, like the job's cached valid frame; then the committed QuickBite suite is run by both
engines of :func:`feedguard.quality.validate` (a small warm-up run first, so neither pays for the
JVM's first jobs). Prints one JSON object: seconds and Spark jobs per engine, and their ratio.
``--write-baseline`` also times a Delta append of the same cached rows, for scale.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import spark_schema
from feedguard.quality import load_suite, validate
from feedguard.runtime.session import build_session

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "contracts" / "quickbite" / "orders.v1.yaml"
SUITE = ROOT / "expectations" / "quickbite" / "orders.v1.json"
BENCH_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "4g",
    "spark.sql.adaptive.enabled": "true",
}

ITEMS = """transform(sequence(1, 1 + cast(id % 4 as int)), i -> named_struct(
    'sku', format_string('SKU-%04d', cast((id * 7 + i) % 500 + 1 as int)),
    'qty', cast(1 + (id + i) % 4 as int),
    'price', cast(2 + ((id * 13 + i * 7) % 2300) / 100.0 as decimal(10,2))))"""
SUBTOTAL = (
    "aggregate(items, cast(0 as decimal(20,2)), (acc, x) -> cast(acc + x.qty * x.price as decimal(20,2)))"
)


STATUSES = ("placed", "accepted", "preparing", "delivered", "cancelled")
CITIES = ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig")


def _pick(values: tuple[str, ...]) -> Any:
    """The ``id % len``-th of ``values``."""
    return F.element_at(F.array(*[F.lit(v) for v in values]), (F.col("id") % len(values) + 1).cast("int"))


def quickbite_rows(spark: SparkSession, rows: int, partitions: int) -> DataFrame:
    """Valid QuickBite orders with lineage, typed exactly as the job's valid frame."""
    contract = load_contract(CONTRACT)
    typed = {f.name: f.dataType for f in spark_schema(contract, corrupt_column=False).fields}
    base = spark.range(0, rows, 1, partitions).select(
        "id",
        F.format_string("QB-%08d", F.col("id")).alias("order_id"),
        F.format_string("C%06d", (F.col("id") % 999_999 + 1).cast("int")).alias("customer_id"),
        F.format_string("customer%d@mail.example", F.col("id")).alias("customer_email"),
        F.format_string("R%04d", (F.col("id") % 300 + 1).cast("int")).alias("restaurant_id"),
        F.expr(ITEMS).alias("items"),
        F.expr("element_at(array(0, 0, 1, 2, 3.5, 5), cast(id % 6 + 1 as int))").alias("tip"),
        _pick(STATUSES).alias("status"),
        _pick(CITIES).alias("city"),
        F.expr("timestamp'2026-11-28 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, id % 86400)").alias(
            "ordered_at"
        ),
    )
    orders = base.withColumn("subtotal", F.expr(SUBTOTAL)).withColumn(
        "total", F.col("subtotal") + F.col("tip").cast("decimal(10,2)")
    )
    return orders.select(
        *[F.col(name).cast(kind).alias(name) for name, kind in typed.items()],
        F.lit("file:/bench/orders_20261128.jsonl").alias("_source_file"),
        (F.col("id") + 1).alias("_source_line"),
        F.lit("bench").alias("_run_id"),
        F.lit("2026-11-29 00:00:00").cast("timestamp").alias("_ingested_at"),
        F.lit(1).alias("_contract_version"),
        F.lit("2026-11-29").cast("date").alias("ingest_date"),
    )


def timed(spark: SparkSession, label: str, fn: Any) -> tuple[float, int, Any]:
    """(seconds, Spark jobs, result) of ``fn()`` run under its own job group."""
    sc = spark.sparkContext
    sc.setJobGroup(label, label)
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    jobs = len(sc.statusTracker().getJobIdsForGroup(label))
    sc.setJobGroup("idle", "idle")
    return round(seconds, 3), jobs, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--write-baseline", action="store_true", help="also time a Delta append of the rows")
    args = parser.parse_args(argv)

    spark = build_session("feedguard-dq-bench", master="local[2]", conf=BENCH_CONF)
    spark.sparkContext.setLogLevel("ERROR")
    suite = load_suite(SUITE)
    df = quickbite_rows(spark, args.rows, args.partitions).persist()
    cache_s, _, _ = timed(spark, "cache", df.count)
    report: dict[str, Any] = {
        "rows": args.rows,
        "expectations": len(suite["expectations"]),
        "suite": suite["name"],
        "machine": {"cpus": spark.sparkContext.defaultParallelism, "python": platform.python_version()},
        "cache_seconds": cache_s,
    }
    with tempfile.TemporaryDirectory(prefix="dq-bench-") as tmp:
        context_root = f"{tmp}/_gx"
        warm = quickbite_rows(spark, 1000, 1).persist()
        for engine in ("gx", "single_pass"):
            validate(warm, suite, run_id=f"warmup-{engine}", context_root=context_root, engine=engine)
        for engine in ("gx", "single_pass"):
            seconds, jobs, outcome = timed(
                spark,
                engine,
                lambda e=engine: validate(
                    df, suite, run_id=f"bench-{e}", context_root=context_root, engine=e
                ),
            )
            report[engine] = {
                "seconds": seconds,
                "spark_jobs": jobs,
                "dq_success": outcome.success,
                "expectations_evaluated": outcome.expectations_evaluated,
                "expectations_failed": outcome.expectations_failed,
            }
        if args.write_baseline:
            seconds, jobs, _ = timed(
                spark, "write", lambda: df.write.format("delta").mode("append").save(f"{tmp}/orders")
            )
            report["delta_append_of_cached_rows"] = {"seconds": seconds, "spark_jobs": jobs}
    fast = max(report["single_pass"]["seconds"], 1e-9)
    report["gx_over_single_pass"] = round(report["gx"]["seconds"] / fast, 2)
    print(json.dumps(report, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
