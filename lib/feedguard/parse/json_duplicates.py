"""Repeated keys in a JSON object (``{"status":"placed",...,"status":"delivered"}``).

Spark's parser keeps the last value of a repeated key and says nothing, so such a record would load
with one of its values silently dropped. This finds the repeated keys of the record's object and of
every object nested in it that the contract describes (struct values, elements of arrays of structs,
any depth), named by path: ``status``, ``items[].price``. It uses lambdas and extra parses, so it runs
for flagged records only: the byte counts of :mod:`feedguard.parse.json_shape` flag every such record (the
typed record holds one value per key, the text one ``":`` more).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec
from feedguard.parse.flags import error_if

NO_NAMES = "array<string>"


def _texts_type(spec: FieldSpec) -> T.DataType | None:
    """How a value is read to look inside its objects: each object as its JSON text (None: no object)."""
    if spec.type == "struct":
        return T.StringType()
    if spec.type == "array" and spec.items is not None:
        inner = _texts_type(spec.items)
        return None if inner is None else T.ArrayType(inner, True)
    return None


def _repeated(keys: Column) -> Column:
    """The keys that occur more than once, each once, sorted."""
    repeated = F.filter(keys, lambda k: F.size(F.filter(keys, lambda other: other == k)) > 1)
    return F.array_sort(F.array_distinct(repeated))


def _or_none(names: Column) -> Column:
    return F.coalesce(names, F.array().cast(NO_NAMES))


def _inside(text: Column, spec: FieldSpec, label: str) -> Column:
    """Paths of the repeated keys in a value read as :func:`_texts_type` (an object's text, or arrays)."""
    if spec.type == "array":
        assert spec.items is not None
        item = spec.items
        return _or_none(F.flatten(F.transform(text, lambda element: _inside(element, item, f"{label}[]"))))
    own = F.transform(_repeated(F.json_object_keys(text)), lambda k: F.concat(F.lit(f"{label}."), k))
    return F.concat(_or_none(own), _children(text, spec, label))


def _children(text: Column, spec: FieldSpec, label: str) -> Column:
    """Paths of the repeated keys inside the objects held by the members of an object's text."""
    members = [(c, _texts_type(c)) for c in spec.fields or ()]
    nested = [(c, kind) for c, kind in members if kind is not None]
    if not nested:
        return F.array().cast(NO_NAMES)
    schema = T.StructType([T.StructField(c.name, kind, True) for c, kind in nested])
    parsed = F.from_json(text, schema)
    found = [_inside(parsed.getField(c.name), c, f"{label}.{c.name}" if label else c.name) for c, _ in nested]
    return _or_none(F.concat(*found))


def repeated_keys(contract: Contract, raw: Column, keys: Column) -> Column:
    """Paths of every repeated key of a record: ``keys`` are its top-level keys, in order, repeats kept."""
    top = _or_none(_repeated(keys))
    record = FieldSpec(name="record", type="struct", fields=contract.fields)
    return F.concat(top, _children(raw, record, ""))


def duplicate_key_error(contract: Contract, raw: Column, keys: Column) -> Column:
    """A ``duplicate_key`` error naming the repeated keys, or NULL."""
    names = repeated_keys(contract, raw, keys)
    detail = F.concat(
        F.lit("keys repeated in one object (the parser would keep only the last value): "),
        F.array_join(names, ", "),
    )
    return error_if(F.size(names) > 0, "duplicate_key", F.array_join(names, ","), detail)
