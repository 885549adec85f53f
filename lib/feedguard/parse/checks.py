"""Contract checks as Spark Column expressions: casts from text, required fields, constraints.

Each check is an error struct (:mod:`feedguard.parse.errors`) or NULL; a record's list is built from them
for flagged records only. All expressions survive ANSI mode (``try_cast``, ``try_to_timestamp``).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.contracts.schema import field_type
from feedguard.parse.errors import error_if, preview


def java_regex(pattern: str) -> str:
    """A contract regex as Java must run it to mean what it says: a final ``$`` becomes ``\\z``.

    Java's ``$`` also matches before a final line terminator (``\\n``, ``\\r``, U+0085, U+2028), so
    ``^QB-[0-9]{8}$`` would pass ``"QB-00000001\\n"``; ``\\z`` is the true end of the value.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\z"
    return pattern


def cast_from_text(text_sql: str, spec: FieldSpec, default_timestamp_format: str | None) -> Column:
    """Cast the text column named ``text_sql`` to the contract type; NULL when it does not cast.

    ``try_cast`` has no Column API before Spark 4, so the cast is a SQL expression.
    """
    fmt = spec.format or default_timestamp_format
    if spec.type == "string":
        return F.expr(text_sql)
    # The pattern as a literal Column: a quoted literal in it ('T') would end a SQL string.
    if spec.type == "timestamp" and fmt:
        return F.try_to_timestamp(F.expr(text_sql), F.lit(fmt))
    if spec.type == "date" and spec.format:
        return F.try_to_timestamp(F.expr(text_sql), F.lit(spec.format)).cast(T.DateType())
    return F.expr(f"try_cast({text_sql} AS {field_type(spec).simpleString()})")


def _bound_checks(value: Column, spec: FieldSpec, label: str) -> list[Column]:
    text = value.cast(T.StringType())
    broken: list[tuple[Column, str]] = []
    if spec.min is not None:
        broken.append((value < F.lit(spec.min), f"is below the minimum {spec.min:g}"))
    if spec.max is not None:
        broken.append((value > F.lit(spec.max), f"is above the maximum {spec.max:g}"))
    if spec.allowed_values is not None:
        allowed = ", ".join(spec.allowed_values)
        broken.append((~text.isin(list(spec.allowed_values)), f"is not one of: {allowed}"))
    if spec.regex is not None:
        broken.append((~text.rlike(java_regex(spec.regex)), f"does not match {spec.regex}"))
    return [
        error_if(
            condition,
            "constraint_violation",
            label,
            F.concat(F.lit(f"{label}="), preview(value), F.lit(f" {rule}")),
        )
        for condition, rule in broken
    ]


def _nested_checks(value: Column, spec: FieldSpec, label: str) -> list[Column]:
    """Required children and constraints inside structs and arrays of structs."""
    checks: list[Column] = []
    if spec.type == "struct" and spec.fields:
        for child in spec.fields:
            checks.extend(field_checks(value.getField(child.name), child, f"{label}.{child.name}"))
    elif spec.type == "array" and spec.items is not None:
        item = spec.items
        if item.required:
            checks.append(
                error_if(
                    F.exists(value, lambda x: x.isNull()),
                    "missing_required_field",
                    f"{label}[]",
                    f"an element of {label} is null",
                )
            )
        child_specs = item.fields if item.type == "struct" and item.fields else ()
        for child in child_specs:
            child_label = f"{label}[].{child.name}"
            if child.required:
                checks.append(
                    error_if(
                        F.exists(value, _child_is_null(child.name)),
                        "missing_required_field",
                        child_label,
                        f"required field {child_label} is missing",
                    )
                )
            for bad, text in _element_bounds(child):
                checks.append(
                    error_if(
                        F.exists(value, _child_fails(child.name, bad)),
                        "constraint_violation",
                        child_label,
                        f"{child_label} {text}",
                    )
                )
    return checks


def _child_is_null(name: str) -> Callable[[Column], Column]:
    def check(element: Column) -> Column:
        return element.getField(name).isNull()

    return check


def _child_fails(name: str, bad: Callable[[Column], Column]) -> Callable[[Column], Column]:
    def check(element: Column) -> Column:
        return bad(element.getField(name))

    return check


def _element_bounds(spec: FieldSpec) -> list[tuple[Callable[[Column], Column], str]]:
    """(predicate that is true for a bad value, description) for each constraint of a child."""
    bounds: list[tuple[Callable[[Column], Column], str]] = []
    low, high, allowed, pattern = spec.min, spec.max, spec.allowed_values, spec.regex
    if low is not None:
        bounds.append((lambda v: v < F.lit(low), f"is below the minimum {low:g}"))
    if high is not None:
        bounds.append((lambda v: v > F.lit(high), f"is above the maximum {high:g}"))
    if allowed is not None:
        values = list(allowed)
        bounds.append((lambda v: ~v.cast(T.StringType()).isin(values), f"is not one of: {', '.join(values)}"))
    if pattern is not None:
        bounds.append(
            (lambda v: ~v.cast(T.StringType()).rlike(java_regex(pattern)), f"does not match {pattern}")
        )
    return bounds


def field_checks(value: Column, spec: FieldSpec, label: str | None = None) -> list[Column]:
    """Errors for one typed value: required, then constraints (nested ones included)."""
    label = label or spec.name
    checks: list[Column] = []
    if spec.required:
        checks.append(
            error_if(
                value.isNull(), "missing_required_field", label, f"required field {label} is missing or null"
            )
        )
    if spec.type == "array" and spec.required:
        checks.append(
            error_if(F.size(value) == 0, "missing_required_field", label, f"required array {label} is empty")
        )
    checks.extend(_bound_checks(value, spec, label))
    checks.extend(_nested_checks(value, spec, label))
    return checks


def contract_checks(contract: Contract, typed: dict[str, Column]) -> list[Column]:
    """Every check of the contract over the typed top-level values."""
    checks: list[Column] = []
    for spec in contract.fields:
        checks.extend(field_checks(typed[spec.name], spec))
    return checks
