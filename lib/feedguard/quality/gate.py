"""The data-quality gate: run a GX suite on the valid rows before they are published.

Two engines give the same GX validation result, stored in the file-based GX context under
``context_root`` so Data Docs can render it:

* ``single_pass`` (default): one aggregate over the cached DataFrame, metrics handed to GX's
  expectations to judge (:mod:`feedguard.quality.singlepass`); what it does not cover, GX runs.
* ``gx``: GX's own Spark execution through the Checkpoint (its metric graph and bundling).

A failed ``critical`` expectation makes ``success`` false; ``warning`` failures are reported only.

Example::

    outcome = validate(valid_df, load_suite("expectations/quickbite/orders.v1.json"),
                       run_id=ctx.run_id, context_root=f"{lake.root}/_gx")
    write_dq_results(spark, lake.root, outcome.rows)
    if not outcome.success:
        ...  # route the batch to the dead-letter table, exit 3
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from great_expectations import __version__ as gx_version
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.util import convert_to_json_serializable
from great_expectations.validator.validation_statistics import calc_validation_statistics
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from feedguard.quality.context import GxObjects, asset_name, open_context, register
from feedguard.quality.singlepass import SinglePass, UnsupportedMetricError
from feedguard.quality.suites import FEEDGUARD_META, severity_of
from feedguard.storage import join

Engine = Literal["single_pass", "gx"]
PARTIAL_UNEXPECTED_COUNT = 20
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": PARTIAL_UNEXPECTED_COUNT,
}
MASK = "***"

DQ_RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("source", T.StringType(), True),
        T.StructField("dataset", T.StringType(), True),
        T.StructField("suite", T.StringType(), False),
        T.StructField("expectation_type", T.StringType(), False),
        T.StructField("column", T.StringType(), True),
        T.StructField("severity", T.StringType(), False),
        T.StructField("success", T.BooleanType(), False),
        T.StructField("element_count", T.LongType(), True),
        T.StructField("unexpected_count", T.LongType(), True),
        T.StructField("unexpected_percent", T.DoubleType(), True),
        T.StructField("kwargs_json", T.StringType(), True),
        T.StructField("evaluated_at", T.TimestampType(), False),
    ]
)


class DqResultRow(NamedTuple):
    """One row of ``<lake>/_dq_results`` (same field order as :data:`DQ_RESULTS_SCHEMA`)."""

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


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str
    column: str | None
    severity: str
    unexpected_count: int | None
    unexpected_percent: float | None
    partial_unexpected_values: list[Any]

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

    def summary_fields(self) -> dict[str, Any]:
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


def validate(
    df: DataFrame,
    suite: dict[str, Any],
    *,
    run_id: str,
    context_root: str,
    engine: Engine = "single_pass",
    now: dt.datetime | None = None,
) -> DqOutcome:
    """Validate the (cached) valid rows ``df`` against ``suite``; store GX's result under ``context_root``."""
    started = time.perf_counter()
    run_time = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    objects = register(open_context(context_root), suite, result_format=RESULT_FORMAT)
    gx_run_id = RunIdentifier(run_name=run_id, run_time=run_time)
    if engine == "gx":
        checkpoint_result = objects.checkpoint.run(batch_parameters={"dataframe": df}, run_id=gx_run_id)
        key, result = next(iter(checkpoint_result.run_results.items()))
        _in_suite_order(result, objects.suite)
    else:
        result, key = _single_pass(df, objects, gx_run_id)
    _mask(result, _pii(suite))
    result.meta.setdefault("batch_spec", {})["data_asset_name"] = asset_name(suite)
    objects.context.validation_results_store.store_validation_results(
        suite_validation_result=result,
        suite_validation_result_identifier=key,
        expectation_suite_identifier=key.expectation_suite_identifier,
    )
    result_json = convert_to_json_serializable(result.to_json_dict())
    return _outcome(
        result_json,
        suite,
        run_id=run_id,
        engine=engine,
        evaluated_at=run_time,
        started=started,
        stored=[str(key)],
    )


def _single_pass(
    df: DataFrame, objects: GxObjects, run_id: Any
) -> tuple[ExpectationSuiteValidationResult, ValidationResultIdentifier]:
    batch = objects.batch_definition.get_batch(batch_parameters={"dataframe": df})
    configs = [e.configuration for e in objects.suite.expectations]
    planner = SinglePass(df, partial_count=PARTIAL_UNEXPECTED_COUNT)
    planned: dict[int, Any] = {}
    leftover: dict[int, Any] = {}
    for index, config in enumerate(configs):
        config.kwargs["batch_id"] = batch.id
        expectation = config.to_domain_obj()
        deps = expectation.get_validation_dependencies(
            runtime_configuration={"result_format": dict(RESULT_FORMAT)}
        )
        try:
            planner.plan(list(deps.metric_configurations.values()))
            planned[index] = expectation
        except UnsupportedMetricError:
            leftover[index] = expectation
    metrics = planner.run()
    results: dict[int, ExpectationValidationResult] = {
        i: e.metrics_validate(metrics, runtime_configuration={"result_format": dict(RESULT_FORMAT)})
        for i, e in planned.items()
    }
    if leftover:
        rest = ExpectationSuite(
            name=objects.suite.name, expectations=[_detached(e) for e in leftover.values()]
        )
        by_gx = batch.validate(rest, result_format=RESULT_FORMAT)
        results.update(zip(leftover, by_gx.results, strict=True))
    ordered = [results[i] for i in range(len(configs))]
    stats = calc_validation_statistics(ordered)
    meta = {
        "great_expectations_version": gx_version,
        "batch_spec": convert_to_json_serializable(batch.batch_spec),
        "batch_markers": batch.batch_markers,
        "active_batch_definition": convert_to_json_serializable(batch.batch_definition),
        "validation_id": objects.validation_definition.id,
        "checkpoint_id": objects.checkpoint.id,
        "run_id": run_id,
        "validation_time": run_id.run_time,
        "batch_parameters": {"dataframe": "<DATAFRAME>"},
        "feedguard_engine": "single_pass",
    }
    result = ExpectationSuiteValidationResult(
        success=stats.success,
        results=ordered,
        suite_name=objects.suite.name,
        statistics={
            "evaluated_expectations": stats.evaluated_expectations,
            "successful_expectations": stats.successful_expectations,
            "unsuccessful_expectations": stats.unsuccessful_expectations,
            "success_percent": stats.success_percent,
        },
        meta=meta,
        batch_id=batch.id,
    )
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=objects.suite.name),
        run_id=run_id,
        batch_identifier=batch.id,
    )
    return result, key


def _in_suite_order(result: ExpectationSuiteValidationResult, suite: Any) -> None:
    """GX's graph returns results in its own order; put them back in the suite's."""
    position = {e.id: i for i, e in enumerate(suite.expectations)}
    result.results.sort(key=lambda r: position.get(getattr(r.expectation_config, "id", None), len(position)))


def _detached(expectation: Any) -> Any:
    """A copy GX accepts in another suite (no id)."""
    twin = copy.copy(expectation)
    twin.id = None
    return twin


def _pii(suite: dict[str, Any]) -> set[str]:
    return set(((suite.get("meta") or {}).get(FEEDGUARD_META) or {}).get("pii_columns") or [])


def _mask(result: ExpectationSuiteValidationResult, pii: set[str]) -> None:
    """Hide PII values in partial unexpected lists and unexpected rows (Data Docs are for analysts)."""
    if not pii:
        return
    for evr in result.results:
        details: dict[str, Any] = evr.result or {}
        config = evr.expectation_config
        if config is not None and config.kwargs.get("column") in pii:
            for key in ("partial_unexpected_list", "unexpected_list"):
                if details.get(key):
                    details[key] = [None if v is None else MASK for v in details[key]]
            for item in details.get("partial_unexpected_counts") or []:
                item["value"] = None if item.get("value") is None else MASK
        for row in (details.get("details") or {}).get("unexpected_rows") or []:
            for name in pii & set(row):
                row[name] = None if row[name] is None else MASK


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


def _outcome(
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
        config = evr["expectation_config"]
        severity = severity_of(config)
        column = _column_of(config)
        elements, unexpected, percent, partial = _counts(evr, rows_in_batch)
        kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
        if not evr["success"]:
            failed[severity].append(
                FailedExpectation(config["type"], column, severity, unexpected, percent, partial)
            )
        rows.append(
            DqResultRow(
                run_id,
                meta.get("source"),
                meta.get("dataset"),
                result["suite_name"],
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
        )
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


def write_dq_results(spark: SparkSession, lake_path: str, rows: list[DqResultRow]) -> int:
    """Append the rows to ``<lake>/_dq_results`` (Delta); return how many were written."""
    if not rows:
        return 0
    spark.createDataFrame(list(rows), DQ_RESULTS_SCHEMA).write.format("delta").mode("append").save(
        join(lake_path, "_dq_results")
    )
    return len(rows)
