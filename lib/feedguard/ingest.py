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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.classify import HeaderProblem, Verdict, classify_file, header_problem
from feedguard.contract import Contract
from feedguard.drift import DriftReport, infer_fields, propose_contract, write_drift_report
from feedguard.errors import (
    EXIT_DQ_FAILED,
    EXIT_OK,
    EXIT_STRUCTURAL_CHANGE,
    ConservationError,
    InputNotFoundError,
)
from feedguard.evolution import diff_contracts
from feedguard.file_checks import CheckedFile, check_files
from feedguard.lake import Lake
from feedguard.ledger import LEDGER_SCHEMA, processed_keys, unprocessed
from feedguard.lifecycle import recover_inflight
from feedguard.parsing import FileStats, Measured, measure, parse_files
from feedguard.quality import DqOutcome, validate, write_dq_results
from feedguard.routing import (
    DEAD_LETTER_SCHEMA,
    RunContext,
    dead_letter_rows,
    error_type,
    records,
    valid_rows,
    with_file_errors,
    with_source_line,
)
from feedguard.runlog import iso, mark_inflight, run_header, utc_now
from feedguard.sinks import append_delta, quarantine_file, write_error_zone
from feedguard.storage import FileInfo, join, list_files, write_text

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


def _unreadable_rows(
    spark: SparkSession, files: list[CheckedFile], ctx: RunContext, quarantine: dict[str, str]
) -> DataFrame:
    now = dt.datetime.fromisoformat(ctx.ingested_at.replace("Z", "+00:00")).replace(tzinfo=None)
    rows = [
        (
            ctx.source,
            ctx.dataset,
            ctx.contract_version,
            ctx.run_id,
            f.info.uri,
            None,
            None,
            "file_corrupt",
            f"{f.detail}; the file is kept byte for byte at {quarantine.get(f.info.uri)}",
            None,
            None,
            None,
            None,
            None,
            None,
            now,
            now.date(),
            "open",
            None,
            None,
            None,
        )
        for f in files
    ]
    return spark.createDataFrame(rows, DEAD_LETTER_SCHEMA)


def _ledger_rows(
    spark: SparkSession, files: list[FileInfo], ctx: RunContext, reports: dict[str, FileReport]
) -> DataFrame:
    now = dt.datetime.fromisoformat(ctx.ingested_at.replace("Z", "+00:00")).replace(tzinfo=None)
    rows = [
        (ctx.source, ctx.dataset, f.uri, f.size, f.mtime, ctx.run_id, str(reports[f.uri].verdict), now)
        for f in files
    ]
    return spark.createDataFrame(rows, LEDGER_SCHEMA)


def _status(reports: list[FileReport], dead: int, dq: DqOutcome | None) -> tuple[str, int]:
    verdicts = {r.verdict for r in reports}
    if Verdict.STRUCTURAL_CHANGE in verdicts:
        return "structural_change", EXIT_STRUCTURAL_CHANGE
    if dq is not None and not dq.success:
        return "dq_failed", EXIT_DQ_FAILED
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
) -> dict[str, Any]:
    """Ingest every new file under ``input_path`` (or ``files``); return the run summary."""
    started = utc_now()
    listed = files if files is not None else list_files(input_path)
    if not listed:
        raise InputNotFoundError(f"no input file matches {input_path!r} (file, folder or glob)")
    recover_inflight(spark, lake, ctx.source, ctx.dataset)
    done = set() if reprocess else processed_keys(spark, lake.ledger, ctx.source, ctx.dataset)
    todo = unprocessed(listed, done)
    mark_inflight(lake.inflight(ctx.source, ctx.dataset), ctx.run_id)

    checked = check_files(todo)
    run = _Run(
        spark, contract, lake, ctx, StageClock(), {c.info.uri: FileReport(c.info.uri) for c in checked}
    )
    unreadable = [c for c in checked if c.readability in ("truncated_gzip", "binary")]
    readable = [c for c in checked if c.readability == "ok"]
    header_rejects = {
        c.info.uri: problem
        for c in readable
        if (problem := header_problem(contract, c.first_line)) is not None
    }
    main_files = [c for c in readable if c.info.uri not in header_rejects]
    if main_files:
        with run.clock.stage("parse_and_measure"):
            run.main = measure(parse_files(spark, contract, main_files), main_files)

    _classify(run, header_rejects)
    if suite is not None:
        _quality_gate(run, suite, gx_root or join(lake.root, "_gx"))
    _quarantine(run, unreadable, next_version or contract.version + 1)
    _route_loaded_files(run)
    _route_rejected_files(run, [c for c in readable if c.info.uri in run.rejects])
    _route_unreadable_files(run, unreadable)
    written_valid, written_dead = _write(run)
    records_read = _check_conservation(run, written_valid, written_dead)
    if todo:
        append_delta(
            _ledger_rows(spark, todo, ctx, run.reports), lake.ledger, commit_tag=f"{ctx.run_id}:ledger"
        )
    skipped = len(listed) - len(todo)
    return _summary(run, job_name, started, records_read, written_valid, written_dead, skipped, unreadable)


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
        if verdict.verdict == Verdict.STRUCTURAL_CHANGE:
            run.reports[uri].evidence["detail"] = verdict.detail
            run.rejects[uri] = ("structural_change", verdict.detail)


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
        run.reports[c.info.uri].evidence = {"reason": c.detail}
        run.quarantined[c.info.uri] = quarantine_file(c.info.uri, folder)
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


def _route_unreadable_files(run: _Run, unreadable: list[CheckedFile]) -> None:
    """One dead letter per unreadable file (the file itself is in the quarantine)."""
    if not unreadable:
        return
    run.dead_frames.append(_unreadable_rows(run.spark, unreadable, run.ctx, run.quarantined))
    for c in unreadable:
        run.reports[c.info.uri].records_read = 1
        run.reports[c.info.uri].records_dead_lettered = 1
    run.expected_dead += len(unreadable)


def _write(run: _Run) -> tuple[int, int]:
    """Append the valid rows and the dead letters (then the error zone); return the rows each commit wrote."""
    ctx, lake = run.ctx, run.lake
    written_valid = written_dead = 0
    if run.valid_frame is not None and run.expected_valid:
        with run.clock.stage("write_valid"):
            written_valid = append_delta(
                run.valid_frame,
                lake.table(ctx.source, ctx.dataset),
                commit_tag=f"{ctx.run_id}:valid",
                partition_by=("ingest_date",),
                merge_schema=True,
            )
    if run.dead_frames and run.expected_dead:
        dead = run.dead_frames[0]
        for frame in run.dead_frames[1:]:
            dead = dead.unionByName(frame)
        with run.clock.stage("write_dead_letters"):
            written_dead = append_delta(
                dead,
                lake.dead_letter,
                commit_tag=f"{ctx.run_id}:dead_letter",
                partition_by=("source", "ingest_date"),
            )
        write_error_zone(dead, lake.error_zone(ctx.source, ctx.run_id))
    for measured in (run.main, run.rejected):
        if measured is not None:
            measured.unpersist()
    return written_valid, written_dead


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
            f"expected dead letters {run.expected_dead} (written {written_dead}); "
            "the run stays marked in flight and its rows are removed by the next run"
        )
    return records_read


def _errors_by_type(run: _Run, unreadable: list[CheckedFile]) -> dict[str, int]:
    by_type: dict[str, int] = {}
    if run.main is not None:
        for uri, stats in run.main.files.items():
            if uri not in run.rejects:
                for kind, n in stats.errors_by_type.items():
                    by_type[kind] = by_type.get(kind, 0) + n
    for uri, (reason, _) in run.rejects.items():
        by_type[reason] = by_type.get(reason, 0) + run.reports[uri].records_dead_lettered
    if unreadable:
        by_type["file_corrupt"] = len(unreadable)
    return dict(sorted(by_type.items()))


def _summary(
    run: _Run,
    job_name: str,
    started: dt.datetime,
    records_read: int,
    written_valid: int,
    written_dead: int,
    skipped: int,
    unreadable: list[CheckedFile],
) -> dict[str, Any]:
    """The run summary (the run log row and ``<lake>/_runs/<run_id>.json``)."""
    ctx, reports, dq = run.ctx, run.reports, run.dq
    status, exit_code = _status(list(reports.values()), written_dead, dq)
    ended = utc_now()
    rejected_dead = sum(reports[u].records_dead_lettered for u in run.rejects)
    return {
        **run_header(ctx, job_name, status, exit_code),
        "records_read": records_read,
        "records_valid": written_valid,
        "records_dead_lettered": written_dead,
        "dead_letters_by_type": _errors_by_type(run, unreadable),
        "files": [_file_summary(r) for r in reports.values()],
        "files_skipped_already_processed": skipped,
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
        ),
        "lake_path": run.lake.root,
        "stage_seconds": run.clock.seconds,
        **(dq.summary_fields() if dq is not None else {"dq_success": None}),
        "dq_failures": [f.__dict__ for f in (dq.critical_failed + dq.warning_failed)] if dq else [],
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
