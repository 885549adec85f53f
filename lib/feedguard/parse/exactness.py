"""Numbers must fit the contract type exactly: nothing is rounded, widened or overflowed in silence.

A value that breaks a rule is a ``type_mismatch`` naming the field and the value:

* ``decimal(p,s)``: no more than ``s`` decimal places that are not zero (``17.880`` fits
  ``decimal(10,2)``, ``17.884`` does not), unless the field says ``rounding: half_up`` (then it is
  rounded half-up and counted in ``_rounded``); no exponent (``1e1``) unless ``allow_exponent``; no more
  than ``p - s`` integer digits (the parser and ``try_cast`` already refuse those).
* ``integer``, ``long``: the parser and ``try_cast`` already refuse fractions (``2.0``), exponents and
  values out of range (pinned by the tests).
* ``double``: finite (``1E400`` would be stored as Infinity; ``NaN`` and ``Infinity`` are not JSON
  numbers); a plain decimal or scientific number in CSV (not ``1d`` or ``0x10``). Digits beyond a
  double's precision round to the nearest double: that is the type (a decimal keeps every digit).

JSON: the parser reads decimals into :func:`feedguard.contracts.schema.wide_decimal` (the same integer digits,
every other digit of 38 as decimal places), so extra places show instead of being rounded away; the
typed value is ``try_cast`` of it. The fast path's test is lambda-free; an exponent is found by the byte
counts of :mod:`feedguard.parse.json_shape` and named, for flagged records only, by a search of the text.
Digits past the 38th are beyond any Spark decimal: a fraction longer than the wide scale (30 places for
``decimal(10,2)``) is compared on its first 30 places.

CSV: every field is text, so :mod:`feedguard.parse.csv_exactness` tests the rules on the text itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.contracts.contract import DECIMAL_RE, Contract, FieldSpec
from feedguard.contracts.schema import field_type, wide_decimal
from feedguard.parse.errors import error_if, preview, sql_name

EXPONENT_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+"
NUMBER_ARRAY_CHARS = r"[-+0-9.eE,\s\[\]\"]"


@dataclass(frozen=True)
class Leaf:
    """A decimal or double inside a field: ``items[].price`` is read as ``{base}.`items`.`price```."""

    label: str
    sql: str  # SQL for the value(s), over a column holding the field's parsed value
    spec: FieldSpec
    many: bool  # an array of values (the leaf sits inside an array)
    key: str  # the JSON key the value is written under (an array's key for its elements)
    in_array: bool  # written as an element of a JSON array (``"prices":[1.5, 2]``)


def is_decimal(spec: FieldSpec) -> bool:
    return bool(DECIMAL_RE.match(spec.type))


def _leaves(sql: str, spec: FieldSpec, label: str, key: str, many: bool, in_array: bool) -> Iterator[Leaf]:
    if spec.type == "struct":
        for child in spec.fields or ():
            child_sql = f"{sql}.{sql_name(child.name)}"
            yield from _leaves(child_sql, child, f"{label}.{child.name}", child.name, many, False)
    elif spec.type == "array" and spec.items is not None:
        inner = f"flatten({sql})" if many else sql
        yield from _leaves(inner, spec.items, f"{label}[]", key, True, True)
    elif is_decimal(spec) or spec.type == "double":
        yield Leaf(label, sql, spec, many, key, in_array)


def numeric_leaves(spec: FieldSpec, value_sql: str) -> list[Leaf]:
    """The decimals and doubles of a top-level field whose parsed value is the SQL ``value_sql``."""
    return list(_leaves(value_sql, spec, spec.name, spec.name, False, False))


def has_numbers(spec: FieldSpec) -> bool:
    return bool(numeric_leaves(spec, sql_name(spec.name)))


def _decimal_sql(spec: FieldSpec) -> tuple[str, str]:
    return field_type(spec).simpleString(), wide_decimal(spec).simpleString()


def inexact_sql(leaf: Leaf) -> str:
    """SQL that is true when a leaf's value (any of its values) does not fit the contract type."""
    value = leaf.sql
    if leaf.spec.type == "double":
        if leaf.many:
            infinite = (
                f"array_contains({value}, double('Infinity')) OR array_contains({value}, double('-Infinity'))"
            )
            return f"coalesce({infinite}, false)"
        return f"coalesce(abs({value}) = double('Infinity'), false)"
    declared, wide = _decimal_sql(leaf.spec)
    if leaf.many:
        declared, wide = f"array<{declared}>", f"array<{wide}>"
    return f"NOT coalesce({value} = try_cast(try_cast({value} AS {declared}) AS {wide}), {value} IS NULL)"


def _element_inexact(leaf: Leaf, element: str) -> str:
    declared, _ = _decimal_sql(leaf.spec)
    return f"NOT coalesce({element} = try_cast({element} AS {declared}), {element} IS NULL)"


def json_inexact(contract: Contract, value_sql: dict[str, str]) -> Column:
    """Lambda-free: some value does not fit its type (rounded ones included: they are checked for
    overflow and counted). ``value_sql`` maps a field name to SQL for its parsed (wide) value."""
    conditions = [
        inexact_sql(leaf) for spec in contract.fields for leaf in numeric_leaves(spec, value_sql[spec.name])
    ]
    return F.expr(" OR ".join(conditions)) if conditions else F.lit(False)


def json_rounded(contract: Contract, value_sql: dict[str, str]) -> Column:
    """How many values of a record were rounded under a field's ``rounding`` (0 without one)."""
    counts = []
    for spec in contract.fields:
        for leaf in numeric_leaves(spec, value_sql[spec.name]):
            if leaf.spec.rounding is None:
                continue
            if leaf.many:
                counts.append(f"coalesce(size(filter({leaf.sql}, x -> {_element_inexact(leaf, 'x')})), 0)")
            else:
                counts.append(f"CASE WHEN {inexact_sql(leaf)} THEN 1 ELSE 0 END")
    return F.expr(" + ".join(counts)) if counts else F.lit(0)


def typed_value(spec: FieldSpec, column: str) -> Column:
    """The contract-typed value of a field parsed with :func:`feedguard.contracts.schema.parse_type`."""
    if not any(is_decimal(leaf.spec) for leaf in numeric_leaves(spec, sql_name(column))):
        return F.col(column)
    return F.expr(f"try_cast({sql_name(column)} AS {field_type(spec).simpleString()})")


def _plain(value_sql: str) -> str:
    """A wide decimal as text without its padding zeros (``17.884000...`` -> ``17.884``)."""
    trimmed = f"regexp_replace(cast({value_sql} AS string), '(\\\\.[0-9]*?)0+$', '$1')"
    return f"regexp_replace({trimmed}, '\\\\.$', '')"


def type_detail(label: str, spec: FieldSpec, shown: Column, why: str) -> Column:
    """``price expected decimal(10,2), got '25.678': <why>``."""
    return F.concat(F.lit(f"{label} expected {spec.type}, got "), preview(shown), F.lit(why))


def _type_detail(leaf: Leaf, shown: Column, why: str) -> Column:
    return type_detail(leaf.label, leaf.spec, shown, why)


def scale_of(spec: FieldSpec) -> int:
    match = DECIMAL_RE.match(spec.type)
    assert match is not None
    return int(match[2])


def places_reason(spec: FieldSpec) -> str:
    return f": more than {scale_of(spec)} decimal places (the contract does not allow rounding)"


EXPONENT_REASON = ": a number with an exponent, which the contract does not allow (allow_exponent)"


def _leaf_errors(leaf: Leaf) -> list[Column]:
    """The errors of one leaf (flagged records only: may use lambdas)."""
    spec = leaf.spec
    if spec.type == "double":
        why = ": a number out of the range of a double (it would be stored as Infinity)"
        return [
            error_if(
                F.expr(inexact_sql(leaf)),
                "type_mismatch",
                leaf.label,
                _type_detail(leaf, F.expr(leaf.sql), why),
            )
        ]
    declared, _ = _decimal_sql(spec)
    if spec.rounding is not None:
        overflow = f"{{v}} IS NOT NULL AND try_cast({{v}} AS {declared}) IS NULL"
        test = (
            f"exists({leaf.sql}, x -> {overflow.format(v='x')})" if leaf.many else overflow.format(v=leaf.sql)
        )
        why = ": out of the range of the type once rounded"
        return [
            error_if(F.expr(test), "type_mismatch", leaf.label, _type_detail(leaf, F.expr(leaf.sql), why))
        ]
    why = places_reason(spec)
    if leaf.many:
        bad = f"filter({leaf.sql}, x -> {_element_inexact(leaf, 'x')})"
        shown = F.expr(f"array_join(transform({bad}, x -> {_plain('x')}), ', ')")
        return [
            error_if(F.expr(f"size({bad}) > 0"), "type_mismatch", leaf.label, _type_detail(leaf, shown, why))
        ]
    shown = F.expr(_plain(leaf.sql))
    return [error_if(F.expr(inexact_sql(leaf)), "type_mismatch", leaf.label, _type_detail(leaf, shown, why))]


def _exponent_texts(leaf: Leaf, raw: str) -> Column:
    """The exponent-form numbers written under a leaf's key anywhere in the record text."""
    key = leaf.key.replace("\\", "\\\\")
    start = f'(?<!\\\\)"{key}"\\s*:\\s*'
    if leaf.in_array:
        arrays = F.regexp_extract_all(F.col(raw), F.lit(f"{start}(\\[{NUMBER_ARRAY_CHARS}*\\])"), 1)
        joined = F.array_join(arrays, " ")
        return F.regexp_extract_all(joined, F.lit(f"({EXPONENT_NUMBER})"), 1)
    return F.regexp_extract_all(F.col(raw), F.lit(f'{start}("?{EXPONENT_NUMBER}"?)'), 1)


def _keys_of(specs: tuple[FieldSpec, ...]) -> Iterator[tuple[str, FieldSpec]]:
    for spec in specs:
        yield spec.name, spec
        yield from _keys_of(spec.fields or ())
        if spec.items is not None:
            yield from _keys_of(spec.items.fields or ())


def _exponent_errors(contract: Contract, leaves: list[Leaf], raw: str) -> list[Column]:
    """An exponent under a key that only ever holds decimals without ``allow_exponent``.

    The text is searched by key, so a key that also names another kind of value somewhere in the
    contract (a double, a string) is not searched: the search could not tell the two apart.
    """
    by_key: dict[str, list[FieldSpec]] = {}
    for name, spec in _keys_of(contract.fields):
        by_key.setdefault(name, []).append(spec)
    errors, seen = [], set()
    for leaf in leaves:
        if leaf.key in seen or not is_decimal(leaf.spec):
            continue
        seen.add(leaf.key)
        holders = by_key.get(leaf.key, [])
        if not all(s.type == "array" or (is_decimal(s) and not s.allow_exponent) for s in holders):
            continue
        texts = _exponent_texts(leaf, raw)
        detail = _type_detail(leaf, F.array_join(texts, ", "), EXPONENT_REASON)
        errors.append(error_if(F.size(texts) > 0, "type_mismatch", leaf.label, detail))
    return errors


def json_exactness_errors(contract: Contract, value_sql: dict[str, str], raw: str = "_raw") -> list[Column]:
    """Every exactness error of a flagged JSON record (``value_sql``: field -> SQL of its wide value)."""
    leaves = [
        leaf
        for spec in contract.fields
        if spec.name in value_sql
        for leaf in numeric_leaves(spec, value_sql[spec.name])
    ]
    errors = [error for leaf in leaves for error in _leaf_errors(leaf)]
    return [*errors, *_exponent_errors(contract, leaves, raw)]
