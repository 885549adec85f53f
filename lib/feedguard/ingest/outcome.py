"""A finished file run as one value, and the run summary built from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict, cast

from feedguard.errors import EXIT_DQ_FAILED, EXIT_FILE_CORRUPT, EXIT_OK, EXIT_STRUCTURAL_CHANGE
from feedguard.ingest.classify import Verdict
from feedguard.ingest.reports import NO_RECORDS, FileProblem, FileReport, FileVerdict
from feedguard.ingest.routed import Routed
from feedguard.ingest.run_state import FileRun
from feedguard.ingest.steps import Quarantined, Rejects
from feedguard.ingest.writes import Written
from feedguard.lake.ledger import FilePlan
from feedguard.lake.runlog import iso, run_header, utc_now
from feedguard.parse.measure import Measured
from feedguard.quality.outcome import DqOutcome
from feedguard.summary import FileRunSummary

CLEAN = FileVerdict(Verdict.CLEAN, {})


@dataclass(frozen=True)
class FileRunOutcome:
    """Everything the steps of a successful run returned."""

    verdicts: dict[str, FileVerdict]
    rejects: Rejects
    dq: DqOutcome | None
    quarantined: Quarantined
    problems: list[FileProblem]
    main: Measured | None
    routed: Routed
    written: Written
    records_read: int

    def reports(self, plan: FilePlan) -> list[FileReport]:
        """One report per file of the run, in listing order."""
        out = []
        for info in plan.todo:
            verdict = self.verdicts.get(info.uri, CLEAN)
            evidence = dict(verdict.evidence)
            if info.uri in self.quarantined.compatibility:
                evidence["proposed_compatibility"] = self.quarantined.compatibility[info.uri]
            counts = self.routed.counts.get(info.uri, NO_RECORDS)
            out.append(
                FileReport(info.uri, counts, verdict.verdict, evidence, self.quarantined.paths.get(info.uri))
            )
        return out

    def errors_by_type(self) -> dict[str, int]:
        by_type: dict[str, int] = {}
        for uri, stats in (self.main.files if self.main is not None else {}).items():
            if uri not in self.rejects:
                for kind, n in stats.errors_by_type.items():
                    by_type[kind] = by_type.get(kind, 0) + n
        for uri, (reason, _) in self.rejects.items():
            by_type[reason] = by_type.get(reason, 0) + self.routed.counts.get(uri, NO_RECORDS).dead
        for p in self.problems:
            by_type[p.error_type] = by_type.get(p.error_type, 0) + 1
        return dict(sorted(by_type.items()))


def status_of(reports: list[FileReport], dead: int, dq: DqOutcome | None) -> tuple[str, int]:
    verdicts = {r.verdict for r in reports}
    if Verdict.STRUCTURAL_CHANGE in verdicts:
        return "structural_change", EXIT_STRUCTURAL_CHANGE
    if dq is not None and not dq.success:
        return "dq_failed", EXIT_DQ_FAILED
    if Verdict.FILE_CORRUPT in verdicts:
        return "file_quarantined", EXIT_FILE_CORRUPT
    if dead:
        return "succeeded_with_dead_letters", EXIT_OK
    return "succeeded", EXIT_OK


class Timing(TypedDict):
    started_at: str
    ended_at: str
    duration_seconds: float


class Place(TypedDict):
    lake_path: str
    stage_seconds: dict[str, float]


class PlanFields(TypedDict):
    files_skipped_already_processed: int
    files_skipped_duplicate_content: dict[str, str]
    superseded_runs: dict[str, list[str]]
    rows_superseded: dict[str, int]


def timing(run: FileRun, started: dt.datetime) -> Timing:
    ended = utc_now()
    return {
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_seconds": round((ended - started).total_seconds(), 3),
    }


def run_place(run: FileRun) -> Place:
    return {"lake_path": run.lake.root, "stage_seconds": run.clock.seconds}


def plan_fields(plan: FilePlan, written: Written | None) -> PlanFields:
    """What the ledger decided: skipped files, duplicates, and which earlier runs this one superseded."""
    return {
        "files_skipped_already_processed": len(plan.unchanged),
        "files_skipped_duplicate_content": dict(plan.duplicates),
        "superseded_runs": dict(plan.supersedes),
        "rows_superseded": {
            "valid": written.valid.replaced if written else 0,
            "dead_letters": written.dead.replaced if written else 0,
        },
    }


def _plan_note(plan: FilePlan, written: Written) -> str:
    note = ""
    if plan.duplicates:
        note += f"; {len(plan.duplicates)} file(s) skipped: same content as a file already ingested"
    if plan.supersedes:
        earlier = sorted({r for runs in plan.supersedes.values() for r in runs})
        note += (
            f"; {len(plan.supersedes)} file(s) superseded what run(s) {', '.join(earlier)} loaded "
            f"({written.valid.replaced} valid rows and {written.dead.replaced} dead letters replaced)"
        )
    return note


def _message(status: str, read: int, valid: int, dead: int, skipped: int, note: str | None) -> str:
    text = f"{status}: read {read} records, {valid} valid, {dead} dead-lettered"
    if skipped:
        text += f"; {skipped} file(s) skipped as already processed (use --reprocess to force)"
    if note:
        text += f"; {note}"
    return text


def _ratio_pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


def run_summary(run: FileRun, outcome: FileRunOutcome, job_name: str, started: dt.datetime) -> FileRunSummary:
    """The run summary (the run log row and ``<lake>/_runs/<run_id>.json``)."""
    reports, dq, main = outcome.reports(run.plan), outcome.dq, outcome.main
    read, valid, dead = outcome.records_read, outcome.written.valid.rows, outcome.written.dead.rows
    status, exit_code = status_of(reports, dead, dq)
    by_uri = {r.uri: r for r in reports}
    rejected_dead = sum(by_uri[u].counts.dead for u in outcome.rejects if u in by_uri)
    skipped = len(run.plan.unchanged)
    message = _message(status, read, valid, dead, skipped, dq.message() if dq else None)
    summary: FileRunSummary = {}
    summary.update(cast(FileRunSummary, run_header(run.ctx, job_name, status, exit_code)))  # a checked part
    summary.update(
        {
            "records_read": read,
            "records_valid": valid,
            "records_dead_lettered": dead,
            "dead_letters_by_type": outcome.errors_by_type(),
            "blank_lines_skipped": sum(s.blank_lines for s in main.files.values()) if main else 0,
            "values_rounded": sum(s.rounded_values for s in main.files.values()) if main else 0,
            "files": [r.as_summary() for r in reports],
            "files_quarantined": len(outcome.quarantined.paths),
            "verdicts": {r.uri: str(r.verdict) for r in reports},
            "schema_drift_detected": any(r.verdict == Verdict.STRUCTURAL_CHANGE for r in reports),
            "drift_reports": outcome.quarantined.drift_reports,
            # Corruption is what was dead-lettered from files that loaded (rejected files are counted apart).
            "corrupt_ratio_pct": _ratio_pct(dead - rejected_dead, read),
            "message": message + _plan_note(run.plan, outcome.written),
            "dq_success": dq.success if dq is not None else None,
            "dq_failures": [f.as_summary() for f in (dq.critical_failed + dq.warning_failed)] if dq else [],
        }
    )
    for part in (plan_fields(run.plan, outcome.written), timing(run, started), run_place(run)):
        summary.update(cast(FileRunSummary, part))  # each part is a TypedDict of RunSummary's keys
    if dq is not None:
        summary["expectations_evaluated"] = dq.expectations_evaluated
        summary["expectations_failed"] = dq.expectations_failed
    return summary
