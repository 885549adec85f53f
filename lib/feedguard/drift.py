"""Schema drift: infer what a structurally changed file now looks like, and propose the next contract.

For a file classified ``structural_change`` the job writes, under
``<lake>/_drift/<source>/<dataset>/<run_id>/``, a report (JSON and Markdown) with the schema diff
and a ready-to-review YAML of the proposed next contract version: the inferred schema merged into
the current contract, version bumped, its compatibility stated.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from feedguard.contract import Contract, CsvOptions, FieldSpec, contract_to_yaml
from feedguard.evolution import ContractDiff
from feedguard.schema import CORRUPT_COLUMN
from feedguard.storage import join, write_text

_SPARK_TO_CONTRACT: dict[type[T.DataType], str] = {
    T.StringType: "string",
    T.LongType: "long",
    T.IntegerType: "integer",
    T.DoubleType: "double",
    T.BooleanType: "boolean",
    T.DateType: "date",
    T.TimestampType: "timestamp",
}
# An inferred type that is only Spark's reading of a value the contract types more precisely.
_COMPATIBLE_READINGS = {
    ("string", "timestamp"),
    ("string", "date"),
    ("long", "integer"),
    ("double", "decimal"),
    ("long", "decimal"),
}


def spec_from_spark(name: str, data_type: T.DataType) -> FieldSpec:
    """A contract field for an inferred Spark type (optional; to be reviewed)."""
    if isinstance(data_type, T.StructType):
        children = tuple(spec_from_spark(f.name, f.dataType) for f in data_type.fields)
        return FieldSpec(name=name, type="struct", fields=children)
    if isinstance(data_type, T.ArrayType):
        return FieldSpec(name=name, type="array", items=spec_from_spark("item", data_type.elementType))
    if isinstance(data_type, T.DecimalType):
        return FieldSpec(name=name, type=f"decimal({data_type.precision},{data_type.scale})")
    return FieldSpec(name=name, type=_SPARK_TO_CONTRACT.get(type(data_type), "string"))


def infer_fields(
    spark: SparkSession, contract: Contract, uri: str, delimiter: str
) -> list[tuple[str, T.DataType]]:
    """Column names and types as Spark infers them from the file (JSON keys or the CSV header)."""
    if contract.format == "json":
        df = spark.read.option("mode", "PERMISSIVE").json(uri)
    else:
        df = (
            spark.read.option("header", "true")
            .option("sep", delimiter)
            .option("quote", contract.csv.quote)
            .option("escape", contract.csv.escape)
            .option("inferSchema", "true")
            .csv(uri)
        )
    return [(f.name, f.dataType) for f in df.schema.fields if f.name != CORRUPT_COLUMN]


def _base_type(type_name: str) -> str:
    return "decimal" if type_name.startswith("decimal") else type_name


def _keeps_contract_type(old: FieldSpec, inferred: FieldSpec, mistyped: set[str]) -> bool:
    if old.name not in mistyped:
        return True
    return old.type == inferred.type or (inferred.type, _base_type(old.type)) in _COMPATIBLE_READINGS


def propose_contract(
    contract: Contract,
    inferred: list[tuple[str, T.DataType]],
    *,
    mistyped_fields: set[str],
    next_version: int,
    effective_from: dt.date,
    delimiter: str | None = None,
) -> Contract:
    """The current contract merged with the inferred schema, as version ``next_version``."""
    inferred_specs = {name: spec_from_spark(name, t) for name, t in inferred}
    existing = {f.name: f for f in contract.fields}
    fields: list[FieldSpec] = []
    order = (
        [name for name, _ in inferred]
        if contract.format == "csv"
        else list(existing) + [n for n, _ in inferred if n not in existing]
    )
    delivered = {name for name, _ in inferred}
    for name in order:
        if name in existing and name not in delivered:
            continue
        if name in existing:
            old = existing[name]
            new = inferred_specs.get(name)
            if new is not None and not _keeps_contract_type(old, new, mistyped_fields):
                numeric = new.is_numeric
                old = old.model_copy(
                    update={
                        "type": new.type,
                        "min": old.min if numeric else None,
                        "max": old.max if numeric else None,
                    }
                )
            fields.append(old)
        else:
            new = inferred_specs[name]
            fields.append(
                new.model_copy(update={"description": "added by the drift proposal: review type and rules"})
            )
    for name, old in existing.items():
        if name not in delivered:
            fields.append(old.model_copy(update={"required": False, "description": "no longer delivered"}))
    update: dict[str, Any] = {
        "version": next_version,
        "effective_from": effective_from,
        "fields": tuple(fields),
    }
    if contract.format == "csv" and delimiter and delimiter != contract.csv.delimiter:
        update["csv"] = CsvOptions(**{**contract.csv.model_dump(), "delimiter": delimiter})
    proposed = contract.model_copy(update=update)
    return Contract.model_validate(proposed.model_dump())


@dataclass(frozen=True)
class DriftReport:
    file: str
    verdict_detail: str
    evidence: dict[str, Any]
    proposed: Contract
    diff: ContractDiff

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "verdict": "structural_change",
            "detail": self.verdict_detail,
            "evidence": self.evidence,
            "proposed_version": self.proposed.version,
            "compatibility": self.diff.compatibility,
            "backward_compatible": self.diff.backward_compatible,
            "breaking": self.diff.breaking,
            "changes": [c.__dict__ for c in self.diff.changes],
        }

    def to_markdown(self, current: Contract) -> str:
        verdict = "breaking" if self.diff.breaking else f"compatible ({self.diff.compatibility})"
        return "\n".join(
            [
                f"# Schema drift: {current.key} in `{self.file}`",
                "",
                f"**Verdict:** structural change. {self.verdict_detail}",
                "",
                "Nothing of this file was loaded; it is quarantined byte for byte and its records are in "
                f"the dead-letter table. Owner to notify: {current.owner.name} <{current.owner.email}>.",
                "",
                f"## Proposed contract v{self.proposed.version} (from v{current.version}): {verdict}",
                "",
                self.diff.to_markdown(),
                "",
                f"Review `{current.dataset}.v{self.proposed.version}.yaml` beside this report, commit it to "
                f"`contracts/{current.source}/`, then run `feedguard replay --source {current.source} "
                f"--dataset {current.dataset}` to load the quarantined records.",
                "",
                "## Evidence",
                "",
                "```json",
                json.dumps(self.evidence, indent=2, sort_keys=True, default=str),
                "```",
                "",
            ]
        )


def write_drift_report(folder: str, current: Contract, report: DriftReport) -> dict[str, str]:
    """Write report.json, report.md and the proposed YAML under ``folder``; return their paths."""
    name = report.file.rstrip("/").rsplit("/", 1)[-1]
    paths = {
        "json": join(folder, f"{name}.drift.json"),
        "markdown": join(folder, f"{name}.drift.md"),
        "proposed_contract": join(folder, f"{current.dataset}.v{report.proposed.version}.yaml"),
    }
    write_text(paths["json"], json.dumps(report.to_json(), indent=2, sort_keys=True, default=str))
    write_text(paths["markdown"], report.to_markdown(current))
    write_text(paths["proposed_contract"], contract_to_yaml(report.proposed))
    return paths
