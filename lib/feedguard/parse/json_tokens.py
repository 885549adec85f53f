"""A value must be written as the JSON type its field expects: Spark coerces some that are not.

Spark's ``from_json`` reads a JSON number, boolean, object or array into a string field as its JSON text
(``"city":123`` loads ``"123"``), a quoted number into a decimal (``"subtotal":"12.50"``) and a number
into a timestamp as epoch seconds (``"ordered_at":1795000000``), with no corrupt flag. Each is a
``type_mismatch`` naming the field (by path: ``items[].sku``) and the value as written. A string, timestamp
or date field expects a JSON string, a numeric field a number, a boolean ``true`` or ``false``, a struct
an object, an array an array.

:func:`tokens_may_be_bad` is the fast path's part (lambda-free, byte searches and typed values only):

* a parsed string that a non-string value would give: the text of a number (only ``-+0-9.eE``), ``true``,
  ``false``, or one starting with ``{``, ``[`` or ``"`` (Jackson writes NaN and Infinity quoted);
* a timestamp whose key is not followed by a quote (``"ordered_at":"`` or ``"ordered_at": "``);
* ``\\u0022`` (an escaped quote that the count below cannot see);
* then the quotes: the text holds two per key, two per string, timestamp or date value and one per quote
  inside a parsed string. With the three tests above false, nothing takes a quote from that count, so a
  quote more is a quoted value where the contract has no string: a quoted decimal.

:func:`token_errors` is the exact check, for flagged records only: the JSON text of each member of each
object (:mod:`feedguard.parse.json_objects`), read with ``get_json_object`` over a one-element array (a
wildcard path keeps a string's quotes), tells its JSON type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import DECIMAL_RE, Contract, FieldSpec
from feedguard.parse.errors import ERROR_TYPE, error_if, let, preview
from feedguard.parse.json_objects import ObjectNode
from feedguard.parse.json_shape import key_count, occurrences

STRING_TOKEN_TYPES = ("string", "timestamp", "date")
NUMBER_TEXT_CHARS = "-+0123456789.eE"  # every character Jackson writes a number with
TOKEN_STARTS = ("{", "[", '"')  # an object's or array's text; NaN and Infinity, written quoted
SEPARATOR = "\u0001"
ESCAPED_QUOTE = "\\u0022"
NON_FINITE_WORDS = ("Infinity", "-Infinity", "NaN")


@dataclass(frozen=True)
class Leaf:
    """A primitive value (or, ``many``, the array of them) inside a record, and the key it is written under
    (None for the elements of an array of primitives)."""

    spec: FieldSpec
    value: Column
    many: bool
    key: str | None
    top: bool


def _leaves(value: Column, spec: FieldSpec, many: bool, key: str | None, top: bool) -> Iterator[Leaf]:
    if spec.type == "struct":
        for child in spec.fields or ():
            yield from _leaves(value.getField(child.name), child, many, child.name, False)
    elif spec.type == "array" and spec.items is not None:
        yield from _leaves(F.flatten(value) if many else value, spec.items, True, None, False)
    else:
        yield Leaf(spec, value, many, key, top)


def leaves(contract: Contract) -> list[Leaf]:
    """Every primitive value of the typed record (arrays of them flattened)."""
    return [
        leaf for spec in contract.fields for leaf in _leaves(F.col(spec.name), spec, False, spec.name, True)
    ]


def _any(conditions: list[Column]) -> Column:
    return reduce(lambda a, b: a | b, conditions, F.lit(False))


def _count(leaf: Leaf) -> Column:
    """How many non-null values a leaf holds."""
    if leaf.many:
        return F.when(leaf.value.isNull(), 0).otherwise(F.size(F.array_compact(leaf.value)))
    return F.when(leaf.value.isNotNull(), 1).otherwise(0)


def _number_text(text: Column) -> Column:
    return (text != "") & (F.translate(text, NUMBER_TEXT_CHARS, "") == "")


def _may_be_token_text(leaf: Leaf) -> Column:
    """True when a parsed string may be the JSON text of a non-string value (never false for one)."""
    value = leaf.value
    if not leaf.many:
        starts = [value.startswith(start) for start in TOKEN_STARTS]
        return F.coalesce(_any([*starts, value.isin("true", "false"), _number_text(value)]), F.lit(False))
    joined = F.concat(F.lit(SEPARATOR), F.array_join(value, SEPARATOR), F.lit(SEPARATOR))
    starts = [joined.contains(SEPARATOR + start) for start in TOKEN_STARTS]
    literal = [F.array_contains(value, word) for word in ("true", "false")]
    numbers = F.translate(joined, NUMBER_TEXT_CHARS, "").contains(SEPARATOR + SEPARATOR)
    return F.coalesce((F.size(value) > 0) & _any([*starts, *literal, numbers]), F.lit(False))


def _keyed(specs: tuple[FieldSpec, ...]) -> Iterator[FieldSpec]:
    """Every field written under a key (struct members at any depth, array elements' members included)."""
    for spec in specs:
        yield spec
        yield from _keyed(spec.fields or ())
        if spec.items is not None:
            yield from _keyed(spec.items.fields or ())


def _timestamp_may_be_number(raw: Column, contract: Contract, found: list[Leaf]) -> Column:
    """True unless every timestamp's key is followed by a quote: ``"k":"`` or ``"k": "``."""
    by_key: dict[str, list[FieldSpec]] = {}
    for spec in _keyed(contract.fields):
        by_key.setdefault(spec.name, []).append(spec)
    checks = []
    for key in sorted({leaf.key for leaf in found if leaf.spec.type == "timestamp" and leaf.key}):
        named = [leaf for leaf in found if leaf.key == key]
        patterns = [f'"{key}":"', f'"{key}": "']
        if len(by_key[key]) == 1 and named[0].top:
            written = _any([raw.contains(pattern) for pattern in patterns])
            checks.append(named[0].value.isNotNull() & ~written)
        elif all(spec.type in STRING_TOKEN_TYPES for spec in by_key[key]):
            written = reduce(lambda a, b: a + b, [occurrences(raw, p) / len(p) for p in patterns])
            expected = reduce(lambda a, b: a + b, [_count(leaf) for leaf in named])
            checks.append(~F.coalesce(written == expected, F.lit(False)))
        else:  # a key that also holds other kinds of values: the text cannot tell
            checks.extend(_count(leaf) > 0 for leaf in named)
    # the elements of an array of timestamps have no key to search for
    checks.extend(_count(leaf) > 0 for leaf in found if leaf.spec.type == "timestamp" and not leaf.key)
    return _any(checks)


def _quotes_in(leaf: Leaf) -> Column:
    text = F.array_join(leaf.value, "") if leaf.many else leaf.value
    return F.coalesce(occurrences(text, '"'), F.lit(0))


def tokens_may_be_bad(raw: Column, contract: Contract) -> Column:
    """True unless every value is certainly written as the JSON type its field expects (see the module)."""
    found = leaves(contract)
    strings = [leaf for leaf in found if leaf.spec.type == "string"]
    quoted = [leaf for leaf in found if leaf.spec.type in STRING_TOKEN_TYPES]
    expected = reduce(
        lambda a, b: a + b,
        [key_count(raw, contract) * 2, *[_count(leaf) * 2 for leaf in quoted], *map(_quotes_in, strings)],
    )
    return (
        _any([_may_be_token_text(leaf) for leaf in strings])
        | _timestamp_may_be_number(raw, contract, found)
        | raw.contains(ESCAPED_QUOTE)
        | ~F.coalesce(occurrences(raw, '"') == expected, F.lit(False))
    )


# --- the exact check (flagged records) -----------------------------------------------------------------

_JSON_KIND = {
    "string": "string",
    "timestamp": "string",
    "date": "string",
    "boolean": "boolean",
    "struct": "object",
    "array": "array",
}
# Arrays of primitives: every element (canonical JSON: no spaces) of the kind, or null.
_ELEMENT = {
    "string": r'"(?:[^"\\]++|\\.)*+"',
    "number": r"-?[0-9][-+0-9.eE]*+",
    "boolean": "true|false",
}
COERCED = ("string", "timestamp", "date")  # what Spark may coerce a value of another JSON type into


def json_kind(spec: FieldSpec) -> str:
    """The JSON type a field's values are written as."""
    return _JSON_KIND.get(spec.type, "number")


def _kind_of(text: Column) -> Column:
    """The JSON type of a value's JSON text, as an article and a noun (``a JSON number``)."""
    first = F.substring(text, 1, 1)
    return (
        F.when(first == '"', "a JSON string")
        .when(first == "{", "a JSON object")
        .when(first == "[", "a JSON array")
        .when(text.isin("true", "false"), "a JSON boolean")
        .otherwise("a JSON number")
    )


def _is_kind(text: Column, kind: str) -> Column:
    first = F.substring(text, 1, 1)
    if kind == "string":
        return first == '"'
    if kind == "object":
        return first == "{"
    if kind == "array":
        return first == "["
    if kind == "boolean":
        return text.isin("true", "false")
    return first.isin("-", *"0123456789") | text.isin(*NON_FINITE_WORDS)  # see _member_text


def _elements_error(texts: Column, spec: FieldSpec, label: str) -> Column | None:
    """An array of primitives whose elements are not all of the items' JSON type."""
    assert spec.items is not None
    kind = json_kind(spec.items)
    if kind not in _ELEMENT:
        return None
    element = f"(?:{_ELEMENT[kind]}|null)"
    every = f"^\\[(?:{element}(?:,{element})*+)?\\]$"
    bad = F.filter(texts, lambda t: t.startswith("[") & ~t.rlike(every))
    detail = F.concat(
        F.lit(f"{label} expected {spec.items.type} elements, got "),
        preview(F.array_join(bad, ", ")),
        F.lit(f" (not every element is a JSON {kind})"),
    )
    return error_if(F.size(bad) > 0, "type_mismatch", label, detail)


def _member_text(text: Column, name: str) -> Column:
    """The JSON text of an object's member (a string quoted), NULL when absent or null.

    Jackson writes a number beyond a double's range as the string ``"Infinity"``: such a text is told
    from a string by reading the member into a string, where only the number keeps its quotes.
    """
    found = F.get_json_object(F.concat(F.lit("["), text, F.lit("]")), f"$[*].{name}")
    as_string = F.from_json(text, T.StructType([T.StructField(name, T.StringType())])).getField(name)
    overflow = found.isin(*[f'"{word}"' for word in NON_FINITE_WORDS]) & as_string.startswith('"')
    return F.when(overflow, F.regexp_replace(found, '"', "")).otherwise(found)


def _member_errors(node: ObjectNode, spec: FieldSpec) -> Column:
    """The type errors of one member of ``node``'s objects (an array: NULL where there is none)."""
    kind = json_kind(spec)
    label = node.path(spec.name)

    def mismatch(texts: Column) -> Column:
        return let(
            F.filter(texts, lambda t: t.isNotNull() & ~_is_kind(t, kind)),
            lambda bad: error_if(
                F.size(bad) > 0,
                "type_mismatch",
                label,
                F.concat(
                    F.lit(f"{label} expected {spec.type}, got "),
                    preview(F.array_join(bad, ", ")),
                    F.lit(" ("),
                    _kind_of(bad.getItem(0)),
                    F.lit(")"),
                ),
            ),
        )

    def errors(texts: Column) -> Column:
        found = [mismatch(texts)]
        if spec.type == "array" and spec.items is not None and spec.items.type not in ("struct", "array"):
            elements = _elements_error(texts, spec, f"{label}[]")
            found.extend([elements] if elements is not None else [])
        return F.array(*found)

    return let(F.transform(node.texts, lambda text: _member_text(text, spec.name)), errors)


def token_errors(nodes: list[ObjectNode]) -> Column:
    """A ``type_mismatch`` for each member written as another JSON type than its field's, by path.

    In the record itself only the values Spark coerces (strings, timestamps, dates) and decimals are
    checked: it refuses the others, and the record's type errors name them already.
    """
    errors = [
        _member_errors(node, spec)
        for node in nodes
        for spec in node.spec.fields or ()
        if node.label or spec.type in COERCED or DECIMAL_RE.match(spec.type)
    ]
    if not errors:
        return F.array().cast(T.ArrayType(ERROR_TYPE))
    return F.filter(F.concat(*errors), lambda e: e.isNotNull())
