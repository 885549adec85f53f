"""The next contract version proposed for a structurally changed file: the current contract merged with
the schema the file now has (:mod:`feedguard.contracts.drift_schema`), version bumped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.contracts.contract_options import CsvOptions
from feedguard.contracts.field_names import field_name_for, json_key_note, unique_name

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
    """A contract field for an inferred Spark type (optional; to be reviewed).

    ``name`` must be a valid field name; nested struct keys that are not get a valid name (a JSON
    contract cannot map them: the description says which key was delivered).
    """
    if isinstance(data_type, T.StructType):
        taken: set[str] = set()
        children = []
        for position, f in enumerate(data_type.fields, start=1):
            child = unique_name(field_name_for(f.name, position), taken)
            spec = spec_from_spark(child, f.dataType)
            if child != f.name:
                spec = spec.model_copy(update={"description": json_key_note(f.name, child)})
            children.append(spec)
        return FieldSpec(name=name, type="struct", fields=tuple(children))
    if isinstance(data_type, T.ArrayType):
        return FieldSpec(name=name, type="array", items=spec_from_spark("item", data_type.elementType))
    if isinstance(data_type, T.DecimalType):
        return FieldSpec(name=name, type=f"decimal({data_type.precision},{data_type.scale})")
    return FieldSpec(name=name, type=_SPARK_TO_CONTRACT.get(type(data_type), "string"))


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
    proposed = _delivered_fields(contract, inferred, mistyped_fields)
    kept = {f.name for f in proposed} & set(contract.field_names)  # added fields never take a contract name
    for old in contract.fields:
        if old.name not in kept:
            proposed.append(old.model_copy(update={"required": False, "description": "no longer delivered"}))
    update: dict[str, Any] = {
        "version": next_version,
        "effective_from": effective_from,
        "fields": tuple(proposed),
    }
    if contract.format == "csv" and delimiter and delimiter != contract.csv.delimiter:
        update["csv"] = CsvOptions(**{**contract.csv.model_dump(), "delimiter": delimiter})
    return Contract.model_validate(contract.model_copy(update=update).model_dump())


def _delivered_fields(
    contract: Contract, inferred: list[tuple[str, T.DataType]], mistyped: set[str]
) -> list[FieldSpec]:
    """One field per delivered name: the contract field that delivers it (kept or retyped), or a new one.

    JSON fields keep the contract's order (new ones last); CSV fields keep the delivered order.
    """
    csv = contract.format == "csv"
    unmatched = {f.delivered_name: f for f in contract.fields}
    taken = {f.name.lower() for f in contract.fields}
    delivered = [(unmatched.pop(name, None), name, data_type) for name, data_type in inferred]
    by_name = {f.name.lower(): f for f in unmatched.values()}
    proposed: list[FieldSpec] = []
    for position, (old, name, data_type) in enumerate(delivered, start=1):
        valid = field_name_for(name, position)
        if old is None and csv and valid.lower() in by_name:
            old = by_name.pop(valid.lower())
            old = old.model_copy(update={"source_name": None if name == old.name else name})
        if old is not None:
            proposed.append(_keep(old, spec_from_spark(old.name, data_type), mistyped))
        else:
            proposed.append(_added(name, unique_name(valid, taken), data_type, csv))
    if not csv:
        order = {f.name: i for i, f in enumerate(contract.fields)}
        proposed.sort(key=lambda f: order.get(f.name, len(order)))
    return proposed


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
            update["description"] = f"{note}; {json_key_note(delivered, name)}"
    return spec_from_spark(name, data_type).model_copy(update=update)
