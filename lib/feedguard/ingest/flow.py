"""The file-ingest flow: list, check, parse once, route, write, prove conservation.

``run_file_ingest`` is what ``jobs/ingest_files.py`` calls; it reads like the flowchart in the
README. Spark reads the input once: the parsed records are persisted, measured in one pass,
then written to the valid table and the dead-letter table from the cache.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.drift import DriftReport, infer_fields, propose_contract, write_drift_report
from feedguard.contracts.evolution import diff_contracts
from feedguard.errors import (
    EXIT_DQ_FAILED,
    EXIT_FILE_CORRUPT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_STRUCTURAL_CHANGE,
    ConservationError,
    FeedguardError,
    InputNotFoundError,
    environment_problem,
)
from feedguard.ingest.classify import HeaderProblem, Verdict, classify_file, header_problem
from feedguard.ingest.file_checks import CheckedFile, check_file, declared_encoding
from feedguard.ingest.routing import (
    DEAD_LETTER_SCHEMA,
    RunContext,
    dead_letter_rows,
    error_type,
    records,
    valid_rows,
    with_file_errors,
    with_source_line,
)
from feedguard.lake.layout import Lake
from feedguard.lake.ledger import LEDGER_SCHEMA, FilePlan, ledger_entries, ledger_rows, plan_files
from feedguard.lake.lifecycle import recover_inflight, undo_run
from feedguard.lake.runlog import iso, mark_inflight, run_header, utc_now
from feedguard.lake.sinks import Committed, append_delta, quarantine_file, write_delta, write_error_zone
from feedguard.lake.storage import FileInfo, join, list_files, write_text
from feedguard.parse.measure import FileStats, Measured, measure, parse_files
from feedguard.quality import DqOutcome, validate, write_dq_results

log = logging.getLogger(__name__)


@dataclass
class StageClock:
    """Wall-clock seconds per stage of a run, for the run summary."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


@dataclass
class FileReport:
    uri: str
    records_read: int = 0
    records_valid: int = 0
    records_dead_lettered: int = 0
    verdict: str = Verdict.CLEAN
    evidence: dict[str, Any] = field(default_factory=dict)
    quarantined_to: str | None = None


StepHook = Callable[[str], None]
"""Called with a step's name before the step runs (``before_write_valid``, ...): the job checks its lease
there, and tests inject failures or crashes at a chosen step."""


def no_hook(step: str) -> None:
    """The default step hook: nothing to check."""


@dataclass(frozen=True)
class FileProblem:
    """A file that yields no records: one file-level dead letter (the file itself is quarantined)."""

    uri: str
    error_type: str  # file_corrupt, file_unreadable, run_failed
    detail: str


def _file_problem_rows(
    spark: SparkSession, problems: list[FileProblem], ctx: RunContext, quarantine: dict[str, str]
) -> DataFrame:
    now = dt.datetime.fromisoformat(ctx.ingested_at.replace("Z", "+00:00")).replace(tzinfo=None)
    rows = []
    for p in problems:
        kept = quarantine.get(p.uri)
        where = f"the file is kept byte for byte at {kept}" if kept else "the file could not be copied"
        values: dict[str, Any] = {
            "source": ctx.source,
            "dataset": ctx.dataset,
            "contract_version": ctx.contract_version,
            "run_id": ctx.run_id,
            "source_file": p.uri,
            "error_type": p.error_type,
            "error_detail": f"{p.detail}; {where}",
            "ingested_at": now,
            "ingest_date": now.date(),
            "status": "open",
        }
        rows.append(tuple(values.get(f.name) for f in DEAD_LETTER_SCHEMA.fields))
    return spark.createDataFrame(rows, DEAD_LETTER_SCHEMA)


def _ledger_frame(
    spark: SparkSession, files: list[FileInfo], ctx: RunContext, verdicts: dict[str, str], plan: FilePlan
) -> DataFrame:
    now = dt.datetime.fromisoformat(ctx.ingested_at.replace("Z", "+00:00")).replace(tzinfo=None)
    rows = ledger_rows(
        files,
        source=ctx.source,
        dataset=ctx.dataset,
        run_id=ctx.run_id,
        verdicts=verdicts,
        sha256=plan.sha256,
        processed_at=now,
    )
    return spark.createDataFrame(rows, LEDGER_SCHEMA)


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _names_of(uri: str) -> set[str]:
    """The spellings a file's name can have in ``_source_file`` (our listing's URI, Spark's)."""
    names = {uri}
    if uri.startswith("file:///"):
        names |= {"file:" + uri[len("file://") :], uri[len("file://") :]}
    return names


def supersede_predicates(ctx: RunContext, file_names: set[str]) -> tuple[str, str]:
    """SQL predicates for the rows earlier runs loaded from these files: (valid table, dead letters)."""
    listed = ", ".join(_sql_string(n) for n in sorted(file_names))
    valid = f"_source_file IN ({listed})"
    dead = (
        f"source = {_sql_string(ctx.source)} AND dataset = {_sql_string(ctx.dataset)} "
        f"AND source_file IN ({listed})"
    )
    return valid, dead


def _status(reports: list[FileReport], dead: int, dq: DqOutcome | None) -> tuple[str, int]:
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


@dataclass
class _Run:
    """The state of one file-ingest run, filled in step by step."""

    spark: SparkSession
    contract: Contract
    lake: Lake
    ctx: RunContext
    clock: StageClock
    reports: dict[str, FileReport]
    plan: FilePlan
    on_step: StepHook
    rejects: dict[str, tuple[str, str]] = field(default_factory=dict)  # uri -> (reason, detail)
    main: Measured | None = None
    rejected: Measured | None = None
    dq: DqOutcome | None = None
    quarantined: dict[str, str] = field(default_factory=dict)
    drift_reports: dict[str, dict[str, str]] = field(default_factory=dict)
    dead_frames: list[DataFrame] = field(default_factory=list)
    valid_frame: DataFrame | None = None
    expected_valid: int = 0
    expected_dead: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    replaced_valid: int = 0
    replaced_dead: int = 0

    current_step: str = "start"

    def step(self, name: str) -> None:
        self.current_step = name
        self.on_step(name)


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
) -> dict[str, Any]:
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
    entries = ledger_entries(spark, lake.ledger, ctx.source, ctx.dataset)
    plan = plan_files(listed, entries, reprocess=reprocess)
    on_step("mark_inflight")
    mark_inflight(lake.inflight(ctx.source, ctx.dataset), ctx.run_id)
    run = _Run(
        spark, contract, lake, ctx, StageClock(), {f.uri: FileReport(f.uri) for f in plan.todo}, plan, on_step
    )
    try:
        read, valid, dead = _ingest(run, suite, gx_root or join(lake.root, "_gx"), next_version)
    except Exception as exc:
        return _failed(run, job_name, started, exc)
    return _summary(run, job_name, started, read, valid, dead)


def _check(run: _Run) -> list[CheckedFile]:
    """The driver's checks of each file; a file that cannot be read at all is a problem, not a crash."""
    checked = []
    for info in run.plan.todo:
        try:
            checked.append(
                check_file(info, declared=declared_encoding(run.contract), limits=run.contract.limits)
            )
        except OSError as exc:
            detail = f"cannot read {info.uri}: {exc.strerror or exc}"
            run.problems.append(FileProblem(info.uri, "file_unreadable", detail))
            run.reports[info.uri].verdict = Verdict.FILE_CORRUPT
            run.reports[info.uri].evidence = {"reason": detail}
    return checked


def _ingest(
    run: _Run, suite: dict[str, Any] | None, gx_root: str, next_version: int | None
) -> tuple[int, int, int]:
    """The steps of a run; returns (records read, valid written, dead letters written)."""
    run.step("check")
    checked = _check(run)
    unreadable = [c for c in checked if not c.readable]
    readable = [c for c in checked if c.readability == "ok"]
    header_rejects = {
        c.info.uri: problem
        for c in readable
        if (problem := header_problem(run.contract, c.first_line)) is not None
    }
    main_files = [c for c in readable if c.info.uri not in header_rejects]
    if main_files:
        run.step("parse_and_measure")
        with run.clock.stage("parse_and_measure"):
            run.main = measure(parse_files(run.spark, run.contract, main_files), main_files)
    run.step("classify")
    _classify(run, header_rejects)
    if suite is not None:
        run.step("validate")
        _quality_gate(run, suite, gx_root)
    run.step("quarantine")
    _quarantine(run, unreadable, next_version or run.contract.version + 1)
    run.step("route")
    _route_loaded_files(run)
    _route_rejected_files(run, [c for c in readable if c.info.uri in run.rejects])
    _route_file_problems(run)
    valid, dead = _write(run)
    records_read = _check_conservation(run, valid.rows, dead.rows)
    if run.plan.todo:
        run.step("write_ledger")
        verdicts = {uri: str(r.verdict) for uri, r in run.reports.items()}
        verdicts |= {p.uri: "unreadable" for p in run.problems if p.error_type == "file_unreadable"}
        append_delta(
            _ledger_frame(run.spark, run.plan.todo, run.ctx, verdicts, run.plan),
            run.lake.ledger,
            commit_tag=f"{run.ctx.run_id}:ledger",
            merge_schema=True,
        )
    return records_read, valid.rows, dead.rows


def _classify(run: _Run, header_rejects: dict[str, HeaderProblem]) -> None:
    """A verdict per file; structural changes are rejected whole."""
    for uri, problem in header_rejects.items():
        run.reports[uri].verdict = Verdict.STRUCTURAL_CHANGE
        run.reports[uri].evidence = {**problem.evidence, "detail": problem.detail}
        run.rejects[uri] = ("structural_change", problem.detail)
    if run.main is None:
        return
    for uri, stats in run.main.files.items():
        verdict = classify_file(run.contract, stats)
        run.reports[uri].verdict = verdict.verdict
        run.reports[uri].evidence = verdict.evidence
        if verdict.verdict in (Verdict.STRUCTURAL_CHANGE, Verdict.FILE_CORRUPT):
            run.reports[uri].evidence["detail"] = verdict.detail
            run.rejects[uri] = (str(verdict.verdict), verdict.detail)


def _quality_gate(run: _Run, suite: dict[str, Any], gx_root: str) -> None:
    """Validate what would be published; a failed critical expectation holds back every loaded file."""
    main = run.main
    if main is None or not any(s.good for uri, s in main.files.items() if uri not in run.rejects):
        return
    candidates = _routed(main, run.rejects).transform(valid_rows, run.contract, run.ctx)
    with run.clock.stage("validate"):
        run.dq = validate(candidates, suite, run_id=run.ctx.run_id, context_root=gx_root)
        write_dq_results(run.spark, run.lake.root, run.dq.rows)
    if not run.dq.success:
        log.error("quality gate failed for run %s: %s", run.ctx.run_id, run.dq.message())
        for uri, stats in main.files.items():
            if uri not in run.rejects and stats.good:
                run.rejects[uri] = ("dq_critical_failure", run.dq.message())


def _quarantine(run: _Run, unreadable: list[CheckedFile], next_version: int) -> None:
    """Keep unreadable and rejected files byte for byte; drift reports for structural changes."""
    folder = run.lake.quarantine(run.ctx.source, run.ctx.dataset, run.ctx.run_id)
    for c in unreadable:
        run.reports[c.info.uri].verdict = Verdict.FILE_CORRUPT
        run.reports[c.info.uri].evidence = c.evidence
        run.quarantined[c.info.uri] = quarantine_file(c.info.uri, folder)
        run.problems.append(FileProblem(c.info.uri, "file_corrupt", c.detail))
    for uri in run.rejects:
        run.quarantined[uri] = quarantine_file(uri, folder)
    for uri, target in run.quarantined.items():
        run.reports[uri].quarantined_to = target
    if run.dq is not None and not run.dq.success:
        write_text(join(folder, "dq_validation_result.json"), json.dumps(run.dq.result_json, default=str))
    run.drift_reports = {
        uri: _drift_report(
            run.spark, run.contract, run.lake, run.ctx, run.reports[uri], run.main, next_version
        )
        for uri, (reason, _) in run.rejects.items()
        if reason == "structural_change"
    }


def _route_loaded_files(run: _Run) -> None:
    """Valid rows and record-level dead letters of the files that load."""
    if run.main is None:
        return
    routed = _routed(run.main, run.rejects)
    run.valid_frame = routed.transform(valid_rows, run.contract, run.ctx)
    run.dead_frames.append(routed.transform(dead_letter_rows, run.ctx))
    for uri, stats in run.main.files.items():
        if uri not in run.rejects:
            _count_into(run.reports[uri], stats)
            run.expected_valid += stats.good
            run.expected_dead += stats.bad


def _route_rejected_files(run: _Run, files: list[CheckedFile]) -> None:
    """Every record of a rejected file becomes a dead letter with the file's reason first (raw text kept)."""
    if not files:
        return
    run.rejected = measure(parse_files(run.spark, run.contract, files), files, keep_raw_of_valid=True)
    file_errors = {name: run.rejects[uri] for name, uri in run.rejected.uri_of.items()}
    run.dead_frames.append(
        run.rejected.frame.transform(with_source_line, run.rejected.chunk_offsets)
        .transform(records)
        .transform(with_file_errors, file_errors)
        .transform(error_type)
        .transform(dead_letter_rows, run.ctx)
    )
    for uri, stats in run.rejected.files.items():
        run.reports[uri].records_read = stats.records
        run.reports[uri].records_dead_lettered = stats.records
        run.expected_dead += stats.records


def _route_file_problems(run: _Run) -> None:
    """One dead letter per file that yields no records (unreadable, corrupt; the file is quarantined)."""
    if not run.problems:
        return
    run.dead_frames.append(_file_problem_rows(run.spark, run.problems, run.ctx, run.quarantined))
    for p in run.problems:
        run.reports[p.uri].records_read = 1
        run.reports[p.uri].records_dead_lettered = 1
    run.expected_dead += len(run.problems)


def _superseding(run: _Run) -> tuple[str, str] | None:
    """The replace predicates when this run replaces what earlier runs loaded from its files."""
    if not run.plan.supersedes:
        return None
    names: set[str] = set()
    for info in run.plan.todo:
        names |= _names_of(info.uri)
    for measured in (run.main, run.rejected):
        if measured is not None:
            names |= set(measured.uri_of)
    return supersede_predicates(run.ctx, names)


def _write(run: _Run) -> tuple[Committed, Committed]:
    """Write the valid rows and the dead letters (one commit each), then the error zone.

    When the run supersedes earlier loads of its files, each commit also removes those rows
    (``replaceWhere``): the table never holds both versions of a file, even for a moment.
    """
    ctx, lake = run.ctx, run.lake
    replace = _superseding(run)
    nothing = Committed(0, 0, None)
    valid = dead = nothing
    if run.valid_frame is not None and (run.expected_valid or replace):
        run.step("write_valid")
        with run.clock.stage("write_valid"):
            valid = write_delta(
                run.valid_frame,
                lake.table(ctx.source, ctx.dataset),
                commit_tag=f"{ctx.run_id}:valid",
                partition_by=("ingest_date",),
                merge_schema=True,
                replace_where=replace[0] if replace else None,
            )
    elif replace is not None and DeltaTable.isDeltaTable(run.spark, lake.table(ctx.source, ctx.dataset)):
        run.step("write_valid")
        valid = _delete_rows(
            run.spark, lake.table(ctx.source, ctx.dataset), replace[0], f"{ctx.run_id}:valid"
        )
    if run.dead_frames and (run.expected_dead or replace):
        frame = run.dead_frames[0]
        for other in run.dead_frames[1:]:
            frame = frame.unionByName(other)
        run.step("write_dead_letters")
        with run.clock.stage("write_dead_letters"):
            dead = write_delta(
                frame,
                lake.dead_letter,
                commit_tag=f"{ctx.run_id}:dead_letter",
                partition_by=("source", "ingest_date"),
                replace_where=replace[1] if replace else None,
                merge_schema=True,  # tables written before raw_bytes/raw_encoding gain them
            )
        run.step("write_error_zone")
        write_error_zone(frame, lake.error_zone(ctx.source, ctx.run_id))
    elif replace is not None and DeltaTable.isDeltaTable(run.spark, lake.dead_letter):
        run.step("write_dead_letters")
        dead = _delete_rows(run.spark, lake.dead_letter, replace[1], f"{ctx.run_id}:dead_letter")
    run.replaced_valid, run.replaced_dead = valid.replaced, dead.replaced
    for measured in (run.main, run.rejected):
        if measured is not None:
            measured.unpersist()
    return valid, dead


def _delete_rows(spark: SparkSession, path: str, predicate: str, commit_tag: str) -> Committed:
    """Remove superseded rows when the run has no row of that kind to write."""
    empty = spark.read.format("delta").load(path).limit(0)
    return write_delta(empty, path, commit_tag=commit_tag, replace_where=predicate)


def _check_conservation(run: _Run, written_valid: int, written_dead: int) -> int:
    """records_read == valid + dead letters, each as counted and as committed; return records_read."""
    records_read = sum(r.records_read for r in run.reports.values())
    if (
        written_valid != run.expected_valid
        or written_dead != run.expected_dead
        or records_read != written_valid + written_dead
    ):
        raise ConservationError(
            f"conservation check failed for run {run.ctx.run_id}: read {records_read}, "
            f"expected valid {run.expected_valid} (written {written_valid}), "
            f"expected dead letters {run.expected_dead} (written {written_dead})"
        )
    return records_read


def _errors_by_type(run: _Run) -> dict[str, int]:
    by_type: dict[str, int] = {}
    if run.main is not None:
        for uri, stats in run.main.files.items():
            if uri not in run.rejects:
                for kind, n in stats.errors_by_type.items():
                    by_type[kind] = by_type.get(kind, 0) + n
    for uri, (reason, _) in run.rejects.items():
        by_type[reason] = by_type.get(reason, 0) + run.reports[uri].records_dead_lettered
    for p in run.problems:
        by_type[p.error_type] = by_type.get(p.error_type, 0) + 1
    return dict(sorted(by_type.items()))


def _summary(
    run: _Run, job_name: str, started: dt.datetime, records_read: int, written_valid: int, written_dead: int
) -> dict[str, Any]:
    """The run summary (the run log row and ``<lake>/_runs/<run_id>.json``)."""
    ctx, reports, dq = run.ctx, run.reports, run.dq
    status, exit_code = _status(list(reports.values()), written_dead, dq)
    ended = utc_now()
    rejected_dead = sum(reports[u].records_dead_lettered for u in run.rejects)
    skipped = len(run.plan.unchanged)
    return {
        **run_header(ctx, job_name, status, exit_code),
        "records_read": records_read,
        "records_valid": written_valid,
        "records_dead_lettered": written_dead,
        "dead_letters_by_type": _errors_by_type(run),
        "blank_lines_skipped": sum(s.blank_lines for s in run.main.files.values()) if run.main else 0,
        "values_rounded": sum(s.rounded_values for s in run.main.files.values()) if run.main else 0,
        "files": [_file_summary(r) for r in reports.values()],
        **_plan_fields(run),
        "files_quarantined": len(run.quarantined),
        "verdicts": {r.uri: str(r.verdict) for r in reports.values()},
        "schema_drift_detected": any(r.verdict == Verdict.STRUCTURAL_CHANGE for r in reports.values()),
        "drift_reports": run.drift_reports,
        # Corruption is what was dead-lettered from files that loaded (rejected files are counted apart).
        "corrupt_ratio_pct": _ratio_pct(written_dead - rejected_dead, records_read),
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_seconds": round((ended - started).total_seconds(), 3),
        "message": _message(
            status, records_read, written_valid, written_dead, skipped, dq.message() if dq else None
        )
        + _plan_note(run),
        "lake_path": run.lake.root,
        "stage_seconds": run.clock.seconds,
        **(dq.summary_fields() if dq is not None else {"dq_success": None}),
        "dq_failures": [f.__dict__ for f in (dq.critical_failed + dq.warning_failed)] if dq else [],
    }


def _plan_fields(run: _Run) -> dict[str, Any]:
    """What the ledger decided: skipped files, duplicates, and which earlier runs this one superseded."""
    return {
        "files_skipped_already_processed": len(run.plan.unchanged),
        "files_skipped_duplicate_content": dict(run.plan.duplicates),
        "superseded_runs": dict(run.plan.supersedes),
        "rows_superseded": {"valid": run.replaced_valid, "dead_letters": run.replaced_dead},
    }


def _plan_note(run: _Run) -> str:
    note = ""
    if run.plan.duplicates:
        note += f"; {len(run.plan.duplicates)} file(s) skipped: same content as a file already ingested"
    if run.plan.supersedes:
        earlier = sorted({r for runs in run.plan.supersedes.values() for r in runs})
        note += (
            f"; {len(run.plan.supersedes)} file(s) superseded what run(s) {', '.join(earlier)} loaded "
            f"({run.replaced_valid} valid rows and {run.replaced_dead} dead letters replaced)"
        )
    return note


def _failed(run: _Run, job_name: str, started: dt.datetime, exc: Exception) -> dict[str, Any]:
    """End a run that failed at some step: undo its output, account for every file, say what failed.

    Every file of the run is quarantined byte for byte and gets one ``run_failed`` dead letter; the
    ledger marks it ``run_failed`` so the next run tries it again (and supersedes that dead letter).
    If this clean-up fails too, the original error propagates and the in-flight mark stays: the next
    run undoes whatever this one wrote.
    """
    ctx, lake = run.ctx, run.lake
    step = run.current_step
    problem = exc if isinstance(exc, FeedguardError) else environment_problem(exc)
    exit_code = problem.exit_code if problem is not None else EXIT_INTERNAL
    reason = str(problem) if problem is not None else f"{type(exc).__name__}: {exc}"
    if problem is None:
        log.error("run %s failed at step %s (a bug: please report it)", ctx.run_id, step, exc_info=exc)
    else:
        log.error("run %s failed at step %s: %s", ctx.run_id, step, reason)
    try:
        for measured in (run.main, run.rejected):
            if measured is not None:
                measured.unpersist()
        undo_run(run.spark, lake, ctx.source, ctx.dataset, ctx.run_id)
        folder = lake.quarantine(ctx.source, ctx.dataset, ctx.run_id)
        kept: dict[str, str] = {}
        for info in run.plan.todo:
            try:
                kept[info.uri] = quarantine_file(info.uri, folder)
            except OSError as copy_error:
                log.error("could not quarantine %s: %s", info.uri, copy_error)
        detail = f"the run failed at step {step}: {reason}; the file will be ingested again by the next run"
        problems = [FileProblem(info.uri, "run_failed", detail) for info in run.plan.todo]
        written = 0
        if problems:
            written = append_delta(
                _file_problem_rows(run.spark, problems, ctx, kept),
                lake.dead_letter,
                commit_tag=f"{ctx.run_id}:dead_letter",
                partition_by=("source", "ingest_date"),
                merge_schema=True,
            )
            append_delta(
                _ledger_frame(
                    run.spark, run.plan.todo, ctx, {p.uri: "run_failed" for p in problems}, run.plan
                ),
                lake.ledger,
                commit_tag=f"{ctx.run_id}:ledger",
                merge_schema=True,
            )
    except Exception as cleanup_error:
        note = "run %s: the clean-up after the failure failed too (%s); the next run undoes it"
        if problem is None:
            log.exception(note, ctx.run_id, type(cleanup_error).__name__)
        else:
            log.error(note, ctx.run_id, problem)
        raise exc from None
    for report in run.reports.values():
        report.records_read = report.records_dead_lettered = 1
        report.records_valid = 0
        report.verdict = Verdict.FILE_CORRUPT
        report.evidence = {"reason": detail}
        report.quarantined_to = kept.get(report.uri)
    ended = utc_now()
    status = "conservation_failed" if isinstance(exc, ConservationError) else "failed"
    return {
        **run_header(ctx, job_name, status, exit_code),
        "records_read": len(problems),
        "records_valid": 0,
        "records_dead_lettered": written,
        "dead_letters_by_type": {"run_failed": written} if written else {},
        "files": [_file_summary(r) for r in run.reports.values()],
        **_plan_fields(run),
        "files_quarantined": len(kept),
        "verdicts": {r.uri: str(r.verdict) for r in run.reports.values()},
        "schema_drift_detected": False,
        "drift_reports": {},
        "corrupt_ratio_pct": 100.0 if problems else 0.0,
        "failed_step": step,
        "error": reason,
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_seconds": round((ended - started).total_seconds(), 3),
        "message": f"{status} at step {step}: {reason}; {len(problems)} file(s) quarantined and "
        "dead-lettered as run_failed, to be ingested again by the next run",
        "lake_path": lake.root,
        "stage_seconds": run.clock.seconds,
        "dq_success": None,
        "dq_failures": [],
    }


def _drift_report(
    spark: SparkSession,
    contract: Contract,
    lake: Lake,
    ctx: RunContext,
    report: FileReport,
    main: Measured | None,
    next_version: int,
) -> dict[str, str]:
    """Infer the drifted file's schema, propose the next contract version, write the report."""
    delimiter = str(report.evidence.get("delimiter_found") or contract.csv.delimiter)
    stats = main.files.get(report.uri) if main is not None else None
    mistyped = set()
    if stats is not None and stats.records:
        for key, count in stats.error_fields.items():
            kind, _, name = key.partition(":")
            if kind == "type_mismatch" and count / stats.records > 0.5:
                mistyped.add(name)
    inferred = infer_fields(spark, contract, report.uri, delimiter)
    proposed = propose_contract(
        contract,
        inferred,
        mistyped_fields=mistyped,
        next_version=next_version,
        effective_from=dt.date.today(),
        delimiter=delimiter,
    )
    diff = diff_contracts(contract, proposed)
    report.evidence["proposed_compatibility"] = diff.compatibility
    drift = DriftReport(report.uri, str(report.evidence.get("detail", "")), report.evidence, proposed, diff)
    return write_drift_report(lake.drift(ctx.source, ctx.dataset, ctx.run_id), contract, drift)


def _routed(main: Measured, rejects: dict[str, tuple[str, str]]) -> DataFrame:
    """The measured records of the files that were not rejected, with lines and error types."""
    rejected = [name for name, uri in main.uri_of.items() if uri in rejects]
    return (
        main.frame.transform(with_source_line, main.chunk_offsets)
        .transform(records)
        .where(~F.col("_source_file").isin(rejected))
        .transform(error_type)
    )


def _ratio_pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


def _count_into(report: FileReport, stats: FileStats) -> None:
    report.records_read = stats.records
    report.records_valid = stats.good
    report.records_dead_lettered = stats.bad


def _file_summary(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.uri,
        "records_read": report.records_read,
        "records_valid": report.records_valid,
        "records_dead_lettered": report.records_dead_lettered,
        "verdict": str(report.verdict),
        "evidence": report.evidence,
        "quarantined_to": report.quarantined_to,
    }


def _message(status: str, read: int, valid: int, dead: int, skipped: int, note: str | None) -> str:
    text = f"{status}: read {read} records, {valid} valid, {dead} dead-lettered"
    if skipped:
        text += f"; {skipped} file(s) skipped as already processed (use --reprocess to force)"
    if note:
        text += f"; {note}"
    return text
