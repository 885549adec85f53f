"""Every JSON object of a record that the contract describes, as its JSON text (flagged records only).

The record itself, each struct value and each element of an array of structs, at any depth, is a
:class:`ObjectNode`: a path label (``""`` for the record, ``items[]`` for the elements of ``items``,
``address`` for a struct), the struct spec whose fields its objects may hold, and an array with the JSON
text of every such object in the record. :mod:`feedguard.parse.json_keys` reads their keys (repeated,
unknown, differing only in case) and :mod:`feedguard.parse.json_tokens` the JSON type of each member.

The texts of nested objects come from one more parse of their parent's text, with the nested members read
as strings (Spark keeps an object's JSON text when it reads it into a string), so this uses lambdas and
extra parses: it runs for flagged records only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract, FieldSpec


@dataclass(frozen=True)
class ObjectNode:
    """The objects found at one place of the contract's structure."""

    label: str  # "" for the record, else the path of the objects ("items[]", "address")
    spec: FieldSpec  # a struct: the fields the objects may hold
    texts: Column  # array<string>: the JSON text of every such object in the record

    def path(self, key: str) -> str:
        """The path of a key of these objects: ``status``, ``items[].price``."""
        return f"{self.label}.{key}" if self.label else key

    @property
    def prefix(self) -> str:
        """What :meth:`path` puts before a key (for keys known only as a column)."""
        return f"{self.label}." if self.label else ""


def record_spec(contract: Contract) -> FieldSpec:
    """The record as a struct of the contract's fields."""
    return FieldSpec(name="record", type="struct", fields=contract.fields)


def _texts_type(spec: FieldSpec) -> T.DataType | None:
    """How a value is read to reach its objects: each object as its JSON text (None: holds no object)."""
    if spec.type == "struct":
        return T.StringType()
    if spec.type == "array" and spec.items is not None:
        inner = _texts_type(spec.items)
        return None if inner is None else T.ArrayType(inner, True)
    return None


def object_nodes(contract: Contract, raw: Column) -> list[ObjectNode]:
    """The record (``raw``) and every object nested in it that the contract describes, depth first."""
    return list(_objects(F.array(raw), record_spec(contract), ""))


def _objects(texts: Column, spec: FieldSpec, label: str) -> Iterator[ObjectNode]:
    yield ObjectNode(label, spec, texts)
    nested = [(child, kind) for child in spec.fields or () if (kind := _texts_type(child)) is not None]
    if not nested:
        return
    schema = T.StructType([T.StructField(child.name, kind, True) for child, kind in nested])
    parsed = F.transform(texts, lambda text: F.from_json(text, schema))
    for child, _ in nested:
        values = F.transform(parsed, lambda members: members.getField(child.name))  # noqa: B023
        yield from _values(values, child, f"{label}.{child.name}" if label else child.name)


def _values(values: Column, spec: FieldSpec, label: str) -> Iterator[ObjectNode]:
    """The objects inside ``values`` (an array of a struct's text, or of arrays of such texts)."""
    present = F.filter(values, lambda value: value.isNotNull())
    if spec.type == "struct":
        yield from _objects(present, spec, label)
    else:
        assert spec.items is not None
        yield from _values(F.flatten(present), spec.items, f"{label}[]")
