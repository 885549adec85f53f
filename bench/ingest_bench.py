"""Benchmark: the full file-ingest job versus a bare Spark parse-and-write, in one run.

    .venv/bin/python bench/ingest_bench.py --records 1000000   # or: make bench

Generates a QuickBite JSON Lines file with 1% corrupt lines, then times, in the same SparkSession
(``spark.driver.memory=4g``, the same settings for both):

(a) bare: ``spark.read.schema(s).json(path).write.parquet(...)``
(b) full: the ingest flow (parse with lineage, checks, the GX quality gate, dead letters, Delta
    writes, run log); ``--no-validate`` leaves the gate out

Both are first run twice untimed on a 100,000-record slice of the same file (JIT, code generation,
page cache: the first run of any Spark code path in a JVM is up to twice as slow, which would
otherwise land on one side only). Then each is run ``--repeat`` times alternately; the report gives
the medians and the ratio b/a, and the peak resident set size of the driver JVM (sampled with
psutil) during each.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.measure import timed

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import spark_schema
from feedguard.ingest.flow import run_file_ingest
from feedguard.ingest.routing import RunContext
from feedguard.lake.layout import Lake
from feedguard.lake.lifecycle import close_run
from feedguard.lake.runlog import iso, utc_now
from feedguard.quality import load_suite, suite_path
from feedguard.runtime.session import build_session
from feedguard_dev.samples import quickbite_lines


def generate(path: Path, records: int, corrupt_every: int = 100) -> None:
    """Write ``records`` QuickBite lines, 1 in ``corrupt_every`` carrying a seeded fault."""
    import datetime as dt

    rng = random.Random(42)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 50_000
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, records, chunk):
            feed = quickbite_lines(
                rng, min(chunk, records - start), start + 1, dt.date(2026, 11, 28), corrupt_every
            )
            handle.write("\n".join(feed.lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", default="bench/out")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--no-validate", dest="validate", action="store_false", help="skip the quality gate (GX suite)"
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="an extra Spark setting (both paths)"
    )
    args = parser.parse_args(argv)
    extra_conf = dict(item.split("=", 1) for item in args.conf)

    work = Path(args.workdir).resolve()
    data = work / "input" / f"quickbite_{args.records}.jsonl"
    if not data.exists():
        print(f"generating {args.records} records into {data} ...", file=sys.stderr)
        generate(data, args.records)
    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    spark = build_session(
        "feedguard-bench",
        master="local[2]",
        conf={"spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false", **extra_conf},
    )
    spark.sparkContext.setLogLevel("ERROR")
    schema = spark_schema(contract)
    suite = load_suite(suite_path("expectations", contract))

    warm_up = work / "input" / "warm_up.jsonl"
    with data.open("rb") as source, warm_up.open("wb") as target:
        target.writelines(line for _, line in zip(range(100_000), source, strict=False))

    def bare(path: Path = data) -> None:
        out = work / "bare.parquet"
        shutil.rmtree(out, ignore_errors=True)
        spark.read.schema(schema).option("mode", "PERMISSIVE").json(str(path)).write.parquet(str(out))

    summaries: list[dict[str, Any]] = []

    def full(path: Path = data) -> None:
        lake = work / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        ctx = RunContext(
            contract.source, contract.dataset, contract.version, f"bench-{len(summaries)}", iso(utc_now())
        )
        summary = run_file_ingest(
            spark,
            contract,
            Lake(str(lake)),
            str(path),
            ctx,
            job_name="bench",
            suite=suite if args.validate else None,
            gx_root=str(work / "gx"),
        )
        close_run(spark, Lake(str(lake)), summary)
        summaries.append(summary)

    results: dict[str, list[tuple[float, int]]] = {"bare": [], "full": []}
    for _ in range(2):  # warm-up of both paths on the slice (not timed)
        bare(warm_up)
        full(warm_up)
    for _ in range(args.repeat):
        results["bare"].append(timed(bare))
        results["full"].append(timed(full))
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    report = {
        "records": args.records,
        "input_bytes": data.stat().st_size,
        "driver_memory": args.driver_memory,
        "repeat": args.repeat,
        "bare_seconds": [round(t, 2) for t, _ in results["bare"]],
        "full_seconds": [round(t, 2) for t, _ in results["full"]],
        "bare_median_s": round(med["bare"], 2),
        "full_median_s": round(med["full"], 2),
        "ratio_full_over_bare": round(med["full"] / med["bare"], 3),
        "peak_rss_mb_bare": round(max(r for _, r in results["bare"]) / 2**20),
        "peak_rss_mb_full": round(max(r for _, r in results["full"]) / 2**20),
        "validated": args.validate,
        "stage_seconds_last_full": summaries[-1].get("stage_seconds"),
        "last_run": {
            k: summaries[-1].get(k)
            for k in ("records_read", "records_valid", "records_dead_lettered", "status", "dq_success")
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
