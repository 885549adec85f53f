"""The file-based GX context the gate and Data Docs share, created at run time (never committed).

Layout under ``context_root`` (``<lake>/_gx`` by default): GX's own ``gx/`` project folder
(``great_expectations.yml``, suites, validation definitions, checkpoints, and the validation
results under ``gx/uncommitted/validations``). One Spark data source, ``feedguard``, holds one
dataframe asset per dataset (``quickbite.orders``) with a whole-dataframe batch definition; each
suite has a ValidationDefinition and a Checkpoint of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from great_expectations.checkpoint.checkpoint import Checkpoint
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.validation_definition import ValidationDefinition
from great_expectations.data_context.data_context.context_factory import get_context
from great_expectations.data_context.types.base import ProgressBarsConfig

DATASOURCE = "feedguard"
BATCH_DEFINITION = "whole_dataframe"
DOCS_SITE = "feedguard"
DEFAULT_SITE = "local_site"


@dataclass(frozen=True)
class GxObjects:
    """What one validation needs, all registered in the file context."""

    context: Any  # FileDataContext (GX ships no precise stubs)
    suite: ExpectationSuite
    batch_definition: Any
    validation_definition: Any
    checkpoint: Any


def open_context(context_root: str | Path) -> Any:
    """Open (or create) the file context; analytics and progress bars off, GX's default site dropped."""
    root = Path(context_root)
    root.mkdir(parents=True, exist_ok=True)
    context = get_context(mode="file", project_root_dir=str(root))
    changed = False
    if context.config.analytics_enabled is not False:
        context.config.analytics_enabled = False
        changed = True
    bars = context.config.progress_bars
    as_dict = bars if isinstance(bars, dict) else vars(bars) if bars is not None else {}
    if as_dict.get("globally", True) or as_dict.get("metric_calculations", True):
        context.config.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        changed = True
    sites = context.config.data_docs_sites or {}
    if DEFAULT_SITE in sites:
        context.delete_data_docs_site(DEFAULT_SITE)
        changed = True
    if changed:
        context.variables.save()
    return context


def asset_name(suite: dict[str, Any]) -> str:
    """``quickbite.orders`` from the suite's feedguard meta, else the suite name minus ``.vN``."""
    meta = (suite.get("meta") or {}).get("feedguard") or {}
    if meta.get("source") and meta.get("dataset"):
        return f"{meta['source']}.{meta['dataset']}"
    name = str(suite["name"])
    head, _, tail = name.rpartition(".")
    return head if head and tail.startswith("v") and tail[1:].isdigit() else name


def _batch_definition(context: Any, asset: str) -> Any:
    try:
        source = context.data_sources.get(DATASOURCE)
    except LookupError:
        source = context.data_sources.add_spark(name=DATASOURCE)
    try:
        data_asset = source.get_asset(asset)
    except LookupError:
        data_asset = source.add_dataframe_asset(name=asset)
    try:
        return data_asset.get_batch_definition(BATCH_DEFINITION)
    except LookupError:
        return data_asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def register(context: Any, suite: dict[str, Any], *, result_format: dict[str, Any]) -> GxObjects:
    """Add or update the suite, its ValidationDefinition and its Checkpoint.

    The Checkpoint has no actions: the validation definition stores the result, and Data Docs are
    built by :func:`feedguard.quality.docs.build_docs`.
    """
    gx_suite = context.suites.add_or_update(ExpectationSuite(**_without_ids(suite)))
    batch_definition = _batch_definition(context, asset_name(suite))
    validation = context.validation_definitions.add_or_update(
        ValidationDefinition(name=gx_suite.name, data=batch_definition, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        Checkpoint(
            name=gx_suite.name,
            validation_definitions=[validation],
            actions=[],
            result_format=result_format,
        )
    )
    return GxObjects(context, gx_suite, batch_definition, validation, checkpoint)


def _without_ids(suite: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "expectations", "meta", "notes", "suite_parameters")
    out = {k: v for k, v in suite.items() if k in keep}
    out["expectations"] = [{k: v for k, v in e.items() if k != "id"} for e in suite.get("expectations", [])]
    return out
