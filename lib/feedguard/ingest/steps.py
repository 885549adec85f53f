"""The judging steps of a file run: check each file, classify it, run the quality gate, quarantine.

Each step takes the run and the values earlier steps returned, and returns its own values.
``rejects`` maps a rejected file's URI to ``(reason, detail)``: a rejected file loads nothing, every
record of it becomes a dead letter with that reason first.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from feedguard.ingest.classify import HeaderProblem, Verdict, classify_file, header_problem
from feedguard.ingest.drift_step import drift_report
from feedguard.ingest.file_checks import CheckedFile, check_file, declared_encoding
from feedguard.ingest.reports import FileProblem, FileVerdict
from feedguard.ingest.routed import routed_records
from feedguard.ingest.routing import valid_rows
from feedguard.ingest.run_state import FileRun
from feedguard.lake.sinks import quarantine_file
from feedguard.lake.storage import join, write_text
from feedguard.parse.measure import Measured
from feedguard.quality.outcome import DqOutcome, write_dq_results

log = logging.getLogger("feedguard.ingest.flow")

Rejects = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Checked:
    """The driver's checks: files it could read, and those it could not open at all."""

    files: list[CheckedFile]
    problems: list[FileProblem]
    verdicts: dict[str, FileVerdict]

    @property
    def unreadable(self) -> list[CheckedFile]:
        return [c for c in self.files if not c.readable]

    @property
    def readable(self) -> list[CheckedFile]:
        return [c for c in self.files if c.readability == "ok"]


def check_files(run: FileRun) -> Checked:
    """The driver's checks of each file; a file that cannot be read at all is a problem, not a crash."""
    checked, problems, verdicts = [], [], {}
    for info in run.plan.todo:
        try:
            checked.append(
                check_file(info, declared=declared_encoding(run.contract), limits=run.contract.limits)
            )
        except OSError as exc:
            detail = f"cannot read {info.uri}: {exc.strerror or exc}"
            problems.append(FileProblem(info.uri, "file_unreadable", detail))
            verdicts[info.uri] = FileVerdict(Verdict.FILE_CORRUPT, {"reason": detail})
    return Checked(checked, problems, verdicts)


def header_rejects(run: FileRun, readable: list[CheckedFile]) -> dict[str, HeaderProblem]:
    """Files whose first line is not the contract's header (a structural change, or no header)."""
    return {
        c.info.uri: problem
        for c in readable
        if (problem := header_problem(run.contract, c.first_line)) is not None
    }


@dataclass(frozen=True)
class Classified:
    verdicts: dict[str, FileVerdict]
    rejects: Rejects


def classify(run: FileRun, headers: dict[str, HeaderProblem], main: Measured | None) -> Classified:
    """A verdict per file; structural changes and corrupt files are rejected whole."""
    verdicts: dict[str, FileVerdict] = {}
    rejects: Rejects = {}
    for uri, problem in headers.items():
        verdicts[uri] = FileVerdict(Verdict.STRUCTURAL_CHANGE, {**problem.evidence, "detail": problem.detail})
        rejects[uri] = ("structural_change", problem.detail)
    for uri, stats in (main.files if main is not None else {}).items():
        verdict = classify_file(run.contract, stats)
        evidence = dict(verdict.evidence)
        if verdict.verdict in (Verdict.STRUCTURAL_CHANGE, Verdict.FILE_CORRUPT):
            evidence["detail"] = verdict.detail
            rejects[uri] = (str(verdict.verdict), verdict.detail)
        verdicts[uri] = FileVerdict(verdict.verdict, evidence)
    return Classified(verdicts, rejects)


def quality_gate(
    run: FileRun, suite: dict[str, Any], gx_root: str, main: Measured | None, rejects: Rejects
) -> tuple[DqOutcome | None, Rejects]:
    """Validate what would be published; a failed critical expectation holds back every loaded file.

    Returns the outcome and the files it rejects (``dq_critical_failure``).
    """
    if main is None or not any(s.good for uri, s in main.files.items() if uri not in rejects):
        return None, {}
    candidates = routed_records(main, rejects).transform(valid_rows, run.contract, run.ctx)
    from feedguard.quality.gate import validate  # Great Expectations: imported once a gate runs

    with run.clock.stage("validate"):
        dq = validate(candidates, suite, run_id=run.ctx.run_id, context_root=gx_root)
        write_dq_results(run.spark, run.lake.root, dq.rows)
    if dq.success:
        return dq, {}
    log.error("quality gate failed for run %s: %s", run.ctx.run_id, dq.message())
    held = {uri: ("dq_critical_failure", dq.message()) for uri, s in main.files.items() if s.good}
    return dq, {uri: why for uri, why in held.items() if uri not in rejects}


@dataclass(frozen=True)
class Quarantined:
    """Files kept byte for byte, the file-level problems found, and drift reports."""

    paths: dict[str, str]
    problems: list[FileProblem]
    verdicts: dict[str, FileVerdict]
    drift_reports: dict[str, dict[str, str]] = field(default_factory=dict)
    compatibility: dict[str, str] = field(default_factory=dict)


def quarantine(
    run: FileRun,
    unreadable: list[CheckedFile],
    rejects: Rejects,
    dq: DqOutcome | None,
    structural: dict[str, FileVerdict],
    main: Measured | None,
    next_version: int,
) -> Quarantined:
    """Keep unreadable and rejected files byte for byte; drift reports for structural changes."""
    folder = run.lake.quarantine(run.ctx.source, run.ctx.dataset, run.ctx.run_id)
    paths: dict[str, str] = {}
    problems, verdicts = [], {}
    for c in unreadable:
        verdicts[c.info.uri] = FileVerdict(Verdict.FILE_CORRUPT, c.evidence)
        paths[c.info.uri] = quarantine_file(c.info.uri, folder)
        problems.append(FileProblem(c.info.uri, "file_corrupt", c.detail))
    for uri in rejects:
        paths[uri] = quarantine_file(uri, folder)
    if dq is not None and not dq.success:
        write_text(join(folder, "dq_validation_result.json"), json.dumps(dq.result_json, default=str))
    drifted = [uri for uri, (reason, _) in rejects.items() if reason == "structural_change"]
    reports, compatibility = {}, {}
    for uri in drifted:
        reports[uri], compatibility[uri] = drift_report(
            run, uri, structural[uri].evidence, main, next_version
        )
    return Quarantined(paths, problems, verdicts, reports, compatibility)


__all__ = [
    "Checked",
    "Classified",
    "Quarantined",
    "Rejects",
    "check_files",
    "classify",
    "header_rejects",
    "quality_gate",
    "quarantine",
]
