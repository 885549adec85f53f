"""The end of a file run that failed at some step: undo its output, account for every file, say why.

Every file of the run is quarantined byte for byte and gets one ``run_failed`` dead letter; the ledger
marks it ``run_failed`` so the next run tries it again (and supersedes that dead letter). If this
clean-up fails too, the original error propagates and the in-flight mark stays: the next run undoes
whatever this one wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import cast

from feedguard.errors import EXIT_INTERNAL, ConservationError, FeedguardError, environment_problem
from feedguard.ingest.classify import Verdict
from feedguard.ingest.outcome import plan_fields, run_place, timing
from feedguard.ingest.reports import FileCounts, FileProblem, FileReport, file_problem_rows
from feedguard.ingest.run_state import FileRun
from feedguard.ingest.writes import ledger_frame
from feedguard.lake.lifecycle import undo_run
from feedguard.lake.runlog import run_header
from feedguard.lake.sinks import append_delta, quarantine_file
from feedguard.summary import FileRunSummary

log = logging.getLogger("feedguard.ingest.flow")


def _reason(run: FileRun, exc: Exception) -> tuple[str, int, FeedguardError | None]:
    step = run.progress.current_step
    problem = exc if isinstance(exc, FeedguardError) else environment_problem(exc)
    exit_code = problem.exit_code if problem is not None else EXIT_INTERNAL
    reason = str(problem) if problem is not None else f"{type(exc).__name__}: {exc}"
    if problem is None:
        log.error("run %s failed at step %s (a bug: please report it)", run.ctx.run_id, step, exc_info=exc)
    else:
        log.error("run %s failed at step %s: %s", run.ctx.run_id, step, reason)
    return reason, exit_code, problem


def _account_for_files(run: FileRun, detail: str) -> tuple[dict[str, str], list[FileProblem], int]:
    """Undo the run, quarantine its files, write one ``run_failed`` dead letter and ledger row each."""
    ctx, lake = run.ctx, run.lake
    run.progress.release()
    undo_run(run.spark, lake, ctx.source, ctx.dataset, ctx.run_id)
    folder = lake.quarantine(ctx.source, ctx.dataset, ctx.run_id)
    kept: dict[str, str] = {}
    for info in run.plan.todo:
        try:
            kept[info.uri] = quarantine_file(info.uri, folder)
        except OSError as copy_error:
            log.error("could not quarantine %s: %s", info.uri, copy_error)
    problems = [FileProblem(info.uri, "run_failed", detail) for info in run.plan.todo]
    if not problems:
        return kept, problems, 0
    written = append_delta(
        file_problem_rows(run.spark, problems, ctx, kept),
        lake.dead_letter,
        commit_tag=f"{ctx.run_id}:dead_letter",
        partition_by=("source", "ingest_date"),
        merge_schema=True,
    )
    verdicts = {p.uri: "run_failed" for p in problems}
    append_delta(
        ledger_frame(run.spark, run.plan.todo, ctx, verdicts, run.plan),
        lake.ledger,
        commit_tag=f"{ctx.run_id}:ledger",
        merge_schema=True,
    )
    return kept, problems, written


def failed_summary(run: FileRun, job_name: str, started: dt.datetime, exc: Exception) -> FileRunSummary:
    """Account for a run that failed at some step; the summary names the step and the error."""
    step = run.progress.current_step
    reason, exit_code, problem = _reason(run, exc)
    detail = f"the run failed at step {step}: {reason}; the file will be ingested again by the next run"
    try:
        kept, problems, written = _account_for_files(run, detail)
    except Exception as cleanup_error:
        note = "run %s: the clean-up after the failure failed too (%s); the next run undoes it"
        if problem is None:
            log.exception(note, run.ctx.run_id, type(cleanup_error).__name__)
        else:
            log.error(note, run.ctx.run_id, problem)
        raise exc from None
    reports = [
        FileReport(
            info.uri, FileCounts(1, 0, 1), Verdict.FILE_CORRUPT, {"reason": detail}, kept.get(info.uri)
        )
        for info in run.plan.todo
    ]
    status = "conservation_failed" if isinstance(exc, ConservationError) else "failed"
    summary: FileRunSummary = {}
    summary.update(cast(FileRunSummary, run_header(run.ctx, job_name, status, exit_code)))  # a checked part
    summary.update(
        {
            "records_read": len(problems),
            "records_valid": 0,
            "records_dead_lettered": written,
            "dead_letters_by_type": {"run_failed": written} if written else {},
            "files": [r.as_summary() for r in reports],
            "files_quarantined": len(kept),
            "verdicts": {r.uri: str(r.verdict) for r in reports},
            "schema_drift_detected": False,
            "drift_reports": {},
            "corrupt_ratio_pct": 100.0 if problems else 0.0,
            "failed_step": step,
            "error": reason,
            "message": f"{status} at step {step}: {reason}; {len(problems)} file(s) quarantined and "
            "dead-lettered as run_failed, to be ingested again by the next run",
            "dq_success": None,
            "dq_failures": [],
        }
    )
    for part in (plan_fields(run.plan, None), timing(run, started), run_place(run)):
        summary.update(cast(FileRunSummary, part))  # each part is a TypedDict of RunSummary's keys
    return summary
