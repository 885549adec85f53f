"""Error structs as Spark Column expressions, and the previews of values they quote.

An error is a ``struct<type, field, detail>``; a record's errors are an array of them (empty when
the record is valid).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

ERROR_TYPE = T.StructType(
    [
        T.StructField("type", T.StringType()),
        T.StructField("field", T.StringType()),
        T.StructField("detail", T.StringType()),
    ]
)
NO_ERRORS = "array<struct<type:string,field:string,detail:string>>"
VALUE_PREVIEW_CHARS = 80
# Errors of a field that a type mismatch of the same field explains (its value was not read as written).
SHADOWED_BY_TYPE_MISMATCH = ("missing_required_field", "constraint_violation")


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


def let(value: Column, body: Callable[[Column], Column]) -> Column:
    """``body(value)`` with ``value`` evaluated once and written once in the plan, however often ``body``
    uses it (a lambda over a one-element array: Spark has no let binding in its Column API). Without it,
    an expression used three times is planned, optimised and compiled three times, which grows the error
    lists' plans multiplicatively and the fixed cost of every run with them."""
    return F.transform(F.array(value), body).getItem(0)


def not_named_in(errors: Column, named: Column) -> Column:
    """``errors`` without those whose field an error of ``named`` already names."""
    return F.filter(errors, lambda e: ~F.exists(named, lambda x: x.getField("field") == e.getField("field")))


def without_shadowed(errors: Column) -> Column:
    """Drop missing-field and constraint errors of fields whose value was of the wrong type: the value
    they judge is not the one written (NULL, or the text Spark made of a number)."""
    return let(
        errors,
        lambda all_errors: F.filter(
            all_errors,
            lambda e: (
                ~(
                    e.getField("type").isin(*SHADOWED_BY_TYPE_MISMATCH)
                    & F.exists(
                        all_errors,
                        lambda t: (
                            (t.getField("type") == "type_mismatch")
                            & (t.getField("field") == e.getField("field"))
                        ),
                    )
                )
            ),
        ),
    )


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
