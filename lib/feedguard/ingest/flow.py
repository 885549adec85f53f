"""The file-ingest flow: list, check, parse once, judge, route, write, prove conservation.

``run_file_ingest`` is what the file job calls; :func:`_ingest` reads like the flowchart in the README.
Each step takes the run (:class:`~feedguard.ingest.run_state.FileRun`, frozen) and the values earlier
steps returned, and returns its own. Spark reads the input once: the parsed records are persisted,
measured in one pass, then written to the valid table and the dead-letter table from the cache.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from feedguard.contracts.contract import Contract
from feedguard.errors import InputNotFoundError
from feedguard.ingest.classify import Verdict
from feedguard.ingest.failure import failed_summary
from feedguard.ingest.outcome import FileRunOutcome, run_summary
from feedguard.ingest.reports import FileVerdict, StageClock, StepHook, no_hook
from feedguard.ingest.routed import route
from feedguard.ingest.routing import RunContext
from feedguard.ingest.run_state import FileRun
from feedguard.ingest.steps import check_files, classify, header_rejects, quality_gate, quarantine
from feedguard.ingest.writes import check_conservation, supersede_predicates, write, write_ledger
from feedguard.lake.layout import Lake
from feedguard.lake.ledger import ledger_entries, plan_files
from feedguard.lake.lifecycle import recover_inflight
from feedguard.lake.runlog import mark_inflight, utc_now
from feedguard.lake.storage import FileInfo, list_files
from feedguard.parse.measure import measure, parse_files
from feedguard.summary import RunSummary, as_run_summary

__all__ = ["StepHook", "no_hook", "run_file_ingest", "supersede_predicates"]


def run_file_ingest(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    input_path: str,
    ctx: RunContext,
    *,
    job_name: str,
    reprocess: bool = False,
    suite: dict[str, Any] | None = None,
    gx_root: str | None = None,
    next_version: int | None = None,
    files: list[FileInfo] | None = None,
    on_step: StepHook = no_hook,
) -> RunSummary:
    """Ingest every new file under ``input_path`` (or ``files``); return the run summary.

    The caller holds the feed's lease. A failure after the in-flight mark (any step) ends the run as
    failed: its partial output is undone, each file is quarantined with one dead letter and tried
    again by the next run, and the summary says which step failed.
    """
    started = utc_now()
    listed = files if files is not None else list_files(input_path)
    if not listed:
        raise InputNotFoundError(f"no input file matches {input_path!r} (file, folder or glob)")
    recover_inflight(spark, lake, ctx.source, ctx.dataset)
    plan = plan_files(
        listed, ledger_entries(spark, lake.ledger, ctx.source, ctx.dataset), reprocess=reprocess
    )
    on_step("mark_inflight")
    mark_inflight(lake.inflight(ctx.source, ctx.dataset), ctx.run_id)
    run = FileRun(spark, contract, lake, ctx, plan, StageClock(), on_step)
    try:
        outcome = _ingest(run, suite, gx_root or lake.gx_context_root, next_version or contract.version + 1)
    except Exception as exc:
        return as_run_summary(failed_summary(run, job_name, started, exc))
    return as_run_summary(run_summary(run, outcome, job_name, started))


def _ingest(run: FileRun, suite: dict[str, Any] | None, gx_root: str, next_version: int) -> FileRunOutcome:
    """The steps of a run, in order."""
    run.step("check")
    checked = check_files(run)
    headers = header_rejects(run, checked.readable)
    main_files = [c for c in checked.readable if c.info.uri not in headers]
    main = None
    if main_files:
        run.step("parse_and_measure")
        with run.clock.stage("parse_and_measure"):
            main = run.keep(measure(parse_files(run.spark, run.contract, main_files), main_files))
    run.step("classify")
    classified = classify(run, headers, main)
    dq, held = None, dict[str, tuple[str, str]]()
    if suite is not None:
        run.step("validate")
        dq, held = quality_gate(run, suite, gx_root, main, classified.rejects)
    rejects = {**classified.rejects, **held}
    run.step("quarantine")
    kept = quarantine(run, checked.unreadable, rejects, dq, classified.verdicts, main, next_version)
    problems = checked.problems + kept.problems
    run.step("route")
    rejected_files = [c for c in checked.readable if c.info.uri in rejects]
    routed = route(run, main, rejects, rejected_files, problems, kept.paths)
    written = write(run, routed, main)
    records_read = check_conservation(run, routed, written)
    verdicts = {**checked.verdicts, **classified.verdicts, **kept.verdicts}
    if run.plan.todo:
        clean = FileVerdict(Verdict.CLEAN, {})
        ledger_verdicts = {info.uri: str(verdicts.get(info.uri, clean).verdict) for info in run.plan.todo}
        ledger_verdicts |= {p.uri: "unreadable" for p in problems if p.error_type == "file_unreadable"}
        write_ledger(run, ledger_verdicts)
    return FileRunOutcome(verdicts, rejects, dq, kept, problems, main, routed, written, records_read)
