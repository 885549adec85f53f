"""The file-ingest job's library side: one run per applicable contract version, then reporting.

``run_file_job`` is what ``jobs/ingest_files.py`` calls after parsing its arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import unquote

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract, load_contract
from feedguard.contracts.evolution import diff_contracts
from feedguard.contracts.versioning import group_by_version
from feedguard.ingest.flow import StepHook, no_hook, run_file_ingest
from feedguard.ingest.replay import ReplayFilter, run_replay
from feedguard.ingest.routing import RunContext
from feedguard.lake.layout import Lake
from feedguard.lake.lease import DEFAULT_TTL_SECONDS, Lease, hold_lease
from feedguard.lake.lifecycle import close_run, forget_metrics, pending_reports, report_sent
from feedguard.lake.runlog import iso, utc_now
from feedguard.lake.storage import FileInfo, join, list_folders, read_text, remove_path
from feedguard.quality.suites import load_suite, suite_path
from feedguard.runtime.reporting import Reporters, report_run
from feedguard.summary import RunSummary, summary_from_json

log = logging.getLogger(__name__)


def _suite_for(expectations_dir: str | None, contract: Contract) -> dict[str, Any] | None:
    if expectations_dir is None:
        log.warning("quality gate skipped for %s v%d (--skip_dq)", contract.key, contract.version)
        return None
    path = suite_path(expectations_dir, contract)
    if not path.exists():
        log.warning("no GX suite at %s: quality gate skipped (run `feedguard expectations generate`)", path)
        return None
    return load_suite(path)


def run_file_job(
    spark: SparkSession,
    versions: list[Contract],
    files: list[FileInfo],
    lake: Lake,
    reporters: Reporters,
    *,
    job_name: str,
    input_path: str,
    run_id: str,
    pinned_version: int | None = None,
    reprocess: bool = False,
    expectations_dir: str | None = "expectations",
    lease_wait_seconds: float = 0.0,
    lease_ttl_seconds: float = DEFAULT_TTL_SECONDS,
    on_step: StepHook = no_hook,
) -> list[RunSummary]:
    """One ingest run per contract version that applies (usually one): ingest, report, close.

    The whole job holds the feed's lease (``<lake>/_leases/<source>/<dataset>.json``): a second run of
    the same feed waits ``lease_wait_seconds`` and then stops with exit 75, touching nothing. The
    quality gate runs the contract version's GX suite from ``expectations_dir`` (None: no gate).
    ``on_step`` is called before each step (after the lease check).
    """
    feed = versions[0]
    with hold_lease(
        lake.lease(feed.source, feed.dataset),
        run_id,
        feed=f"{feed.source}/{feed.dataset}",
        ttl_seconds=lease_ttl_seconds,
        wait_seconds=lease_wait_seconds,
    ) as lease:
        send_pending_reports(spark, versions, lake, reporters)
        finished = finished_runs(spark, lake, run_id)
        if finished:
            log.warning("run %s already finished: nothing to do (a retry of a run that completed)", run_id)
            return finished
        return _run_groups(
            spark, versions, files, lake, reporters, lease, _checked_steps(lease, on_step),
            job_name=job_name, input_path=input_path, run_id=run_id, pinned_version=pinned_version,
            reprocess=reprocess, expectations_dir=expectations_dir,
        )  # fmt: skip


def send_report(
    spark: SparkSession, summary: RunSummary, contract: Contract, lake: Lake, reporters: Reporters
) -> RunSummary:
    """Metrics and alerts of a closed run, then its summary JSON with what was sent."""
    summary = report_run(spark, summary, contract, lake, reporters)
    report_sent(lake, summary)
    return summary


def send_pending_reports(
    spark: SparkSession, versions: list[Contract], lake: Lake, reporters: Reporters
) -> None:
    """Report the runs that closed but died before reporting (oldest first)."""
    feed = versions[0]
    for summary in pending_reports(lake, feed.source, feed.dataset):
        contract = next((c for c in versions if c.version == summary.get("contract_version")), versions[-1])
        log.warning("run %s closed without sending its report: sending it now", summary["run_id"])
        forget_metrics(spark, lake, summary["run_id"])
        send_report(spark, summary, contract, lake, reporters)


def finished_runs(spark: SparkSession, lake: Lake, run_id: str) -> list[RunSummary]:
    """The summaries of ``run_id`` (and its per-version runs) when it already finished."""
    if not DeltaTable.isDeltaTable(spark, lake.runs):
        return []
    rows = (
        spark.read.format("delta")
        .load(lake.runs)
        .where((F.col("run_id") == run_id) | F.col("run_id").startswith(f"{run_id}-v"))
        .select("summary_json")
        .collect()
    )
    run_ids = [summary_from_json(r[0])["run_id"] for r in rows]
    return [summary_from_json(read_text(lake.run_summary(run))) for run in run_ids]


def _checked_steps(lease: Lease, on_step: StepHook) -> StepHook:
    def step(name: str) -> None:
        lease.check()
        on_step(name)

    return step


def _run_groups(
    spark: SparkSession,
    versions: list[Contract],
    files: list[FileInfo],
    lake: Lake,
    reporters: Reporters,
    lease: Lease,
    on_step: StepHook,
    *,
    job_name: str,
    input_path: str,
    run_id: str,
    pinned_version: int | None,
    reprocess: bool,
    expectations_dir: str | None,
) -> list[RunSummary]:
    groups = group_by_version(files, versions, dt.date.today(), pinned_version)
    summaries = []
    for version, group in sorted(groups.items()):
        contract = next(c for c in versions if c.version == version)
        group_run = run_id if len(groups) == 1 else f"{run_id}-v{version}"
        ctx = RunContext(contract.source, contract.dataset, contract.version, group_run, iso(utc_now()))
        log.info(
            "run %s: %s v%d, %d file(s) from %s", group_run, contract.key, version, len(group), input_path
        )
        summary = run_file_ingest(
            spark,
            contract,
            lake,
            input_path,
            ctx,
            job_name=job_name,
            reprocess=reprocess,
            next_version=max(v.version for v in versions) + 1,
            files=group,
            suite=_suite_for(expectations_dir, contract),
            gx_root=lake.gx_context_root,
            on_step=on_step,
        )
        on_step("close")
        close_run(spark, lake, summary, awaiting_report=True)
        on_step("report")
        summary = send_report(spark, summary, contract, lake, reporters)
        drop_superseded_error_zone(lake, contract.source, summary)
        summaries.append(summary)
        lease.check()
        summaries.extend(auto_accept(spark, contract, lake, summary))
    return summaries


def drop_superseded_error_zone(lake: Lake, source: str, summary: RunSummary) -> None:
    """Remove the error-zone copies of a file's bad lines left by the runs it superseded.

    The error zone holds one folder per file (``file=<name>``, escaped the way Spark escapes partition
    values); the superseding run wrote its own copy.
    """
    for uri, runs in summary.get("superseded_runs", {}).items():
        name = unquote(uri.rstrip("/").rsplit("/", 1)[-1])
        for old_run in runs:
            if old_run == summary["run_id"]:
                continue
            folder = lake.error_zone(source, old_run)
            for child in list_folders(folder):
                if unquote(child) == f"file={name}":
                    remove_path(join(folder, child))


def auto_accept(spark: SparkSession, contract: Contract, lake: Lake, summary: RunSummary) -> list[RunSummary]:
    """Load drifted files under their proposed version when the contract allows that change.

    The drifted records were dead-lettered and quarantined by the run; an accepted proposal replays
    exactly those dead letters under the proposed version (so the audit trail shows both steps).
    Breaking proposals, and contracts without ``auto_accept_compatible``, are left for review.
    """
    if not contract.auto_accept_compatible:
        return []
    replays = []
    for index, (uri, paths) in enumerate(sorted(summary.get("drift_reports", {}).items())):
        proposed = load_contract(paths["proposed_contract"])
        diff = diff_contracts(contract, proposed)
        if diff.breaking or not diff.satisfies(contract.compatibility):
            log.warning("%s: drift in %s is %s: left for review", contract.key, uri, diff.compatibility)
            continue
        run_id = f"{summary['run_id']}-accept{index + 1}"
        ctx = RunContext(proposed.source, proposed.dataset, proposed.version, run_id, iso(utc_now()))
        chosen = ReplayFilter(run_id=summary["run_id"], error_type="structural_change", source_file=uri)
        replay = run_replay(spark, proposed, lake, ctx, chosen)
        replay["kind"] = "auto_accept"
        replay["job_name"] = summary.get("job_name")
        replay["accepted_file"] = uri
        replay["accepted_contract"] = paths["proposed_contract"]
        replay["compatibility"] = diff.compatibility
        replay["message"] = (
            f"auto-accepted {diff.compatibility} drift of {uri} under proposed v{proposed.version}: "
            + replay["message"]
        )
        log.warning("%s", replay["message"])
        close_run(spark, lake, replay)
        replays.append(replay)
    if replays and len(replays) == len(summary.get("drift_reports", {})):
        summary["auto_accepted"] = True  # every drift was accepted: the job need not fail on it
    return replays
