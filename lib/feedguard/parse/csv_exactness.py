"""The exactness rules of :mod:`feedguard.parse.exactness` on CSV fields, which are text.

The fast path's test is made of byte searches on each number's text (an exponent letter, a decimal
point with more characters after it than the scale); the exact test, for flagged records only,
drops trailing zeros and applies the exponent before it counts the decimal places.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.parse.errors import error_if
from feedguard.parse.exactness import EXPONENT_REASON, is_decimal, places_reason, scale_of, type_detail

PLAIN_NUMBER = r"^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$"
DOUBLE_REASON = ": not a plain decimal or scientific number, or out of the range of a double"


def _trimmed(text_sql: str) -> str:
    return f"regexp_replace({text_sql}, '^\\\\s+|\\\\s+$', '')"


def decimal_places_sql(text_sql: str) -> str:
    """SQL: the decimal places a number's text needs (trailing zeros dropped, an exponent applied)."""
    lowered = f"lower({_trimmed(text_sql)})"
    mantissa = f"substring_index({lowered}, 'e', 1)"
    power = f"try_cast(substring_index({lowered}, 'e', -1) AS int)"
    exponent = f"CASE WHEN instr({lowered}, 'e') > 0 THEN {power} ELSE 0 END"
    fraction = f"CASE WHEN instr({mantissa}, '.') > 0 THEN substring_index({mantissa}, '.', -1) ELSE '' END"
    return f"(length(TRIM(TRAILING '0' FROM {fraction})) - {exponent})"


def _has_exponent(text: Column) -> Column:
    return text.contains("e") | text.contains("E")


def _may_need_more_places(text: Column, scale: int) -> Column:
    """Byte searches only: the text may need more than ``scale`` places (or holds an exponent)."""
    point = F.instr(text, ".")
    return _has_exponent(text) | ((point > 0) & (F.length(text) - point > scale))


def _odd_double(text: Column, value: Column) -> Column:
    return ~text.rlike(PLAIN_NUMBER) | (F.abs(value) == float("inf"))


def csv_inexact(contract: Contract, texts: dict[str, Column], typed: dict[str, Column]) -> Column:
    """The fast path's test: a field's text may not fit its type (every exactness error is flagged)."""
    result: Column = F.lit(False)
    for spec in contract.fields:
        text, cast_ok = texts[spec.name], typed[spec.name].isNotNull()
        if is_decimal(spec) and spec.rounding is None:
            suspect = _may_need_more_places(text, scale_of(spec))
        elif is_decimal(spec) and not spec.allow_exponent:
            suspect = _has_exponent(text)
        elif spec.type == "double":
            suspect = _odd_double(text, typed[spec.name])
        else:
            continue
        result = result | F.coalesce(cast_ok & suspect, F.lit(False))
    return result


def csv_rounded(contract: Contract, text_sql: dict[str, str], typed: dict[str, Column]) -> Column:
    """How many fields of a CSV record were rounded under their ``rounding`` (0 without one)."""
    total: Column = F.lit(0)
    for spec in contract.fields:
        if is_decimal(spec) and spec.rounding is not None:
            places = F.expr(decimal_places_sql(text_sql[spec.name]))
            rounded = typed[spec.name].isNotNull() & (places > scale_of(spec))
            total = total + F.when(rounded, 1).otherwise(0)
    return total


def csv_exactness_errors(
    contract: Contract, text_sql: dict[str, str], typed: dict[str, Column]
) -> list[Column]:
    """Every exactness error of a flagged CSV record (``text_sql``: field -> SQL of its text)."""
    errors = []
    for spec in contract.fields:
        text, cast_ok, name = F.expr(text_sql[spec.name]), typed[spec.name].isNotNull(), spec.name
        if is_decimal(spec):
            exponent = cast_ok & _has_exponent(text) & F.lit(not spec.allow_exponent)
            errors.append(
                error_if(exponent, "type_mismatch", name, type_detail(name, spec, text, EXPONENT_REASON))
            )
            if spec.rounding is None:
                places = F.expr(decimal_places_sql(text_sql[spec.name]))
                too_many = cast_ok & ~exponent & (places > scale_of(spec))
                detail = type_detail(name, spec, text, places_reason(spec))
                errors.append(error_if(too_many, "type_mismatch", name, detail))
        elif spec.type == "double":
            odd = cast_ok & _odd_double(text, typed[spec.name])
            errors.append(error_if(odd, "type_mismatch", name, type_detail(name, spec, text, DOUBLE_REASON)))
    return errors
