"""The fast path: a cheap, lambda-free flag for the records that may be bad, and the split of a cached
frame into the records that certainly pass and the flagged ones, whose error lists are built alone.

Higher-order functions (filter, exists, transform with lambdas) are not code-generated in Spark 3.5
and cost most of the parse time when evaluated for every record. ``may_violate`` is a lambda-free,
conservative test: when it is false the record certainly passes every contract check, so the full error
list (with lambdas) is built only for the few records that may be bad.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.contracts.schema import field_type
from feedguard.parse.checks import java_regex
from feedguard.parse.errors import NO_ERRORS

# A line made only of these is blank (no record, counted with the skipped lines): JSON's whitespace
# that a line can hold (a line break ends the line). CSV leaves out its delimiter (a tab in a TSV).
BLANK_CHARS = " \t\r"


def not_only(chars: str) -> str:
    """A regex that finds the first character outside ``chars``: ``~col.rlike(not_only(" \\t"))`` is a blank
    line, found without copying the line (``btrim`` of a 50 MB line copies it, on every record)."""
    return "[^" + "".join("\\" + c if c in "\\^]-[" else c for c in chars) + "]"


# How many values of a record a field's ``rounding`` rounded (see :mod:`feedguard.parse.exactness`).
ROUNDED_COLUMN = "_rounded"


def needs_error_list() -> Column:
    """Flagged and not blank; never NULL (a Kafka tombstone has no text), so filters split rows exactly."""
    return F.coalesce(F.col("_maybe_bad"), F.lit(True)) & ~F.coalesce(F.col("_blank"), F.lit(False))


def with_errors_when_flagged(record_errors: Column) -> list[Column]:
    """``_maybe_bad`` and ``_errors`` (the full list, built only for flagged records).

    ``_maybe_bad`` is output *and* used by ``_errors``: referenced twice, the cheap flagging
    projection is not collapsed into this one, so it stays whole-stage code-generated while the
    error list (higher-order functions: interpreted) is evaluated only for flagged records.
    """
    flagged = needs_error_list()
    return [
        F.col("_maybe_bad"),
        F.when(flagged, record_errors).otherwise(F.array().cast(NO_ERRORS)).alias("_errors"),
    ]


def keep_when_flagged(names: tuple[str, ...]) -> list[Column]:
    """Scratch columns (parser intermediates the error list needs), kept for flagged records only."""
    return [F.when(F.col("_maybe_bad"), F.col(name)).alias(name) for name in names]


def split_flagged(
    df: DataFrame, record_errors: Column, scratch: tuple[str, ...]
) -> tuple[DataFrame, DataFrame]:
    """(records that certainly pass, with an empty ``_errors``; flagged records, with their ``_errors``).

    Two filtered views of the same (cached) frame: the error list (higher-order functions, interpreted)
    is evaluated for the flagged records only. The scratch columns are dropped.
    """
    flagged = needs_error_list()
    clean = df.where(~flagged).withColumn("_errors", F.array().cast(NO_ERRORS)).drop(*scratch)
    suspect = df.where(flagged).withColumn("_errors", record_errors).drop(*scratch)
    return clean, suspect


def has_bad_chars(text: Column) -> Column:
    """Bytes that are not valid UTF-8, or NUL, in a record.

    Spark keeps the raw bytes of a text line (a byte search would miss them); a regex decodes the
    line first, where invalid bytes become U+FFFD. The NUL test is a byte search (``contains``: measured
    much cheaper than ``instr``, which walks characters).
    """
    return text.contains("\u0000") | text.rlike("\\x{FFFD}")


_SENTINELS: dict[str, object] = {
    "string": "\u0000feedguard-sentinel\u0000",
    "integer": -2_147_483_647,
    "long": -9_223_372_036_854_775_807,
    "double": -1.7976931348623157e308,
}


def may_hold_null(values: Column, spec: FieldSpec) -> Column:
    """True when an array may hold a NULL (``arrays_overlap`` is NULL exactly then)."""
    sentinel = _SENTINELS.get(spec.type)
    if sentinel is None:
        if spec.type.startswith("decimal"):
            sentinel = -1
        else:
            return F.size(values) > 0
    probe = F.array(F.lit(sentinel).cast(field_type(spec)))
    return F.coalesce(F.arrays_overlap(values, probe), F.lit(True))


def _may_violate_values(values: Column, spec: FieldSpec) -> list[Column]:
    """Conservative checks over an array of child values (``items.qty``)."""
    checks: list[Column] = []
    if spec.required:
        checks.append(may_hold_null(values, spec))
    if spec.min is not None:
        checks.append(F.coalesce(F.array_min(values) < F.lit(spec.min), F.lit(False)))
    if spec.max is not None:
        checks.append(F.coalesce(F.array_max(values) > F.lit(spec.max), F.lit(False)))
    if spec.allowed_values is not None:
        allowed = F.array(*[F.lit(v) for v in spec.allowed_values])
        checks.append(F.size(F.array_except(values.cast("array<string>"), allowed)) > 0)
    if spec.regex is not None or spec.type in ("struct", "array"):
        checks.append(F.size(values) > 0)  # no lambda-free form: check these records in full
    return checks


def may_violate(spec: FieldSpec, value: Column) -> Column:
    """False only when ``value`` certainly passes every check of ``spec``."""
    checks: list[Column] = []
    if spec.required:
        checks.append(value.isNull())
    if spec.min is not None:
        checks.append(F.coalesce(value < F.lit(spec.min), F.lit(False)))
    if spec.max is not None:
        checks.append(F.coalesce(value > F.lit(spec.max), F.lit(False)))
    if spec.allowed_values is not None:
        checks.append(F.coalesce(~value.cast(T.StringType()).isin(list(spec.allowed_values)), F.lit(False)))
    if spec.regex is not None:
        checks.append(F.coalesce(~value.cast(T.StringType()).rlike(java_regex(spec.regex)), F.lit(False)))
    if spec.type == "array" and spec.items is not None:
        item = spec.items
        if spec.required:
            checks.append(F.coalesce(F.size(value) == 0, F.lit(True)))
        if item.type == "struct" and item.fields:
            for child in item.fields:
                checks.extend(
                    F.coalesce(c, F.lit(True)) for c in _may_violate_values(value.getField(child.name), child)
                )
        else:
            checks.extend(F.coalesce(c, F.lit(True)) for c in _may_violate_values(value, item))
    elif spec.type == "struct" and spec.fields:
        checks.extend(may_violate(child, value.getField(child.name)) for child in spec.fields)
    if not checks:
        return F.lit(False)
    result = checks[0]
    for check in checks[1:]:
        result = result | check
    return result


def contract_may_violate(contract: Contract, typed: dict[str, Column]) -> Column:
    """False only when the typed record certainly passes every contract check."""
    result: Column = F.lit(False)
    for spec in contract.fields:
        result = result | may_violate(spec, typed[spec.name])
    return result
