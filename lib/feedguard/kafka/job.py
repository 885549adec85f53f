"""The Kafka job's orchestration: options in, one exactly-once batch of the topic ingested and reported.

``jobs/ingest_kafka.py`` is the thin entry point over :func:`run_kafka_job`, as ``jobs/ingest_files.py`` is
over :func:`feedguard.ingest.job.run_file_job`. Tests inject ``after_write`` (called after each write
stage) to kill the process at a chosen point; nothing here reads a test switch from the environment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from feedguard.contracts.registry import load_versions, select_version
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import kafka_feed, outage_policy
from feedguard.kafka.ingest import AfterWrite, kafka_guard
from feedguard.kafka.lifecycle import ingest_and_report
from feedguard.lake.layout import Lake
from feedguard.lake.lease import hold_lease
from feedguard.lake.runlog import iso, new_run_id, utc_now
from feedguard.runtime.glue import job_session
from feedguard.runtime.reporting import reporters_from_args

log = logging.getLogger("feedguard.kafka.job")


def run_kafka_job(
    opts: Mapping[str, Any], environ: Mapping[str, str], *, after_write: AfterWrite | None = None
) -> dict[str, Any]:
    """Check the options and the lake, hold the feed's lease, ingest one batch; return the run summary."""
    versions = load_versions(opts["contracts_dir"], opts["source"], opts["dataset"])
    contract = select_version(versions, dt.date.today(), None)
    feed = kafka_feed(opts)
    guard = kafka_guard(outage_policy(opts["expected_downtime_minutes"], opts["maintenance_windows"]))
    run_id = opts["run_id"] or new_run_id()
    ctx = RunContext(contract.source, contract.dataset, contract.version, run_id, iso(utc_now()))
    log.info(
        "run %s: %s v%d from %s on %s", run_id, contract.key, contract.version, feed.topic, feed.bootstrap
    )
    lake = Lake(opts["lake_path"])
    lake.check_usable()  # a file or a read-only folder is a one-line error (exit 2 or 74), not a traceback
    reporters = reporters_from_args(opts, lake, environ)
    # One run of the feed at a time, as for files: a second run exits 75 and touches nothing.
    lease = hold_lease(lake.lease(contract.source, contract.dataset), run_id, feed=contract.key)
    with lease, job_session(opts["JOB_NAME"], opts, kafka=True) as spark:
        return ingest_and_report(
            spark,
            contract,
            lake,
            feed,
            ctx,
            reporters,
            job_name=opts["JOB_NAME"],
            guard=guard,
            after_write=after_write,
        )
