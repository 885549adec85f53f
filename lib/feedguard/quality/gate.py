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
import time
from typing import Any, Literal

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
from pyspark.sql import DataFrame

from feedguard.quality.context import GxObjects, asset_name, open_context, register
from feedguard.quality.outcome import (
    DQ_RESULTS_SCHEMA,
    PARTIAL_UNEXPECTED_COUNT,
    DqOutcome,
    DqResultRow,
    FailedExpectation,
    build_outcome,
    write_dq_results,
)
from feedguard.quality.singlepass import SinglePass, UnsupportedMetricError
from feedguard.quality.suites import FEEDGUARD_META

__all__ = [
    "DQ_RESULTS_SCHEMA",
    "DqOutcome",
    "DqResultRow",
    "FailedExpectation",
    "validate",
    "write_dq_results",
]

Engine = Literal["single_pass", "gx"]
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": PARTIAL_UNEXPECTED_COUNT,
}
MASK = "***"


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
    return build_outcome(
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
    ordered = _expectation_results(df, objects, batch)
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


def _expectation_results(df: DataFrame, objects: GxObjects, batch: Any) -> list[ExpectationValidationResult]:
    """Each expectation's result in suite order: judged on the one aggregate's metrics, else by GX."""
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
    return [results[i] for i in range(len(configs))]


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
