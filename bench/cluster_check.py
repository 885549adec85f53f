"""Check (issue 19, item 5): the file job runs unchanged on a multi-process Spark cluster, same output.

    .venv/bin/python bench/cluster_check.py --workdir /tmp/cluster-check     # or: make bench-cluster

Writes the sample feeds (``feedguard_dev.samples.write_samples``: QuickBite JSON Lines, gzip and a JSON
array, MealDash CSV with corrupted rows, a CRLF/BOM file and one with an added column), then runs
``jobs/ingest_files.py`` unchanged, as its own process, for each feed, twice: once with the master
``local[2]`` into ``lake_local``, once with ``local-cluster[2,1,1024]`` (a standalone master and two worker
processes with one core and 1 GB each, started by Spark; executors are separate JVMs with their own Python
workers and their own working directory) into ``lake_cluster``. The master is chosen the way a deployment
chooses it: ``FEEDGUARD_SPARK_MASTER`` (``feedguard.runtime.session.build_session``). The jobs run in
``--workdir`` with *relative* input and lake paths, so anything an executor resolves against its own
working directory (instead of a path the driver qualified) shows up as a difference.

Then it compares, in one local session: the valid tables and the dead-letter table (whole rows, minus the
ingestion timestamps), the ledger, the error-zone lines, the quarantined files (bytes), the exit codes
and the run summaries (every key except times, durations and stage seconds). Prints a JSON report and
exits 1 on any difference. Both runs use the same run ids, so run ids are compared too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from feedguard.runtime.session import build_session  # noqa: E402
from feedguard_dev.samples import write_samples  # noqa: E402

MASTERS = {"local": "local[2]", "cluster": "local-cluster[2,1,1024]"}
FEEDS = (("quickbite", "orders"), ("mealdash", "orders"))
TIME_COLUMNS = ("_ingested_at", "ingested_at", "resolved_at", "processed_at", "first_seen_at", "loaded_at")
TABLES = ("quickbite/orders", "mealdash/orders", "_dead_letter", "_ledger")
VOLATILE_KEYS = ("started_at", "ended_at", "duration_seconds", "stage_seconds", "session_seconds")


def run_job(work: Path, tag: str, source: str, dataset: str) -> dict[str, Any]:
    """``jobs/ingest_files.py`` as its own process, in ``work``, with the master of ``tag``."""
    env = {**os.environ, "FEEDGUARD_SPARK_MASTER": MASTERS[tag], "PYSPARK_PYTHON": sys.executable}
    if tag == "cluster":  # executors are launched with SPARK_HOME/bin/spark-class: the installed pyspark
        import pyspark

        env.setdefault("SPARK_HOME", str(Path(pyspark.__file__).parent))
    argv = [sys.executable, str(ROOT / "jobs" / "ingest_files.py"), "--JOB_NAME", f"check-{source}",
            "--source", source, "--dataset", dataset, "--input_path", f"samples/{source}",
            "--lake_path", f"lake_{tag}", "--run_id", f"cluster-check-{source}",
            "--contracts_dir", str(ROOT / "contracts"),
            "--expectations_dir", str(ROOT / "expectations")]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    (work / f"{tag}_{source}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    return {"exit_code": done.returncode, "seconds": round(time.perf_counter() - started, 1)}


def _rows(df: DataFrame) -> DataFrame:
    return df.drop(*[c for c in df.columns if c in TIME_COLUMNS])


def compare_table(spark: SparkSession, work: Path, table: str) -> dict[str, Any]:
    """Row counts and rows present on one side only (whole rows, times dropped)."""
    a, b = (_rows(spark.read.format("delta").load(str(work / f"lake_{t}" / table))) for t in MASTERS)
    only_local, only_cluster = a.exceptAll(b), b.exceptAll(a)
    out = {"rows_local": a.count(), "rows_cluster": b.count()}
    out["only_local"], out["only_cluster"] = only_local.count(), only_cluster.count()
    if out["only_local"] or out["only_cluster"]:
        out["example"] = [r.asDict() for r in only_local.limit(2).collect() + only_cluster.limit(2).collect()]
    return out


def _lines(folder: Path) -> list[str]:
    return sorted(line for f in folder.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))
                  for line in f.read_text(encoding="utf-8", errors="replace").splitlines())  # fmt: skip


def _hashes(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}  # fmt: skip


def _summary(work: Path, tag: str, run_id: str) -> dict[str, Any]:
    text = (work / f"lake_{tag}" / "_runs" / f"{run_id}.json").read_text(encoding="utf-8")
    text = text.replace(str(work / f"lake_{tag}"), "<lake>").replace(f"lake_{tag}", "<lake>")
    data: dict[str, Any] = json.loads(text)
    return {k: v for k, v in data.items() if k not in VOLATILE_KEYS}


def compare_files(work: Path) -> dict[str, Any]:
    """Error-zone lines, quarantined bytes and the run summaries of both lakes."""
    out: dict[str, Any] = {}
    for folder, read in (("_error_zone", _lines), ("_quarantine", _hashes)):
        local, cluster = (read(work / f"lake_{t}" / folder) for t in MASTERS)
        out[folder] = {"items_local": len(local), "equal": local == cluster}
    for source, _ in FEEDS:
        local, cluster = (_summary(work, t, f"cluster-check-{source}") for t in MASTERS)
        differing = sorted(k for k in local.keys() | cluster.keys() if local.get(k) != cluster.get(k))
        counts = {
            k: local.get(k) for k in ("records_read", "records_valid", "records_dead_lettered", "status")
        }
        out[f"summary_{source}"] = {**counts, "differing_keys": differing}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", default="/tmp/feedguard-cluster-check")
    args = parser.parse_args(argv)
    work = Path(args.workdir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    expected = write_samples(work / "samples")
    report: dict[str, Any] = {"masters": MASTERS, "runs": {}}
    for tag in MASTERS:
        for source, dataset in FEEDS:
            report["runs"][f"{tag}/{source}"] = run_job(work, tag, source, dataset)
    spark = build_session("cluster-check", master="local[2]", conf={"spark.ui.enabled": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    report["tables"] = {t: compare_table(spark, work, t) for t in TABLES}
    spark.stop()
    report["files"] = compare_files(work)
    report["expected_samples"] = expected
    same_exit = all(report["runs"][f"local/{s}"]["exit_code"] == report["runs"][f"cluster/{s}"]["exit_code"]
                    for s, _ in FEEDS)  # fmt: skip
    same_tables = all(not t["only_local"] and not t["only_cluster"] for t in report["tables"].values())
    files = report["files"]
    same_files = all(files[f]["equal"] for f in ("_error_zone", "_quarantine")) and not any(
        files[f"summary_{s}"]["differing_keys"] for s, _ in FEEDS
    )
    report["identical"] = same_exit and same_tables and same_files
    print(json.dumps(report, indent=2, default=str))
    return 0 if report["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
