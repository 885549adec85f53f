"""The file-ingest job's library side: one run per applicable contract version, then reporting.

``run_file_job`` is what ``jobs/ingest_files.py`` calls after parsing its arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from typing import Any

from pyspark.sql import SparkSession

from feedguard.contract import Contract, load_contract
from feedguard.evolution import diff_contracts
from feedguard.ingest import run_file_ingest
from feedguard.lake import Lake
from feedguard.lifecycle import close_run
from feedguard.quality import load_suite, suite_path
from feedguard.replay import ReplayFilter, run_replay
from feedguard.reporting import Reporters, report_run
from feedguard.routing import RunContext
from feedguard.runlog import iso, utc_now
from feedguard.storage import FileInfo, is_s3, join
from feedguard.versioning import group_by_version

log = logging.getLogger(__name__)


def gx_context_root(lake: Lake) -> str:
    """GX's file context lives in the lake when it is local, else in a local temporary folder."""
    if is_s3(lake.root):
        return join(tempfile.gettempdir(), "feedguard-gx")
    return join(lake.root, "_gx")


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
) -> list[dict[str, Any]]:
    """One ingest run per contract version that applies (usually one): ingest, report, close.

    The quality gate runs the contract version's GX suite from ``expectations_dir`` (None: no gate).
    """
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
            gx_root=gx_context_root(lake),
        )
        summary = report_run(spark, summary, contract, lake, reporters)
        close_run(spark, lake, summary)
        summaries.append(summary)
        summaries.extend(auto_accept(spark, contract, lake, summary))
    return summaries


def auto_accept(
    spark: SparkSession, contract: Contract, lake: Lake, summary: dict[str, Any]
) -> list[dict[str, Any]]:
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
        replay.update(
            kind="auto_accept",
            job_name=summary.get("job_name"),
            accepted_file=uri,
            accepted_contract=paths["proposed_contract"],
            compatibility=diff.compatibility,
        )
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
