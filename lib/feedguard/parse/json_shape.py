"""A cheap, conservative test that a JSON record holds exactly what its typed parse shows.

Spark's PERMISSIVE ``from_json`` reads the first JSON value of a record and silently ignores
trailing content, unknown keys and keys that differ from a field only in case. Finding those
exactly takes two more tokenisations of every record (``json_array_length`` and
``json_object_keys``) and a regex scan for invalid UTF-8: together more than the parse itself.

:func:`shape_may_be_bad` is the fast path's stand-in, built from byte searches only (code-generated,
no regex, no second parse). It compares counts in the raw text with the counts the typed record
implies:

* ``":`` (a key: a closing quote right before the colon) with the keys the typed values account
  for: one per non-null field, children of structs and of array elements included. A NULL field may
  be absent or written as ``"f":null``; at top level ``"f":`` in the text tells which (inside a JSON
  string every quote is escaped, so the bytes ``"f":`` are a key), unless a nested field has the same
  name; elsewhere a NULL makes the count unknown and the record flagged;
* ``}`` with the objects (the record and every struct value); the text must start with ``{`` and
  end with ``}``. Trailing content after a complete object then always shows: the object already holds
  every ``}`` the count allows, and the trailing part ends with one more;
* a quote followed by whitespace (``"f" :`` would hide a key from the count), NUL, and U+FFFD or ``?`` in
  the parsed strings (Spark decodes invalid UTF-8 to U+FFFD, and Java stores a lone surrogate escape such
  as ``\\ud800`` as ``?``; outside a string either breaks the parse);
* the letters ``e`` and ``E`` with the ones the keys, the parsed strings and the booleans (``true``,
  ``false``) account for: any other is an exponent (``1e1``, which a decimal field must not hold
  unless its contract allows it; see :mod:`feedguard.parse.exactness`). An escaped ``\\u0065`` or ``\\u0045``
  would hide one, so it flags the record; where a value's text cannot be told from its typed value (a
  timestamp whose format may spell words, nesting too deep to list), a regex searches for a digit
  before the letter instead.

A duplicated key (``{"status":"placed",...,"status":"delivered"}``) always shows too: the typed record
holds one value per key, so the text has one ``":`` more than the count (or the value it lost held keys
or objects that are not counted).

A brace, quote-colon or U+FFFD inside a string value only makes the count differ, so the record is
flagged and gets the exact checks: the test can flag a good record, never pass a bad one.
"""

from __future__ import annotations

import re
from functools import reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.parse.flags import may_hold_null

REPLACEMENT_CHAR = "\ufffd"
# Java stores a lone surrogate escape (``\ud800``) as ``?`` in the parsed string; in the text every
# surrogate escape starts with one of these.
LONE_SURROGATE_MARK = "?"
SURROGATE_ESCAPES = ("\\ud", "\\uD")
SPACE_AFTER_QUOTE = ('" ', '"\t', '"\r', '"\n')


def occurrences(text: Column, token: str) -> Column:
    """Bytes taken by ``token`` in ``text``: its count times its length in bytes (a byte search)."""
    return F.octet_length(text) - F.octet_length(F.replace(text, F.lit(token), F.lit("")))


def _any(conditions: list[Column]) -> Column:
    return reduce(lambda a, b: a | b, conditions, F.lit(False))


def _sum(counts: list[Column]) -> Column:
    return reduce(lambda a, b: a + b, counts, F.lit(0))


class _Counts:
    """Keys, objects and key letters ``e``/``E`` a value's JSON text holds (NULL: cannot be told)."""

    def __init__(self, keys: Column, objects: Column, letters: Column) -> None:
        self.keys, self.objects, self.letters = keys, objects, letters


def _letters(name: str) -> int:
    """How many exponent letters (``e``, ``E``) a key's text holds."""
    return name.count("e") + name.count("E")


def _inner_names(spec: FieldSpec) -> set[str]:
    """Names of the fields inside ``spec``: struct children and array elements' children, any depth."""
    names: set[str] = set()
    for child in spec.fields or ():
        names |= {child.name} | _inner_names(child)
    if spec.items is not None:
        names |= _inner_names(spec.items)
    return names


def _flat_struct_items(item: FieldSpec) -> bool:
    return (
        item.type == "struct"
        and bool(item.fields)
        and all(c.type not in ("struct", "array") for c in item.fields or ())
    )


def _value_counts(value: Column, spec: FieldSpec) -> _Counts:
    """What a non-null ``value`` of ``spec`` holds in its JSON text."""
    if spec.type == "struct" and spec.fields:
        members = [_member_counts(value.getField(c.name), c) for c in spec.fields]
        return _Counts(
            _sum([m.keys for m in members]),
            F.lit(1) + _sum([m.objects for m in members]),
            _sum([m.letters for m in members]),
        )
    if spec.type == "array" and spec.items is not None:
        item, size = spec.items, F.size(value)
        if item.type not in ("struct", "array"):
            return _Counts(F.lit(0), F.lit(0), F.lit(0))
        if _flat_struct_items(item):
            children = list(item.fields or ())
            # a NULL required child flags the record anyway (contract checks): only optional ones count
            optional = [may_hold_null(value.getField(c.name), c) for c in children if not c.required]
            known = ~_any(optional)
            letters = sum(_letters(c.name) for c in children)
            return _Counts(
                F.when(known, size * len(children)), F.when(known, size), F.when(known, size * letters)
            )
        empty = size == 0
        return _Counts(F.when(empty, 0), F.when(empty, 0), F.when(empty, 0))
    return _Counts(F.lit(0), F.lit(0), F.lit(0))


def _member_counts(value: Column, spec: FieldSpec, raw: Column | None = None) -> _Counts:
    """What a member ``"name": value`` of an object adds; ``raw`` tells a NULL's key apart (top level).

    A required member that is NULL flags the record anyway (contract checks), so it counts as present.
    """
    inner = _value_counts(value, spec)
    if spec.required:
        null_key = F.lit(1)
    elif raw is None:
        null_key = F.lit(None).cast("int")
    else:
        null_key = F.when(raw.contains(f'"{spec.name}":'), 1).otherwise(0)
    present = value.isNotNull()
    return _Counts(
        F.when(present, inner.keys + 1).otherwise(null_key),
        F.when(present, inner.objects).otherwise(0),
        F.when(present, inner.letters + _letters(spec.name)).otherwise(null_key * _letters(spec.name)),
    )


def _strings(value: Column, spec: FieldSpec) -> list[Column] | None:
    """The parsed string values inside ``value`` (as strings to search), or None when too deep."""
    if spec.type == "string":
        return [value]
    if spec.type == "struct" and spec.fields:
        found: list[Column] = []
        for child in spec.fields:
            inner = _strings(value.getField(child.name), child)
            if inner is None:
                return None
            found.extend(inner)
        return found
    if spec.type == "array" and spec.items is not None:
        item = spec.items
        if item.type == "string":
            return [F.array_join(value, "")]
        if _flat_struct_items(item):
            return [F.array_join(value.getField(c.name), "") for c in item.fields or () if c.type == "string"]
        if item.type in ("struct", "array"):
            return None
    return []


WORDLESS_DATETIME_LETTERS = set("yuMdDHhkKmsSnXxZ")  # pattern letters that never spell a word


def _wordless(pattern: str | None) -> bool:
    """True when text matching the datetime ``pattern`` can hold no letter ``e``/``E``."""
    if pattern is None:
        return False  # Spark's lenient default parsing also takes zone names ("Europe/Berlin")
    literals = re.findall(r"'([^']*)'", pattern)
    letters = re.sub(r"'[^']*'", "", pattern)
    words = [c for c in letters if c.isalpha() and c not in WORDLESS_DATETIME_LETTERS]
    return not words and "MMM" not in letters and not any(_letters(text) for text in literals)


def _value_letters(value: Column, spec: FieldSpec, timestamp_format: str | None) -> Column | None:
    """Exponent letters the text of a typed value holds outside its keys (0 for NULL), or None when the
    typed value cannot tell (strings are counted apart: see :func:`_strings`)."""
    if spec.type == "boolean":
        return F.when(value.isNotNull(), 1).otherwise(0)  # "true" and "false" hold one "e" each
    if spec.type in ("timestamp", "date"):
        pattern = spec.format or (timestamp_format if spec.type == "timestamp" else None)
        return F.lit(0) if _wordless(pattern) else None
    if spec.type == "struct" and spec.fields:
        found = [_value_letters(value.getField(c.name), c, timestamp_format) for c in spec.fields]
        return None if any(f is None for f in found) else _sum([f for f in found if f is not None])
    if spec.type == "array" and spec.items is not None:
        item = spec.items
        if item.type == "boolean":
            return F.coalesce(F.size(F.array_compact(value)), F.lit(0))
        if item.type in ("struct", "array"):
            if not _flat_struct_items(item):
                return None
            found = [_element_letters(value.getField(c.name), c, timestamp_format) for c in item.fields or ()]
            return None if any(f is None for f in found) else _sum([f for f in found if f is not None])
        return _element_letters(value, item, timestamp_format)
    return F.lit(0)


def _element_letters(values: Column, spec: FieldSpec, timestamp_format: str | None) -> Column | None:
    """As :func:`_value_letters`, for an array of primitive values."""
    if spec.type == "boolean":
        return F.coalesce(F.size(F.array_compact(values)), F.lit(0))
    if spec.type in ("timestamp", "date"):
        return _value_letters(F.lit(None), spec, timestamp_format)
    return F.lit(0)


def _exponent_may_hide(raw: Column, contract: Contract, key_letters: Column) -> Column:
    """True unless every ``e``/``E`` of ``raw`` is accounted for (a key, a string, a boolean)."""
    strings: list[Column] = []
    others: list[Column] = []
    for spec in contract.fields:
        found = _strings(F.col(spec.name), spec)
        letters = _value_letters(F.col(spec.name), spec, contract.timestamp_format)
        if found is None or letters is None:
            return raw.rlike("[0-9][eE]")  # a regex (slower): only contracts whose values cannot tell
        strings.extend(found)
        others.append(letters)
    text = F.concat_ws("", *strings) if strings else F.lit("")
    accounted = key_letters + occurrences(text, "e") + occurrences(text, "E") + _sum(others)
    in_raw = occurrences(raw, "e") + occurrences(raw, "E")
    escaped = raw.contains("\\u0065") | raw.contains("\\u0045")
    return ~F.coalesce(in_raw == accounted, F.lit(False)) | escaped


def _has_replacement_char(raw: Column, contract: Contract) -> Column:
    """U+FFFD (an invalid UTF-8 byte) or ``?`` (what a lone surrogate escape such as ``\\ud800`` becomes)
    in a parsed string."""
    strings: list[Column] = []
    for spec in contract.fields:
        found = _strings(F.col(spec.name), spec)
        if found is None:  # too deep to list: search the whole record (a regex, slower)
            return raw.rlike("\\x{FFFD}") | _any([raw.contains(escape) for escape in SURROGATE_ESCAPES])
        strings.extend(found)
    marks = (REPLACEMENT_CHAR, LONE_SURROGATE_MARK)
    return _any([F.coalesce(s.contains(mark), F.lit(False)) for s in strings for mark in marks])


def _members(raw: Column, contract: Contract) -> list[_Counts]:
    nested = set().union(*(_inner_names(spec) for spec in contract.fields))
    return [
        _member_counts(F.col(spec.name), spec, raw if spec.name not in nested else None)
        for spec in contract.fields
    ]


def key_count(raw: Column, contract: Contract) -> Column:
    """How many keys the typed fields account for in ``raw`` (NULL when they cannot tell)."""
    return _sum([m.keys for m in _members(raw, contract)])


def shape_may_be_bad(raw: Column, contract: Contract) -> Column:
    """True unless the typed fields account for every key and object in ``raw`` (see the module)."""
    members = _members(raw, contract)
    keys = _sum([m.keys for m in members])
    objects = F.lit(1) + _sum([m.objects for m in members])
    key_letters = _sum([m.letters for m in members])
    matches = (
        raw.startswith("{")
        & raw.endswith("}")
        & (occurrences(raw, '":') == keys * 2)
        & (occurrences(raw, "}") == objects)
    )
    odd_bytes = _any([raw.contains(token) for token in (*SPACE_AFTER_QUOTE, "\u0000")])
    return (
        ~F.coalesce(matches, F.lit(False))
        | odd_bytes
        | _has_replacement_char(raw, contract)
        | _exponent_may_hide(raw, contract, key_letters)
    )
