"""Schema drift: the report written for a structurally changed file, with the next contract proposed.

For a file classified ``structural_change`` the job writes, under
``<lake>/_drift/<source>/<dataset>/<run_id>/``, a report (JSON and Markdown) with the schema diff
and a ready-to-review YAML of the proposed next contract version: the inferred schema
(:mod:`feedguard.contracts.drift_schema`) merged into the current contract, version bumped
(:mod:`feedguard.contracts.drift_proposal`), its compatibility stated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from feedguard.contracts.contract import Contract, contract_to_yaml
from feedguard.contracts.evolution import ContractDiff
from feedguard.lake.storage import join, write_text
from feedguard.summary import Evidence


@dataclass(frozen=True)
class DriftReport:
    file: str
    verdict_detail: str
    evidence: Evidence
    proposed: Contract
    diff: ContractDiff
    repeated_keys: tuple[str, ...] = ()  # JSON keys repeated in one object of the file

    @property
    def all_evidence(self) -> Evidence:
        """The verdict's evidence and the keys repeated in one object, if any."""
        if not self.repeated_keys:
            return self.evidence
        return {**self.evidence, "repeated_keys": list(self.repeated_keys)}

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "verdict": "structural_change",
            "detail": self.verdict_detail,
            "evidence": self.all_evidence,
            "proposed_version": self.proposed.version,
            "compatibility": self.diff.compatibility,
            "backward_compatible": self.diff.backward_compatible,
            "breaking": self.diff.breaking,
            "changes": [c.__dict__ for c in self.diff.changes],
            "renamed_columns": self.renamed_columns(),
        }

    def renamed_columns(self) -> list[dict[str, str]]:
        """Delivered names that are not valid field names, with the field that maps each one."""
        return [
            {"delivered": f.source_name, "field": f.name}
            for f in self.proposed.fields
            if f.source_name is not None
        ]

    def to_markdown(self, current: Contract) -> str:
        verdict = "breaking" if self.diff.breaking else f"compatible ({self.diff.compatibility})"
        return "\n".join(
            [
                f"# Schema drift: {current.key} in `{self.file}`",
                "",
                f"**Verdict:** structural change. {self.verdict_detail}",
                "",
                "Nothing of this file was loaded; it is quarantined byte for byte and its records are in "
                f"the dead-letter table. Owner to notify: {current.owner.name} <{current.owner.email}>.",
                "",
                f"## Proposed contract v{self.proposed.version} (from v{current.version}): {verdict}",
                "",
                self.diff.to_markdown(),
                "",
                *_renames_markdown(self.renamed_columns()),
                *_repeated_keys_markdown(self.repeated_keys),
                f"Review `{current.dataset}.v{self.proposed.version}.yaml` beside this report, commit it to "
                f"`contracts/{current.source}/`, then run `feedguard replay --source {current.source} "
                f"--dataset {current.dataset}` to load the quarantined records.",
                "",
                "## Evidence",
                "",
                "```json",
                json.dumps(self.all_evidence, indent=2, sort_keys=True, default=str),
                "```",
                "",
            ]
        )


def _renames_markdown(renamed: list[dict[str, str]]) -> list[str]:
    if not renamed:
        return []
    lines = ["Header names that are not valid field names map to these fields (`source_name`):", ""]
    lines += [f"- {json.dumps(r['delivered'], ensure_ascii=False)} -> `{r['field']}`" for r in renamed]
    return [*lines, ""]


def _repeated_keys_markdown(repeated: tuple[str, ...]) -> list[str]:
    if not repeated:
        return []
    keys = ", ".join(f"`{key}`" for key in repeated)
    return [
        f"Keys repeated in one object: {keys}. The parser would keep only the last value, so records that "
        "repeat a key are dead-lettered (`duplicate_key`); the schema above was read with each key once.",
        "",
    ]


def write_drift_report(folder: str, current: Contract, report: DriftReport) -> dict[str, str]:
    """Write report.json, report.md and the proposed YAML under ``folder``; return their paths."""
    name = report.file.rstrip("/").rsplit("/", 1)[-1]
    paths = {
        "json": join(folder, f"{name}.drift.json"),
        "markdown": join(folder, f"{name}.drift.md"),
        "proposed_contract": join(folder, f"{current.dataset}.v{report.proposed.version}.yaml"),
    }
    write_text(paths["json"], json.dumps(report.to_json(), indent=2, sort_keys=True, default=str))
    write_text(paths["markdown"], report.to_markdown(current))
    write_text(paths["proposed_contract"], contract_to_yaml(report.proposed))
    return paths
