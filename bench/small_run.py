"""Benchmark (issue 19, item 2): the file job on the small sample as its own process, where the time goes.

    .venv/bin/python bench/small_run.py --runs 2              # or: make bench-small

Writes the sample feeds (``feedguard_dev.samples.write_samples``), then runs ``jobs/ingest_files.py``
unchanged, as its own process, ``--runs`` times on the 350-record QuickBite sample (JSON Lines, gzip and a
JSON array), each run into a fresh lake, with Spark's event log on (``PYSPARK_SUBMIT_ARGS``). Reports
per run: the wall time (process start to exit), the run's own ``stage_seconds`` (from
``<lake>/_runs/<run_id>.json``, session start excluded), and from the event log the Spark jobs (count, the
sum of their durations, the slowest by call site) and the application's time from its start to its first
job.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedguard_dev.samples import write_samples  # noqa: E402


def event_log_args(events: Path) -> str:
    """``spark-submit`` arguments that turn the event log on into ``events`` (emptied first).

    Given through ``PYSPARK_SUBMIT_ARGS``, not a ``SPARK_CONF_DIR``: that folder is the first entry of the
    driver's class path, and a class path other than the one the class archive was written with makes the
    JVM ignore the archive (``feedguard.runtime.session.class_archive_options``).
    """
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    log_dir = events.resolve().as_uri()
    return f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir={log_dir} pyspark-shell"


def run_once(work: Path, index: int) -> dict[str, Any]:
    lake = work / f"lake_{index}"
    shutil.rmtree(lake, ignore_errors=True)
    events = work / f"events_{index}"
    env = {**os.environ, "PYSPARK_SUBMIT_ARGS": event_log_args(events), "PYSPARK_PYTHON": sys.executable}
    run_id = f"small-run-{index}"
    argv = [sys.executable, str(ROOT / "jobs" / "ingest_files.py"), "--JOB_NAME", "small-run",
            "--source", "quickbite", "--dataset", "orders",
            "--input_path", str(work / "samples" / "quickbite"), "--lake_path", str(lake), "--run_id", run_id,
            "--contracts_dir", str(ROOT / "contracts"),
            "--expectations_dir", str(ROOT / "expectations")]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    summary = json.loads((lake / "_runs" / f"{run_id}.json").read_text(encoding="utf-8"))
    stages = summary.get("stage_seconds", {})
    return {
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 2),
        "stage_seconds": stages,
        "stages_total": round(sum(stages.values()), 2),
        "records_read": summary["records_read"],
        "records_valid": summary["records_valid"],
        "records_dead_lettered": summary["records_dead_lettered"],
        "spark": event_log_report(events),
    }


def event_log_report(events: Path, top: int = 12) -> dict[str, Any]:
    """Spark jobs from the event log: how many, their summed duration, the slowest by call site."""
    logs = [p for p in events.iterdir() if p.is_file()]
    if not logs:
        return {}
    app_start, jobs = None, {}
    with logs[0].open(encoding="utf-8") as handle:
        for line in handle:
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerApplicationStart":
                app_start = event["Timestamp"]
            elif kind == "SparkListenerJobStart":
                props = event.get("Properties") or {}
                site = props.get("callSite.short") or props.get("spark.job.description") or "?"
                jobs[event["Job ID"]] = {"site": site, "start": event["Submission Time"]}
            elif kind == "SparkListenerJobEnd" and event["Job ID"] in jobs:
                jobs[event["Job ID"]]["end"] = event["Completion Time"]
    by_site: dict[str, list[float]] = defaultdict(list)
    for job in jobs.values():
        by_site[job["site"]].append((job.get("end", job["start"]) - job["start"]) / 1000)
    first = min((j["start"] for j in jobs.values()), default=None)
    slowest = sorted(by_site.items(), key=lambda kv: -sum(kv[1]))[:top]
    return {
        "jobs": len(jobs),
        "job_seconds": round(sum(sum(v) for v in by_site.values()), 2),
        "app_start_to_first_job_seconds": (
            round((first - app_start) / 1000, 2) if first and app_start else None
        ),
        "slowest_sites": [{"site": s, "jobs": len(v), "seconds": round(sum(v), 2)} for s, v in slowest],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workdir", default="bench/out/small")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    work = Path(args.workdir).resolve()
    if not (work / "samples" / "quickbite").exists():
        write_samples(work / "samples")
    runs = [run_once(work, i) for i in range(args.runs)]
    report = {"runs": runs}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 0 if all(r["exit_code"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
