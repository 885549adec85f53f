"""The keys of a record's objects: repeated, unknown, or differing from a field only in case.

Spark's parser keeps the last value of a repeated key (``{"status":"placed",...,"status":"delivered"}``)
and drops keys the schema lacks, at every depth, without a word; a key that differs from a field only in
case leaves the field NULL. The same rules hold in every object the contract describes (the record, struct
values, elements of arrays of structs, any depth: :mod:`feedguard.parse.json_objects`), and keys are
named by path: ``status``, ``items[].discount``.

* a repeated key is a ``duplicate_key``;
* a key the contract does not have is an ``unexpected_field``, in the record as inside ``items``; what
  a file of them means (a structural change and the next contract version it proposes, or corruption)
  the contract's thresholds and compatibility mode decide, as for any error;
* a key that differs from a field only in case is a ``field_case_mismatch``.

It uses lambdas and extra parses, so it runs for flagged records only: the byte counts of
:mod:`feedguard.parse.json_shape` flag every such record (the typed record holds one value per known
key, the text one ``":`` more).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.parse.errors import error_if
from feedguard.parse.json_objects import ObjectNode

NO_NAMES = "array<string>"


def _or_none(names: Column) -> Column:
    return F.coalesce(names, F.array().cast(NO_NAMES))


def _labelled(node: ObjectNode, keys: Column) -> Column:
    return F.transform(keys, lambda key: F.concat(F.lit(node.prefix), key))


def _repeated(keys: Column) -> Column:
    """The keys that occur more than once, each once, sorted."""
    repeated = F.filter(keys, lambda k: F.size(F.filter(keys, lambda other: other == k)) > 1)
    return F.array_sort(F.array_distinct(repeated))


def _keys_of(node: ObjectNode, top_keys: Column) -> Column:
    """The keys of each object of a node (array of arrays, in order, repeats kept)."""
    if not node.label:
        return F.array(top_keys)
    return F.transform(node.texts, lambda text: F.json_object_keys(text))


def repeated_keys(nodes: list[ObjectNode], top_keys: Column) -> Column:
    """Paths of every repeated key of a record; ``top_keys`` are the record's keys, in order."""
    found = [
        _labelled(node, F.array_distinct(F.flatten(F.transform(_keys_of(node, top_keys), _repeated))))
        for node in nodes
    ]
    return F.concat(*[_or_none(names) for names in found])


def duplicate_key_error(nodes: list[ObjectNode], top_keys: Column) -> Column:
    """A ``duplicate_key`` error naming the repeated keys, or NULL."""
    names = repeated_keys(nodes, top_keys)
    detail = F.concat(
        F.lit("keys repeated in one object (the parser would keep only the last value): "),
        F.array_join(names, ", "),
    )
    return error_if(F.size(names) > 0, "duplicate_key", F.array_join(names, ","), detail)


def _unknown(node: ObjectNode, top_keys: Column) -> tuple[Column, Column]:
    """(paths of keys that differ from a field only in case, paths of the other unknown keys)."""
    names = [spec.name for spec in node.spec.fields or ()]
    lowered = F.array(*[F.lit(name.lower()) for name in names])
    keys = F.flatten(_keys_of(node, top_keys))
    unknown = F.array_except(keys, F.array(*[F.lit(name) for name in names]))
    case_only = F.filter(unknown, lambda k: F.array_contains(lowered, F.lower(k)))
    others = F.filter(unknown, lambda k: ~F.array_contains(lowered, F.lower(k)))
    return _or_none(_labelled(node, case_only)), _or_none(_labelled(node, others))


def key_errors(nodes: list[ObjectNode], top_keys: Column) -> list[Column]:
    """``field_case_mismatch`` and ``unexpected_field`` errors naming the keys by path, or NULLs."""
    found = [_unknown(node, top_keys) for node in nodes]
    case_only = F.concat(*[pair[0] for pair in found])
    unknown = F.concat(*[pair[1] for pair in found])
    return [
        error_if(
            F.size(case_only) > 0,
            "field_case_mismatch",
            F.array_join(F.array_sort(case_only), ","),
            F.concat(F.lit("keys differ from contract fields only in case: "), F.array_join(case_only, ", ")),
        ),
        error_if(
            F.size(unknown) > 0,
            "unexpected_field",
            F.array_join(F.array_sort(unknown), ","),
            F.concat(F.lit("keys not in the contract: "), F.array_join(unknown, ", ")),
        ),
    ]
