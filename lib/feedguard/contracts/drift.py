"""Schema drift: infer what a structurally changed file now looks like, and propose the next contract.

For a file classified ``structural_change`` the job writes, under
``<lake>/_drift/<source>/<dataset>/<run_id>/``, a report (JSON and Markdown) with the schema diff
and a ready-to-review YAML of the proposed next contract version: the inferred schema merged into
the current contract, version bumped, its compatibility stated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrameReader, SparkSession
from pyspark.sql import types as T

from feedguard.contracts.contract import FIELD_NAME_RE, Contract, CsvOptions, FieldSpec, contract_to_yaml
from feedguard.contracts.evolution import ContractDiff
from feedguard.contracts.schema import CORRUPT_COLUMN
from feedguard.lake.storage import join, spark_path, write_text

_SPARK_TO_CONTRACT: dict[type[T.DataType], str] = {
    T.StringType: "string",
    T.LongType: "long",
    T.IntegerType: "integer",
    T.DoubleType: "double",
    T.BooleanType: "boolean",
    T.DateType: "date",
    T.TimestampType: "timestamp",
}
_CASE_SENSITIVE = "spark.sql.caseSensitive"
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_NAME_RE = re.compile(r"[^A-Za-z0-9]+")
MAX_PROPOSED_NAME = 64
# Letters that do not decompose into ASCII ones (accented letters do: é -> e).
_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l"}
)
# An inferred type that is only Spark's reading of a value the contract types more precisely.
_COMPATIBLE_READINGS = {
    ("string", "timestamp"),
    ("string", "date"),
    ("long", "integer"),
    ("double", "decimal"),
    ("long", "decimal"),
}


def field_name_for(delivered: str, position: int) -> str:
    """A valid field name for any delivered column name or key (``customer phone`` -> ``customer_phone``).

    Accents are dropped, camelCase is split, other characters become ``_``; an empty result is
    ``column_<position>`` (1-based), a leading digit gets ``col_``.
    """
    if FIELD_NAME_RE.match(delivered):
        return delivered
    text = (
        unicodedata.normalize("NFKD", delivered.translate(_LETTERS)).encode("ascii", "ignore").decode("ascii")
    )
    text = _CAMEL_RE.sub("_", text)
    text = _NON_NAME_RE.sub("_", text).strip("_").lower()[:MAX_PROPOSED_NAME].rstrip("_")
    if not text:
        return f"column_{position}"
    return f"col_{text}" if text[0].isdigit() else text


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... so that no two names differ only in case."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate.lower())
    return candidate


def spec_from_spark(name: str, data_type: T.DataType) -> FieldSpec:
    """A contract field for an inferred Spark type (optional; to be reviewed).

    ``name`` must be a valid field name; nested struct keys that are not get a valid name (a JSON
    contract cannot map them: the description says which key was delivered).
    """
    if isinstance(data_type, T.StructType):
        taken: set[str] = set()
        children = []
        for position, f in enumerate(data_type.fields, start=1):
            child = _unique(field_name_for(f.name, position), taken)
            spec = spec_from_spark(child, f.dataType)
            if child != f.name:
                spec = spec.model_copy(update={"description": _json_key_note(f.name, child)})
            children.append(spec)
        return FieldSpec(name=name, type="struct", fields=tuple(children))
    if isinstance(data_type, T.ArrayType):
        return FieldSpec(name=name, type="array", items=spec_from_spark("item", data_type.elementType))
    if isinstance(data_type, T.DecimalType):
        return FieldSpec(name=name, type=f"decimal({data_type.precision},{data_type.scale})")
    return FieldSpec(name=name, type=_SPARK_TO_CONTRACT.get(type(data_type), "string"))


def _json_key_note(key: str, name: str) -> str:
    return (
        f"delivered as key {key!r}, which no field can name (not a valid name, or it differs from another "
        f"only in case): JSON keys must equal field names, so the partner must deliver it as {name!r}"
    )


def infer_fields(
    spark: SparkSession, contract: Contract, uri: str, delimiter: str
) -> list[tuple[str, T.DataType]]:
    """Column names as delivered (JSON keys or the CSV header text, verbatim) and Spark's inferred types."""
    if contract.format == "json":
        return _infer_json(spark, uri)
    return _infer_csv(spark, contract, uri, delimiter)


def _infer_json(spark: SparkSession, uri: str) -> list[tuple[str, T.DataType]]:
    """Keys and types; keys that differ only in case are told apart (Spark refuses them otherwise)."""
    try:
        schema = spark.read.option("mode", "PERMISSIVE").json(spark_path(uri)).schema
    except AnalysisException:
        previous = spark.conf.get(_CASE_SENSITIVE, "false")
        spark.conf.set(_CASE_SENSITIVE, "true")
        try:
            schema = spark.read.option("mode", "PERMISSIVE").json(spark_path(uri)).schema
        finally:
            spark.conf.set(_CASE_SENSITIVE, previous or "false")
    return [(f.name, f.dataType) for f in schema.fields if f.name != CORRUPT_COLUMN]


def _infer_csv(
    spark: SparkSession, contract: Contract, uri: str, delimiter: str
) -> list[tuple[str, T.DataType]]:
    """Types by position; names from the header text itself (Spark renames empty and repeated names)."""
    opts = contract.csv

    def reader(header: bool) -> DataFrameReader:
        return (
            spark.read.option("header", str(header).lower())
            .option("sep", delimiter)
            .option("quote", opts.quote)
            .option("escape", opts.escape)
        )

    typed = reader(opts.header).option("inferSchema", "true").csv(spark_path(uri)).schema.fields
    if opts.header:
        first = reader(False).csv(spark_path(uri)).first()
        header = ["" if cell is None else str(cell).strip() for cell in (first or ())]
    else:
        header = list(contract.field_names)
    names = [header[i] if i < len(header) else f"column_{i + 1}" for i in range(len(typed))]
    return [(name, f.dataType) for name, f in zip(names, typed, strict=True)]


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
    """The current contract merged with the inferred schema, as version ``next_version``.

    ``inferred`` holds the names as delivered (any text). A delivered name matches the contract
    field that delivers it; a CSV header that is not a valid name (``customer phone``) matches the
    field it spells when that field is no longer delivered as such (``source_name`` maps it), or
    becomes a new field with a valid name and the header text as ``source_name``.
    """
    csv = contract.format == "csv"
    unmatched = {f.delivered_name: f for f in contract.fields}
    taken = {f.name.lower() for f in contract.fields}
    delivered: list[tuple[FieldSpec | None, str, T.DataType]] = []
    for name, data_type in inferred:
        delivered.append((unmatched.pop(name, None), name, data_type))
    by_name = {f.name.lower(): f for f in unmatched.values()}
    kept: set[str] = set()
    proposed: list[FieldSpec] = []
    for position, (old, name, data_type) in enumerate(delivered, start=1):
        valid = field_name_for(name, position)
        if old is None and csv and valid.lower() in by_name:
            old = by_name.pop(valid.lower())
            old = old.model_copy(update={"source_name": None if name == old.name else name})
        if old is not None:
            kept.add(old.name)
            proposed.append(_keep(old, spec_from_spark(old.name, data_type), mistyped_fields))
        else:
            proposed.append(_added(name, _unique(valid, taken), data_type, csv))
    if not csv:
        order = {f.name: i for i, f in enumerate(contract.fields)}
        proposed.sort(key=lambda f: order.get(f.name, len(order)))
    for old in contract.fields:
        if old.name not in kept:
            proposed.append(old.model_copy(update={"required": False, "description": "no longer delivered"}))
    update: dict[str, Any] = {
        "version": next_version,
        "effective_from": effective_from,
        "fields": tuple(proposed),
    }
    if csv and delimiter and delimiter != contract.csv.delimiter:
        update["csv"] = CsvOptions(**{**contract.csv.model_dump(), "delimiter": delimiter})
    return Contract.model_validate(contract.model_copy(update=update).model_dump())


def _keep(old: FieldSpec, inferred: FieldSpec, mistyped: set[str]) -> FieldSpec:
    """A delivered contract field, with the inferred type when the data no longer fits its own."""
    if _keeps_contract_type(old, inferred, mistyped):
        return old
    numeric = inferred.is_numeric
    return old.model_copy(
        update={
            "type": inferred.type,
            "min": old.min if numeric else None,
            "max": old.max if numeric else None,
        }
    )


def _added(delivered: str, name: str, data_type: T.DataType, csv: bool) -> FieldSpec:
    """A new field for a delivered column or key (``source_name`` keeps a CSV header's own text)."""
    note = "added by the drift proposal: review type and rules"
    update: dict[str, Any] = {"description": note}
    if name != delivered:
        if csv:
            update["source_name"] = delivered
        else:
            update["description"] = f"{note}; {_json_key_note(delivered, name)}"
    return spec_from_spark(name, data_type).model_copy(update=update)


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
            "renamed_columns": self.renamed_columns(),
        }

    def renamed_columns(self) -> list[dict[str, str]]:
        """Delivered names that are not valid field names, with the field that maps each one."""
        return [
            {"delivered": f.source_name, "field": f.name}
            for f in self.proposed.fields
            if f.source_name is not None
        ]

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
                *_renames_markdown(self.renamed_columns()),
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


def _renames_markdown(renamed: list[dict[str, str]]) -> list[str]:
    if not renamed:
        return []
    lines = ["Header names that are not valid field names map to these fields (`source_name`):", ""]
    lines += [f"- {json.dumps(r['delivered'], ensure_ascii=False)} -> `{r['field']}`" for r in renamed]
    return [*lines, ""]


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
