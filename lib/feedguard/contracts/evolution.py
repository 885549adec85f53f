"""Contract evolution: the difference between two versions and the compatibility it keeps.

Compatibility follows the AWS Glue Schema Registry modes:

* ``BACKWARD``: the new version can read data written under the old one (fields may be
  removed, optional fields added; no new required field, no type change, no tighter constraint);
* ``FORWARD``: the old version can read data written under the new one (fields may be added,
  optional fields removed);
* ``FULL``: both; ``NONE``: neither (a breaking change).

Example::

    diff = diff_contracts(v1, v2)
    diff.compatibility  # 'BACKWARD'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from feedguard.contracts.contract import Contract, FieldSpec

# Type changes a reader of the wider type accepts.
WIDENINGS = {("integer", "long"), ("integer", "double"), ("long", "double")}


@dataclass(frozen=True)
class FieldChange:
    name: str
    kind: str  # added, removed, type_changed, now_required, now_optional, constraints_tightened, ...
    detail: str
    backward_ok: bool
    forward_ok: bool


@dataclass(frozen=True)
class ContractDiff:
    old_version: int
    new_version: int
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    @property
    def backward_compatible(self) -> bool:
        return all(c.backward_ok for c in self.changes)

    @property
    def forward_compatible(self) -> bool:
        return all(c.forward_ok for c in self.changes)

    @property
    def compatibility(self) -> str:
        """The strongest Glue Schema Registry mode the change satisfies."""
        if self.backward_compatible and self.forward_compatible:
            return "FULL"
        if self.backward_compatible:
            return "BACKWARD"
        if self.forward_compatible:
            return "FORWARD"
        return "NONE"

    @property
    def breaking(self) -> bool:
        return self.compatibility == "NONE"

    def satisfies(self, mode: str) -> bool:
        return {
            "NONE": True,
            "BACKWARD": self.backward_compatible,
            "FORWARD": self.forward_compatible,
            "FULL": self.backward_compatible and self.forward_compatible,
        }[mode]

    def to_markdown(self) -> str:
        lines = ["| field | change | detail | backward | forward |", "|---|---|---|---|---|"]
        for c in self.changes:
            detail = c.detail.replace("|", "\\|")  # header text may hold a pipe
            lines.append(
                f"| `{c.name}` | {c.kind} | {detail} | {'yes' if c.backward_ok else 'no'} "
                f"| {'yes' if c.forward_ok else 'no'} |"
            )
        if not self.changes:
            lines.append("| | no field changes | | yes | yes |")
        return "\n".join(lines)


def _type_change(name: str, old: FieldSpec, new: FieldSpec) -> FieldChange | None:
    if old.type == new.type:
        return None
    widening = (old.type, new.type) in WIDENINGS
    narrowing = (new.type, old.type) in WIDENINGS
    return FieldChange(name, "type_changed", f"{old.type} -> {new.type}", widening, narrowing)


def _constraint_changes(name: str, old: FieldSpec, new: FieldSpec) -> list[FieldChange]:
    changes = []
    tighter = looser = False
    if old.allowed_values != new.allowed_values:
        old_set, new_set = set(old.allowed_values or ()), set(new.allowed_values or ())
        tighter |= new.allowed_values is not None and (old.allowed_values is None or not old_set <= new_set)
        looser |= old.allowed_values is not None and (new.allowed_values is None or not new_set <= old_set)
    for attr, lower_is_tighter in (("min", False), ("max", True)):
        a, b = getattr(old, attr), getattr(new, attr)
        if a == b:
            continue
        if b is None:
            looser = True
        elif a is None or (b < a) == lower_is_tighter:
            tighter = True
        else:
            looser = True
    if old.regex != new.regex:
        tighter = tighter or new.regex is not None
        looser = looser or old.regex is not None
    if tighter:
        changes.append(
            FieldChange(name, "constraints_tightened", "old data may break the new rules", False, True)
        )
    if looser:
        changes.append(
            FieldChange(name, "constraints_loosened", "new data may break the old rules", True, False)
        )
    return changes


def diff_contracts(old: Contract, new: Contract) -> ContractDiff:
    """Every field-level change from ``old`` to ``new`` with its compatibility."""
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    changes: list[FieldChange] = []
    for name, spec in new_fields.items():
        if name not in old_fields:
            kind = "added_required" if spec.required else "added_optional"
            changes.append(FieldChange(name, kind, f"{spec.type}", not spec.required, True))
    for name, spec in old_fields.items():
        if name not in new_fields:
            kind = "removed_required" if spec.required else "removed_optional"
            changes.append(FieldChange(name, kind, f"{spec.type}", True, not spec.required))
            continue
        other = new_fields[name]
        type_change = _type_change(name, spec, other)
        if type_change:
            changes.append(type_change)
        if spec.delivered_name != other.delivered_name and new.format == "csv" and new.csv.header:
            detail = f"header {spec.delivered_name!r} -> {other.delivered_name!r}"
            changes.append(FieldChange(name, "header_renamed", detail, False, False))
        if spec.required and not other.required:
            changes.append(FieldChange(name, "now_optional", "required -> optional", True, False))
        if other.required and not spec.required:
            changes.append(FieldChange(name, "now_required", "optional -> required", False, True))
        changes.extend(_constraint_changes(name, spec, other))
    if old.format == "csv" and new.format == "csv" and old.csv != new.csv:
        changes.append(FieldChange("<csv>", "csv_options_changed", f"{old.csv} -> {new.csv}", False, False))
    if old.format == "csv" and set(old_fields) != set(new_fields):
        changes.append(
            FieldChange(
                "<columns>",
                "columns_changed",
                "CSV columns are positional: old and new files differ in width",
                False,
                False,
            )
        )
    if old.format == "csv" and [f.name for f in old.fields if f.name in new_fields] != [
        f.name for f in new.fields if f.name in old_fields
    ]:
        changes.append(
            FieldChange("<columns>", "columns_reordered", "CSV columns are positional", False, False)
        )
    return ContractDiff(old.version, new.version, tuple(changes))


def check_contracts(contracts_dir: str) -> list[str]:
    """Problems with the contract files: invalid files, version order, broken compatibility claims."""
    from pathlib import Path

    from feedguard.contracts.contract import load_contract
    from feedguard.errors import ContractError

    problems: list[str] = []
    by_dataset: dict[tuple[str, str], list[Contract]] = {}
    for path in sorted(Path(contracts_dir).glob("*/*.y*ml")):
        try:
            contract = load_contract(path)
        except ContractError as exc:
            problems.append(str(exc))
            continue
        if path.parent.name != contract.source:
            problems.append(
                f"{path}: lives under {path.parent.name}/ but declares source {contract.source!r}"
            )
        by_dataset.setdefault((contract.source, contract.dataset), []).append(contract)
    for (source, dataset), versions in sorted(by_dataset.items()):
        versions.sort(key=lambda c: c.version)
        numbers = [c.version for c in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{source}/{dataset}: versions must be 1..N without gaps, found {numbers}")
        for old, new in itertools.pairwise(versions):
            if new.effective_from < old.effective_from:
                problems.append(
                    f"{source}/{dataset}: v{new.version} takes effect {new.effective_from}, "
                    f"before v{old.version} ({old.effective_from})"
                )
            diff = diff_contracts(old, new)
            if not diff.satisfies(new.compatibility):
                problems.append(
                    f"{source}/{dataset}: v{new.version} declares {new.compatibility} compatibility "
                    f"but the change from v{old.version} is {diff.compatibility}: "
                    + "; ".join(f"{c.name} {c.kind}" for c in diff.changes if not _ok(c, new.compatibility))
                )
    return problems


def _ok(change: FieldChange, mode: str) -> bool:
    if mode == "BACKWARD":
        return change.backward_ok
    if mode == "FORWARD":
        return change.forward_ok
    if mode == "FULL":
        return change.backward_ok and change.forward_ok
    return True
