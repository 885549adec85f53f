"""The inferred contract as reviewable YAML: a header that says what it was inferred from and what a
human must review, every field, and the suggestions as comments to uncomment; pure Python.

Example::

    text = contract_yaml(contract, inferred, summary)
    parse_contract(yaml.safe_load(text), path) == contract   # always: checked by contract_yaml
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from feedguard.contracts.contract import Contract, parse_contract
from feedguard.contracts.contract_options import CsvOptions
from feedguard.contracts.infer_fields import InferredFields
from feedguard.contracts.infer_profile import SampleProfile

MAX_LISTED_UNPARSEABLE = 20
PLACEHOLDER_OWNER = "TO BE REVIEWED: the partner team that owns this feed"
PLACEHOLDER_EMAIL = "owner@example.invalid"
_REVIEW = (
    "owner, description and effective_from (placeholders)",
    "required: true means only 'present and non-null in every sample record'",
    "pii marks, and the commented suggestions below (uncomment the ones that hold for the feed)",
    "every issue above: the contract does what its resolution says until you decide otherwise",
)


@dataclass
class SampleSummary:
    """What the contract was inferred from, for its header and the command's report."""

    profile: SampleProfile
    files: list[str]
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> why it could not be read
    truncated_at: int | None = None  # the sample was cut at this many lines
    spark_guess: dict[str, str] = field(default_factory=dict)  # field -> Spark's inferred type


def build_contract(
    source: str,
    dataset: str,
    inferred: InferredFields,
    summary: SampleSummary,
    *,
    encoding: str = "utf-8",
    effective_from: dt.date | None = None,
    owner: tuple[str, str] = (PLACEHOLDER_OWNER, PLACEHOLDER_EMAIL),
) -> Contract:
    """Version 1 of the contract, validated like any contract file."""
    profile = summary.profile
    data: dict[str, Any] = {
        "source": source,
        "dataset": dataset,
        "version": 1,
        "effective_from": effective_from or dt.date.today(),
        "owner": {"name": owner[0], "email": owner[1]},
        "description": f"Inferred by feedguard contracts infer from {profile.parsed} records in "
        f"{len(summary.files)} file(s): review before use.",
        "format": profile.format,
        "encoding": encoding,
        "timestamp_format": inferred.timestamp_format,
        "fields": [f.model_dump() for f in inferred.specs],
    }
    if profile.format == "csv":
        data["csv"] = CsvOptions(delimiter=profile.delimiter).model_dump()
    return parse_contract(data, Path(f"{dataset}.v1.yaml"))


def _scalar(value: Any) -> str:
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=1 << 20).strip()
    return text[1:-1]


def _field_lines(
    data: dict[str, Any], path: str, indent: int, notes: dict[str, list[str]], dash: bool
) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        if key in ("fields", "items"):
            continue
        lead = pad[:-2] + "- " if dash and not lines else pad
        lines.append(f"{lead}{key}: {_scalar(value)}")
    lines += [f"{pad}# {note}" for note in notes.get(path, [])]
    if data.get("fields"):
        lines.append(f"{pad}fields:")
        for child in data["fields"]:
            lines += _field_lines(child, f"{path}.{child['name']}", indent + 4, notes, True)
    if data.get("items"):
        lines.append(f"{pad}items:")
        lines += _field_lines(data["items"], f"{path}[]", indent + 2, notes, False)
    return lines


def _header(summary: SampleSummary, inferred: InferredFields) -> list[str]:
    profile = summary.profile
    bad = profile.unparseable_by_file()
    lines = [
        "Inferred by `feedguard contracts infer`: a first contract to REVIEW, not to trust.",
        f"Sample: {len(summary.files)} file(s), {profile.parsed} records parsed, {len(profile.unparseable)} "
        f"unparseable, {profile.blank} blank line(s)"
        + (f"; cut at the first {summary.truncated_at} lines" if summary.truncated_at else ""),
    ]
    for file in summary.files:
        if file in summary.unreadable:
            lines.append(f"  {file}: not read ({summary.unreadable[file]})")
        else:
            extra = f", {profile.excluded[file]} under another header" if profile.excluded[file] else ""
            lines.append(f"  {file}: {profile.records[file]} parsed, {bad[file]} unparseable{extra}")
    if profile.unparseable:
        lines.append(f"Unparseable records (they did not shape the schema): {len(profile.unparseable)}")
        reasons = Counter(u.reason.split(" (", 1)[0] for u in profile.unparseable)
        lines += [f"  {count} x {reason}" for reason, count in reasons.most_common()]
        lines += [f"  {u.location}: {u.reason}" for u in profile.unparseable[:MAX_LISTED_UNPARSEABLE]]
    if inferred.issues:
        lines.append(f"Issues ({len(inferred.issues)}): evidence, and what this contract does about each")
        for issue in inferred.issues:
            lines.append(f"  - [{issue.kind}] {issue.field}: {issue.detail}")
            lines += [f"      evidence: {e}" for e in issue.evidence]
            lines.append(f"      resolution: {issue.resolution}")
    guesses = [f"{name} {t}" for name, t in summary.spark_guess.items()]
    if guesses:
        lines.append("Spark's first guess, for comparison: " + ", ".join(guesses))
    lines.append("Before use, review:")
    lines += [f"  - {item}" for item in _REVIEW]
    return lines


def report_text(summary: SampleSummary, inferred: InferredFields) -> str:
    """The header of the contract as a plain report (what the command prints)."""
    return "\n".join(_header(summary, inferred)) + "\n"


def contract_yaml(contract: Contract, inferred: InferredFields, summary: SampleSummary) -> str:
    """The contract's YAML with its header and commented suggestions; it loads back to ``contract``."""
    data = contract.model_dump(mode="json", exclude_defaults=True)
    data = {"source": contract.source, "dataset": contract.dataset, "version": contract.version, **data}
    fields = data.pop("fields")
    header = [f"# {line}".rstrip() for line in _header(summary, inferred)]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 20).splitlines()
    lines = [*header, *body, "fields:"]
    for spec in fields:
        lines += _field_lines(spec, spec["name"], 4, inferred.notes, True)
    text = "\n".join(lines) + "\n"
    loaded = parse_contract(yaml.safe_load(text), Path(f"{contract.dataset}.v1.yaml"))
    if loaded != contract:
        raise AssertionError(f"the YAML written for {contract.key} does not load back to the same contract")
    return text
