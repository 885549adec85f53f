"""What the gate reports: the outcome, the failed expectations and the ``_dq_results`` rows.

Built from GX's validation result JSON, whichever engine produced it (see :mod:`feedguard.quality.gate`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pyspark.sql import SparkSession

from feedguard.lake.storage import join
from feedguard.quality.suites import FEEDGUARD_META, severity_of
from feedguard.records import spark_schema
from feedguard.summary import FailedExpectationEntry, RunSummary

PARTIAL_UNEXPECTED_COUNT = 20


class DqResultRow(NamedTuple):
    """One row of ``<lake>/_dq_results`` (its schema, :data:`DQ_RESULTS_SCHEMA`, is derived from it)."""

    run_id: str
    source: str | None
    dataset: str | None
    suite: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    kwargs_json: str | None
    evaluated_at: dt.datetime  # UTC, naive (Spark TimestampType)


DQ_RESULTS_SCHEMA = spark_schema(DqResultRow)


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str
    column: str | None
    severity: str
    unexpected_count: int | None
    unexpected_percent: float | None
    partial_unexpected_values: list[Any]

    def as_summary(self) -> FailedExpectationEntry:
        """The entry of the run summary's ``dq_failures``."""
        return {
            "expectation_type": self.expectation_type,
            "column": self.column,
            "severity": self.severity,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "partial_unexpected_values": list(self.partial_unexpected_values),
        }

    def describe(self) -> str:
        where = f"({self.column})" if self.column else ""
        values = ", ".join(repr(v) for v in self.partial_unexpected_values[:5])
        count = "" if self.unexpected_count is None else f": {self.unexpected_count} unexpected"
        return f"{self.expectation_type}{where}{count}" + (f" e.g. {values}" if values else "")


@dataclass(frozen=True)
class DqOutcome:
    """What the job needs from the gate; ``result_json`` is GX's validation result (PII masked)."""

    success: bool
    suite_name: str
    run_id: str
    engine: str
    expectations_evaluated: int
    expectations_failed: int
    critical_failed: list[FailedExpectation]
    warning_failed: list[FailedExpectation]
    rows: list[DqResultRow]
    result_json: dict[str, Any]
    duration_seconds: float
    element_count: int | None = None
    stored_as: list[str] = field(default_factory=list)

    def summary_fields(self) -> RunSummary:
        """The keys the run summary JSON gains."""
        return {
            "dq_success": self.success,
            "expectations_evaluated": self.expectations_evaluated,
            "expectations_failed": self.expectations_failed,
        }

    def message(self) -> str:
        if self.success and not self.warning_failed:
            return f"DQ gate passed: {self.expectations_evaluated} expectations of {self.suite_name}"
        parts = []
        if self.critical_failed:
            parts.append("critical: " + "; ".join(f.describe() for f in self.critical_failed))
        if self.warning_failed:
            parts.append("warning: " + "; ".join(f.describe() for f in self.warning_failed))
        verdict = "failed" if not self.success else "passed with warnings"
        return (
            f"DQ gate {verdict} ({self.expectations_failed} of {self.expectations_evaluated} failed): "
            + " | ".join(parts)
        )


def _column_of(config: dict[str, Any]) -> str | None:
    kwargs = config.get("kwargs") or {}
    if kwargs.get("column"):
        return str(kwargs["column"])
    for key in ("column_list", "column_A"):
        if kwargs.get(key):
            return ",".join(kwargs[key]) if isinstance(kwargs[key], list) else str(kwargs[key])
    label = (config.get("meta") or {}).get("column")
    return str(label) if label else None


def _counts(evr: dict[str, Any], rows: int | None) -> tuple[int | None, int | None, float | None, list[Any]]:
    """(element count, unexpected count, unexpected percent, partial values) of one result."""
    res = evr.get("result") or {}
    if "unexpected_count" in res:
        partial = list(res.get("partial_unexpected_list") or [])
        return res.get("element_count", rows), res["unexpected_count"], res.get("unexpected_percent"), partial
    if evr["expectation_config"]["type"] == "unexpected_rows_expectation":
        count = res.get("observed_value")
        shown = list((res.get("details") or {}).get("unexpected_rows") or [])[:PARTIAL_UNEXPECTED_COUNT]
        percent = 100.0 * count / rows if isinstance(count, int) and rows else (0.0 if count == 0 else None)
        return rows, count, percent, shown
    return rows, None, None, []


def build_outcome(
    result: dict[str, Any],
    suite: dict[str, Any],
    *,
    run_id: str,
    engine: str,
    evaluated_at: dt.datetime,
    started: float,
    stored: list[str],
) -> DqOutcome:
    meta = (suite.get("meta") or {}).get(FEEDGUARD_META) or {}
    evrs = result.get("results", [])
    counts = [e["result"]["element_count"] for e in evrs if "element_count" in (e.get("result") or {})]
    rows_in_batch = max(counts) if counts else None
    failed: dict[str, list[FailedExpectation]] = {"critical": [], "warning": []}
    rows = []
    for evr in evrs:
        row, failure = _judged(evr, rows_in_batch, run_id, meta, result["suite_name"], evaluated_at)
        if failure is not None:
            failed[failure.severity].append(failure)
        rows.append(row)
    return DqOutcome(
        success=not failed["critical"],
        suite_name=result["suite_name"],
        run_id=run_id,
        engine=engine,
        expectations_evaluated=len(evrs),
        expectations_failed=sum(1 for e in evrs if not e["success"]),
        critical_failed=failed["critical"],
        warning_failed=failed["warning"],
        rows=rows,
        result_json=result,
        duration_seconds=round(time.perf_counter() - started, 3),
        element_count=rows_in_batch,
        stored_as=stored,
    )


def _judged(
    evr: dict[str, Any],
    rows_in_batch: int | None,
    run_id: str,
    meta: dict[str, Any],
    suite_name: str,
    evaluated_at: dt.datetime,
) -> tuple[DqResultRow, FailedExpectation | None]:
    """One expectation's ``_dq_results`` row, and what failed (None when it passed)."""
    config = evr["expectation_config"]
    severity = severity_of(config)
    column = _column_of(config)
    elements, unexpected, percent, partial = _counts(evr, rows_in_batch)
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    failure = None
    if not evr["success"]:
        failure = FailedExpectation(config["type"], column, severity, unexpected, percent, partial)
    row = DqResultRow(
        run_id,
        meta.get("source"),
        meta.get("dataset"),
        suite_name,
        config["type"],
        column,
        severity,
        bool(evr["success"]),
        elements,
        unexpected,
        None if percent is None else float(percent),
        json.dumps(kwargs, sort_keys=True, default=str),
        evaluated_at.replace(tzinfo=None),
    )
    return row, failure


def write_dq_results(spark: SparkSession, lake_path: str, rows: list[DqResultRow]) -> int:
    """Append the rows to ``<lake>/_dq_results`` (Delta); return how many were written."""
    if not rows:
        return 0
    spark.createDataFrame(list(rows), DQ_RESULTS_SCHEMA).write.format("delta").mode("append").save(
        join(lake_path, "_dq_results")
    )
    return len(rows)
