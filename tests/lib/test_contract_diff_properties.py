"""Properties of the diff between two contract versions (feedguard.contracts.evolution), on generated ones.

What the code defines: a new optional field keeps both directions (FULL) in JSON; a new required field breaks
BACKWARD (old data lacks it) and a removed required field breaks FORWARD (old readers need it); in CSV any
change of columns is NONE (positional); the diff one way is the mirror of the diff the other way.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feedguard.contracts.contract import Contract
from feedguard.contracts.evolution import diff_contracts

NAMES = ("order_id", "amount", "status", "placed_at", "note", "qty")
NUMERIC = ("integer", "long", "double", "decimal(10,2)")
PROPERTIES = settings(derandomize=True, max_examples=60, deadline=None)


@st.composite
def field_specs(draw: st.DrawFn, name: str, kind: str | None = None) -> dict[str, Any]:
    """One field: a primitive type (any, unless given), required or not, with the constraints it allows."""
    kind = kind or draw(st.sampled_from(("string", "boolean", "date", "timestamp", *NUMERIC)))
    spec: dict[str, Any] = {"name": name, "type": kind, "required": draw(st.booleans())}
    if kind in NUMERIC:
        bound = st.none() | st.integers(-100, 100).map(float)
        spec.update(min=draw(bound), max=draw(bound))
    if kind == "string":
        spec["allowed_values"] = draw(st.none() | st.lists(st.sampled_from("abcd"), unique=True).map(tuple))
        spec["regex"] = draw(st.sampled_from((None, "^[a-z]+$", "^.{1,8}$")))
    return spec


@st.composite
def next_versions(draw: st.DrawFn, old: Contract) -> Contract:
    """The next version: each field kept, given new constraints, a new type or dropped; maybe one added."""
    fields = []
    for spec in old.fields:
        change = draw(st.sampled_from(("keep", "constraints", "constraints", "type", "drop")))
        if change == "keep":
            fields.append(spec.model_dump(exclude_defaults=True))
        elif change != "drop":
            fields.append(draw(field_specs(spec.name, spec.type if change == "constraints" else None)))
    added = [n for n in NAMES if n not in old.field_names][:1]
    fields += [draw(field_specs(name)) for name in added if draw(st.booleans())]
    return contract_of(fields or [{"name": "kept", "type": "string"}], old.format, old.version + 1)


@st.composite
def contracts(draw: st.DrawFn, fmt: str = "json", version: int = 1) -> Contract:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    return contract_of([draw(field_specs(name)) for name in names], fmt, version)


def contract_of(fields: list[dict[str, Any]], fmt: str, version: int) -> Contract:
    return Contract.model_validate(
        {
            "source": "partner",
            "dataset": "orders",
            "version": version,
            "effective_from": "2026-01-01",
            "owner": {"name": "Partner", "email": "data@partner.example"},
            "format": fmt,
            "fields": fields,
        }
    )


def with_field(contract: Contract, spec: dict[str, Any]) -> Contract:
    fields = [f.model_dump(exclude_defaults=True) for f in contract.fields] + [spec]
    return contract_of(fields, contract.format, contract.version + 1)


def without_field(contract: Contract, name: str) -> Contract:
    fields = [f.model_dump(exclude_defaults=True) for f in contract.fields if f.name != name]
    return contract_of(fields, contract.format, contract.version + 1)


@PROPERTIES
@given(st.sampled_from(("json", "csv")).flatmap(lambda fmt: contracts(fmt=fmt)))
def test_a_version_compared_with_itself_has_no_changes_and_is_fully_compatible(contract: Contract) -> None:
    diff = diff_contracts(contract, contract)

    assert (diff.changes, diff.compatibility, diff.breaking) == ((), "FULL", False)


@PROPERTIES
@given(contracts(), field_specs("added_field"))
def test_adding_an_optional_json_field_keeps_both_directions(
    contract: Contract, spec: dict[str, Any]
) -> None:
    diff = diff_contracts(contract, with_field(contract, {**spec, "required": False}))

    assert [c.kind for c in diff.changes] == ["added_optional"]
    assert (diff.backward_compatible, diff.compatibility) == (True, "FULL")


@PROPERTIES
@given(contracts(), field_specs("added_field"))
def test_adding_a_required_json_field_breaks_backward_compatibility(
    contract: Contract, spec: dict[str, Any]
) -> None:
    diff = diff_contracts(contract, with_field(contract, {**spec, "required": True}))

    assert [c.kind for c in diff.changes] == ["added_required"]
    assert (diff.backward_compatible, diff.compatibility) == (False, "FORWARD")


@PROPERTIES
@given(contracts(), field_specs("removed_field"))
def test_removing_a_required_json_field_breaks_forward_compatibility(
    contract: Contract, spec: dict[str, Any]
) -> None:
    old = with_field(contract, {**spec, "required": True})
    diff = diff_contracts(old, without_field(old, "removed_field"))

    assert [c.kind for c in diff.changes] == ["removed_required"]
    assert (diff.forward_compatible, diff.compatibility) == (False, "BACKWARD")


@PROPERTIES
@given(contracts(fmt="csv"), field_specs("added_field"))
def test_adding_or_removing_a_csv_column_is_breaking(contract: Contract, spec: dict[str, Any]) -> None:
    wider = with_field(contract, {**spec, "required": False})

    assert diff_contracts(contract, wider).breaking
    assert diff_contracts(wider, contract).breaking


@PROPERTIES
@given(st.sampled_from(("json", "csv")).flatmap(lambda fmt: contracts(fmt=fmt)), st.data())
def test_the_diff_one_way_mirrors_the_diff_the_other_way(old: Contract, data: st.DataObject) -> None:
    new = data.draw(next_versions(old))

    there, back = diff_contracts(old, new), diff_contracts(new, old)

    assert there.backward_compatible == back.forward_compatible
    assert there.forward_compatible == back.backward_compatible
