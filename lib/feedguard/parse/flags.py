"""Contract checks as Spark Column expressions: casts from text, required fields, constraints.

An error is a ``struct<type, field, detail>``; a record's errors are an array of them (empty when
the record is valid). All expressions survive ANSI mode (``try_cast``, ``try_to_timestamp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.contracts.schema import field_type

ERROR_TYPE = T.StructType(
    [
        T.StructField("type", T.StringType()),
        T.StructField("field", T.StringType()),
        T.StructField("detail", T.StringType()),
    ]
)
VALUE_PREVIEW_CHARS = 80
# A line made only of these is blank (no record, counted with the skipped lines): JSON's whitespace
# that a line can hold (a line break ends the line). CSV leaves out its delimiter (a tab in a TSV).
BLANK_CHARS = " \t\r"


def not_only(chars: str) -> str:
    """A regex that finds the first character outside ``chars``: ``~col.rlike(not_only(" \\t"))`` is a blank
    line, found without copying the line (``btrim`` of a 50 MB line copies it, on every record)."""
    return "[^" + "".join("\\" + c if c in "\\^]-[" else c for c in chars) + "]"


# How many values of a record a field's ``rounding`` rounded (see :mod:`feedguard.parse.exactness`).
ROUNDED_COLUMN = "_rounded"


def java_regex(pattern: str) -> str:
    """A contract regex as Java must run it to mean what it says: a final ``$`` becomes ``\\z``.

    Java's ``$`` also matches before a final line terminator (``\\n``, ``\\r``, U+0085, U+2028), so
    ``^QB-[0-9]{8}$`` would pass ``"QB-00000001\\n"``; ``\\z`` is the true end of the value.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\z"
    return pattern


def error(kind: str, field: str | Column | None, detail: Column | str) -> Column:
    """One error struct."""
    detail_col = F.lit(detail) if isinstance(detail, str) else detail
    field_col = field if isinstance(field, Column) else F.lit(field)
    return F.struct(
        F.lit(kind).alias("type"),
        field_col.cast(T.StringType()).alias("field"),
        detail_col.cast(T.StringType()).alias("detail"),
    )


def error_if(condition: Column, kind: str, field: str | Column | None, detail: Column | str) -> Column:
    """An error struct when ``condition`` holds, else NULL."""
    return F.when(condition, error(kind, field, detail))


def collect_errors(candidates: Iterable[Column]) -> Column:
    """The non-null errors among ``candidates``, in order."""
    items = list(candidates)
    if not items:
        return F.array().cast(T.ArrayType(ERROR_TYPE))
    return F.filter(F.array(*items), lambda e: e.isNotNull())


def without_shadowed_missing(errors: Column) -> Column:
    """Drop "missing" errors for fields that are NULL only because their value failed to cast."""
    return F.filter(
        errors,
        lambda e: (
            ~(
                (e.getField("type") == "missing_required_field")
                & F.exists(
                    errors,
                    lambda t: (
                        (t.getField("type") == "type_mismatch") & (t.getField("field") == e.getField("field"))
                    ),
                )
            )
        ),
    )


NO_ERRORS = "array<struct<type:string,field:string,detail:string>>"


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


def preview(value: Column) -> Column:
    """A short, quoted preview of a value for an error message."""
    text = value.cast(T.StringType())
    short = F.when(
        F.length(text) > VALUE_PREVIEW_CHARS,
        F.concat(F.substring(text, 1, VALUE_PREVIEW_CHARS), F.lit("...")),
    )
    return F.concat(F.lit("'"), F.coalesce(short, text), F.lit("'"))


def sql_name(*parts: str) -> str:
    """A quoted SQL reference such as ```_p`.`amount```."""
    return ".".join(f"`{part}`" for part in parts)


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
    checks = []
    if spec.min is not None:
        checks.append(
            error_if(
                value < F.lit(spec.min),
                "constraint_violation",
                label,
                F.concat(F.lit(f"{label}="), preview(value), F.lit(f" is below the minimum {spec.min:g}")),
            )
        )
    if spec.max is not None:
        checks.append(
            error_if(
                value > F.lit(spec.max),
                "constraint_violation",
                label,
                F.concat(F.lit(f"{label}="), preview(value), F.lit(f" is above the maximum {spec.max:g}")),
            )
        )
    if spec.allowed_values is not None:
        allowed = ", ".join(spec.allowed_values)
        checks.append(
            error_if(
                ~value.cast(T.StringType()).isin(list(spec.allowed_values)),
                "constraint_violation",
                label,
                F.concat(F.lit(f"{label}="), preview(value), F.lit(f" is not one of: {allowed}")),
            )
        )
    if spec.regex is not None:
        checks.append(
            error_if(
                ~value.cast(T.StringType()).rlike(java_regex(spec.regex)),
                "constraint_violation",
                label,
                F.concat(F.lit(f"{label}="), preview(value), F.lit(f" does not match {spec.regex}")),
            )
        )
    return checks


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


# --- the fast path --------------------------------------------------------------------------------
# Higher-order functions (filter, exists, transform with lambdas) are not code-generated in Spark 3.5
# and cost most of the parse time when evaluated for every record. ``may_violate`` is a lambda-free,
# conservative test: when it is false the record certainly passes every check, so the full error
# list (with lambdas) is built only for the few records that may be bad.

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
