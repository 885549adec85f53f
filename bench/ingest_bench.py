"""Benchmark: the full file-ingest job versus a bare parse-and-write and the naive peer, in one run.

    .venv/bin/python bench/ingest_bench.py --records 1000000                 # or: make bench
    .venv/bin/python bench/ingest_bench.py --records 100000,1000000 --paths bare,full --repeat 1  # scale

Generates QuickBite JSON Lines files with 1% corrupt lines (one per size), then times, in the same
SparkSession (``local[2]``, ``spark.driver.memory=4g``, the same settings for every path):

(a) bare: ``spark.read.schema(s).json(path).write.parquet(...)``
(b) peer: the naive pipeline of issue 19 (:mod:`bench.peer`): PERMISSIVE read with ``_corrupt_record`` and
    the file name, persist, count, good rows to Delta by ingest date, corrupt rows to Delta, GX's own
    Checkpoint with the committed suite on the loaded rows
(c) full: the ingest flow (parse with lineage, checks, the GX quality gate, dead letters, Delta
    writes, run log); ``--no-validate`` leaves the gate out

Every path is first run twice untimed on a 100,000-record slice (JIT, code generation, page cache: the
first run of any Spark code path in a JVM is up to twice as slow). Then, per size, the paths run
``--repeat`` times in turn; the report (JSON on stdout, and ``--json-out``) gives every run's seconds, the
1-minute load average before and after it, the driver JVM's peak RSS, heap, GC time and spill
(:class:`bench.measure.DriverJvm`), the medians, the per-record cost, and the ratios full/peer and full/bare.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import DriverJvm, measured
from bench.peer import run_peer

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

PATHS = ("bare", "peer", "full")
WARM_UP_RECORDS = 100_000


def generate(path: Path, records: int, corrupt_every: int = 100) -> None:
    """Write ``records`` QuickBite lines, 1 in ``corrupt_every`` carrying a seeded fault."""
    import datetime as dt

    rng = random.Random(42)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 50_000
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for start in range(0, records, chunk):
            feed = quickbite_lines(
                rng, min(chunk, records - start), start + 1, dt.date(2026, 11, 28), corrupt_every
            )
            handle.write("\n".join(feed.lines) + "\n")
    partial.rename(path)


def input_file(work: Path, records: int) -> Path:
    data = work / "input" / f"quickbite_{records}.jsonl"
    if not data.exists():
        print(f"generating {records} records into {data} ...", file=sys.stderr)
        generate(data, records)
    return data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", default="1000000", help="one size or a comma list (scale curve)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paths", default=",".join(PATHS), help=f"a comma list of {', '.join(PATHS)}")
    parser.add_argument("--workdir", default="bench/out")
    parser.add_argument("--json-out", default=None, help="also write the report to this file")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--no-validate", dest="validate", action="store_false", help="skip the quality gate (GX suite)"
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="an extra Spark setting (all paths)"
    )
    return parser.parse_args(argv)


class Paths:
    """The three pipelines over one session, each writing to its own folder under ``work``."""

    def __init__(self, spark: Any, work: Path, validate: bool) -> None:
        self.spark, self.work, self.validate = spark, work, validate
        self.contract = load_contract("contracts/quickbite/orders.v1.yaml")
        self.schema = spark_schema(self.contract)
        self.suite_file = suite_path("expectations", self.contract)
        self.suite = load_suite(self.suite_file)
        self.summaries: list[dict[str, Any]] = []
        self.peer_results: list[dict[str, Any]] = []

    def bare(self, path: Path) -> None:
        out = self.work / "bare.parquet"
        shutil.rmtree(out, ignore_errors=True)
        self.spark.read.schema(self.schema).option("mode", "PERMISSIVE").json(str(path)).write.parquet(
            str(out)
        )

    def peer(self, path: Path) -> None:
        out = self.work / "peer" / "lake"
        shutil.rmtree(out, ignore_errors=True)
        suite_json = json.loads(self.suite_file.read_text(encoding="utf-8"))
        result = run_peer(
            self.spark,
            str(path),
            self.schema,
            suite_json,
            out,
            timestamp_format=self.contract.timestamp_format,
        )
        self.peer_results.append(result)

    def full(self, path: Path) -> None:
        lake = self.work / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        c = self.contract
        ctx = RunContext(c.source, c.dataset, c.version, f"bench-{len(self.summaries)}", iso(utc_now()))
        summary = run_file_ingest(
            self.spark, c, Lake(str(lake)), str(path), ctx, job_name="bench",
            suite=self.suite if self.validate else None, gx_root=str(self.work / "gx"),
        )  # fmt: skip
        close_run(self.spark, Lake(str(lake)), summary)
        self.summaries.append(summary)

    def by_name(self, name: str) -> Callable[[Path], None]:
        fn: Callable[[Path], None] = getattr(self, name)
        return fn


def warm_up_slice(source: Path, work: Path) -> Path:
    target = work / "input" / "warm_up.jsonl"
    with source.open("rb") as src, target.open("wb") as out:
        out.writelines(line for _, line in zip(range(WARM_UP_RECORDS), src, strict=False))
    return target


def size_report(
    records: int, data: Path, runs: dict[str, list[dict[str, float]]], paths: Paths
) -> dict[str, Any]:
    """Medians, per-record cost, ratios and the last runs' counts for one input size."""
    med = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
    report: dict[str, Any] = {"records": records, "input_bytes": data.stat().st_size, "runs": runs}
    report["median_s"] = {name: round(s, 2) for name, s in med.items()}
    report["us_per_record"] = {name: round(s / records * 1e6, 2) for name, s in med.items()}
    report["peak"] = {
        name: {
            k: max(r[k] for r in rs) for k in ("jvm_hwm_mb", "heap_peak_mb", "old_gen_peak_mb", "spilled_mb")
        }
        for name, rs in runs.items()
    }
    if "full" in med:
        for other in ("peer", "bare"):
            if other in med:
                report[f"ratio_full_over_{other}"] = round(med["full"] / med[other], 3)
        last = paths.summaries[-1]
        report["stage_seconds_last_full"] = last.get("stage_seconds")
        keys = ("records_read", "records_valid", "records_dead_lettered", "status", "dq_success")
        report["last_full_run"] = {k: last.get(k) for k in keys}
    if "peer" in med:
        report["last_peer_run"] = paths.peer_results[-1]
    return report


def scale(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-record cost of each size over that of the size before it (1.0 = linear)."""
    out = []
    for before, after in itertools.pairwise(reports):
        cost = {
            n: round(after["us_per_record"][n] / before["us_per_record"][n], 3)
            for n in after["us_per_record"]
        }
        out.append({"from": before["records"], "to": after["records"], "per_record_cost_ratio": cost})
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.records.split(",")]
    names = [n for n in args.paths.split(",") if n]
    if not names or set(names) - set(PATHS):
        raise SystemExit(f"--paths: a comma list of {', '.join(PATHS)}")
    work = Path(args.workdir).resolve()
    files = {size: input_file(work, size) for size in sizes}
    conf = {"spark.driver.memory": args.driver_memory, "spark.ui.enabled": "false"}
    conf.update(dict(item.split("=", 1) for item in args.conf))
    spark = build_session("feedguard-bench", master="local[2]", conf=conf)
    spark.sparkContext.setLogLevel("ERROR")
    paths, jvm = Paths(spark, work, args.validate), DriverJvm(spark)
    warm = warm_up_slice(files[sizes[0]], work)
    for _ in range(2):  # warm-up of every path on the slice (not timed)
        for name in names:
            paths.by_name(name)(warm)
    reports = []
    for size in sizes:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        for _ in range(args.repeat):
            for name in names:
                runs[name].append(measured(lambda n=name, f=files[size]: paths.by_name(n)(f), jvm))
        reports.append(size_report(size, files[size], runs, paths))
    report = {
        "scale_vs_previous_size": scale(reports),
        "driver_memory": args.driver_memory, "repeat": args.repeat, "validated": args.validate,
        "conf": conf, "cpus": spark.sparkContext.defaultParallelism, "sizes": reports,
    }  # fmt: skip
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
