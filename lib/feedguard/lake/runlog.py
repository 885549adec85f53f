"""The run log: one row per run in ``<lake>/_runs`` (Delta) and ``<lake>/_runs/<run_id>.json``.

Also the in-flight markers that let the next run undo a run that died half-way.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import TypedDict

from pyspark.sql import SparkSession

from feedguard.ingest.routing import RunContext
from feedguard.lake.storage import join, list_names, remove_path, write_text
from feedguard.records import Int32, as_row, spark_schema
from feedguard.summary import RunSummary, summary_to_json


@dataclass(frozen=True)
class RunLogRow:
    """One row of ``<lake>/_runs``: a finished run's counts, with its whole summary as JSON."""

    run_id: str
    job_name: str | None
    source: str
    dataset: str
    contract_version: Int32 | None
    status: str
    exit_code: Int32
    records_read: int
    records_valid: int
    records_dead_lettered: int
    files: Int32
    started_at: dt.datetime
    ended_at: dt.datetime
    duration_seconds: float
    message: str | None
    summary_json: str

    @classmethod
    def of(cls, summary: RunSummary) -> RunLogRow:
        started = dt.datetime.fromisoformat(summary["started_at"].replace("Z", "+00:00"))
        ended = dt.datetime.fromisoformat(summary["ended_at"].replace("Z", "+00:00"))
        return cls(
            run_id=summary["run_id"],
            job_name=summary.get("job_name"),
            source=summary["source"],
            dataset=summary["dataset"],
            contract_version=summary.get("contract_version"),
            status=summary["status"],
            exit_code=int(summary["exit_code"]),
            records_read=int(summary["records_read"]),
            records_valid=int(summary["records_valid"]),
            records_dead_lettered=int(summary["records_dead_lettered"]),
            files=len(summary.get("files", [])),
            started_at=started.replace(tzinfo=None),
            ended_at=ended.replace(tzinfo=None),
            duration_seconds=float(summary["duration_seconds"]),
            message=summary.get("message"),
            summary_json=summary_to_json(summary, indent=None),
        )


RUN_SCHEMA = spark_schema(RunLogRow)


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261129T131500Z-1a2b3c``: sortable by time, unique."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class RunHeader(TypedDict):
    """The keys every run summary starts with (a part of :class:`feedguard.summary.RunSummaryCore`)."""

    run_id: str
    job_name: str | None
    source: str
    dataset: str
    contract_version: int
    status: str
    exit_code: int


def run_header(ctx: RunContext, job_name: str | None, status: str, exit_code: int) -> RunHeader:
    """The keys every run summary starts with (file ingest, Kafka, replay)."""
    return {
        "run_id": ctx.run_id,
        "job_name": job_name,
        "source": ctx.source,
        "dataset": ctx.dataset,
        "contract_version": ctx.contract_version,
        "status": status,
        "exit_code": exit_code,
    }


def write_run(spark: SparkSession, runs_path: str, summary: RunSummary) -> None:
    """Append the run row and write the summary JSON beside it."""
    row = as_row(RunLogRow.of(summary))
    spark.createDataFrame([row], RUN_SCHEMA).write.format("delta").mode("append").save(runs_path)
    write_text(join(runs_path, f"{summary['run_id']}.json"), summary_to_json(summary))


def mark_inflight(folder: str, run_id: str) -> None:
    write_text(join(folder, f"{run_id}.json"), json.dumps({"run_id": run_id, "started_at": iso(utc_now())}))


def clear_inflight(folder: str, run_id: str) -> None:
    remove_path(join(folder, f"{run_id}.json"))


def inflight_runs(folder: str) -> list[str]:
    """Run ids that started but never finished (a marker file each, local or on S3)."""
    return sorted(name.removesuffix(".json") for name in list_names(folder) if name.endswith(".json"))
