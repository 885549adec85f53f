"""The run log: one row per run in ``<lake>/_runs`` (Delta) and ``<lake>/_runs/<run_id>.json``.

Also the in-flight markers that let the next run undo a run that died half-way.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from feedguard.ingest.routing import RunContext
from feedguard.lake.storage import join, list_names, remove_path, write_text

RUN_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("job_name", T.StringType(), True),
        T.StructField("source", T.StringType(), False),
        T.StructField("dataset", T.StringType(), False),
        T.StructField("contract_version", T.IntegerType(), True),
        T.StructField("status", T.StringType(), False),
        T.StructField("exit_code", T.IntegerType(), False),
        T.StructField("records_read", T.LongType(), False),
        T.StructField("records_valid", T.LongType(), False),
        T.StructField("records_dead_lettered", T.LongType(), False),
        T.StructField("files", T.IntegerType(), False),
        T.StructField("started_at", T.TimestampType(), False),
        T.StructField("ended_at", T.TimestampType(), False),
        T.StructField("duration_seconds", T.DoubleType(), False),
        T.StructField("message", T.StringType(), True),
        T.StructField("summary_json", T.StringType(), False),
    ]
)


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261129T131500Z-1a2b3c``: sortable by time, unique."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def run_header(ctx: RunContext, job_name: str | None, status: str, exit_code: int) -> dict[str, Any]:
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


def write_run(spark: SparkSession, runs_path: str, summary: dict[str, Any]) -> None:
    """Append the run row and write the summary JSON beside it."""
    started = dt.datetime.fromisoformat(summary["started_at"].replace("Z", "+00:00"))
    ended = dt.datetime.fromisoformat(summary["ended_at"].replace("Z", "+00:00"))
    row = (
        summary["run_id"],
        summary.get("job_name"),
        summary["source"],
        summary["dataset"],
        summary.get("contract_version"),
        summary["status"],
        int(summary["exit_code"]),
        int(summary["records_read"]),
        int(summary["records_valid"]),
        int(summary["records_dead_lettered"]),
        len(summary.get("files", [])),
        started.replace(tzinfo=None),
        ended.replace(tzinfo=None),
        float(summary["duration_seconds"]),
        summary.get("message"),
        json.dumps(summary, sort_keys=True, default=str),
    )
    spark.createDataFrame([row], RUN_SCHEMA).write.format("delta").mode("append").save(runs_path)
    write_text(
        join(runs_path, f"{summary['run_id']}.json"),
        json.dumps(summary, indent=2, sort_keys=True, default=str),
    )


def mark_inflight(folder: str, run_id: str) -> None:
    write_text(join(folder, f"{run_id}.json"), json.dumps({"run_id": run_id, "started_at": iso(utc_now())}))


def clear_inflight(folder: str, run_id: str) -> None:
    remove_path(join(folder, f"{run_id}.json"))


def inflight_runs(folder: str) -> list[str]:
    """Run ids that started but never finished (a marker file each, local or on S3)."""
    return sorted(name.removesuffix(".json") for name in list_names(folder) if name.endswith(".json"))
