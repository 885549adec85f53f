"""The Kafka job's orchestration: options in, one exactly-once batch of the topic ingested and reported.

``jobs/ingest_kafka.py`` is the thin entry point over :func:`run_kafka_job`, as ``jobs/ingest_files.py`` is
over :func:`feedguard.ingest.job.run_file_job`. Tests inject ``after_write`` (called after each write
stage) to kill the process at a chosen point; nothing here reads a test switch from the environment.
``--continuous`` runs :func:`feedguard.kafka.service.run_kafka_service` instead, on the same
:func:`kafka_job_setup`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedguard.contracts.contract import Contract
from feedguard.contracts.registry import load_versions, select_version
from feedguard.errors import UsageError
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import KafkaFeed, feed_security, kafka_feed, outage_policy
from feedguard.kafka.ingest import AfterWrite, kafka_guard
from feedguard.kafka.lifecycle import ingest_and_report
from feedguard.kafka.outage import OutagePolicy
from feedguard.lake.layout import Lake
from feedguard.lake.lease import DEFAULT_TTL_SECONDS, hold_lease
from feedguard.lake.runlog import iso, new_run_id, utc_now
from feedguard.runtime.glue import job_session
from feedguard.runtime.reporting import Reporters, reporters_from_args
from feedguard.summary import RunSummary

log = logging.getLogger("feedguard.kafka.job")


@dataclass(frozen=True)
class KafkaJobSetup:
    """What a Kafka run needs, unpacked and checked from the job's options (bad values: exit 2)."""

    contract: Contract
    feed: KafkaFeed
    policy: OutagePolicy
    lake: Lake
    reporters: Reporters
    lease_ttl_seconds: float
    lease_wait_seconds: float


def kafka_job_setup(opts: Mapping[str, Any], environ: Mapping[str, str]) -> KafkaJobSetup:
    """The contract, feed, outage policy, a usable lake and the reporters of the options."""
    versions = load_versions(opts["contracts_dir"], opts["source"], opts["dataset"])
    contract = select_version(versions, dt.date.today(), None)
    feed = kafka_feed(opts, feed_security(opts, environ))
    policy = outage_policy(opts["expected_downtime_minutes"], opts["maintenance_windows"])
    lake = Lake(opts["lake_path"])
    lake.check_usable()  # a file or a read-only folder is a one-line error (exit 2 or 74), not a traceback
    reporters = reporters_from_args(opts, lake, environ)
    ttl = seconds_option(opts, "lease_ttl_seconds", DEFAULT_TTL_SECONDS, minimum=1.0)
    wait = seconds_option(opts, "lease_wait_seconds", 0.0)
    return KafkaJobSetup(contract, feed, policy, lake, reporters, ttl, wait)


def seconds_option(opts: Mapping[str, Any], name: str, default: float, *, minimum: float = 0.0) -> float:
    """``opts[name]`` as seconds (decimals allowed), ``default`` when absent; below ``minimum``: exit 2."""
    text = str(opts.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--{name} expects seconds, got {text!r}") from None
    if not minimum <= value < math.inf:
        raise UsageError(f"--{name} must be at least {minimum:g} seconds, got {text!r}")
    return value


def run_kafka_job(
    opts: Mapping[str, Any], environ: Mapping[str, str], *, after_write: AfterWrite | None = None
) -> RunSummary:
    """Check the options and the lake, hold the feed's lease, ingest one batch; return the run summary."""
    setup = kafka_job_setup(opts, environ)
    contract, feed, lake = setup.contract, setup.feed, setup.lake
    guard = kafka_guard(setup.policy)
    run_id = opts["run_id"] or new_run_id()
    ctx = RunContext(contract.source, contract.dataset, contract.version, run_id, iso(utc_now()))
    log.info(
        "run %s: %s v%d from %s on %s", run_id, contract.key, contract.version, feed.topic, feed.bootstrap
    )
    # One run of the feed at a time, as for files: a second run exits 75 and touches nothing.
    lease = hold_lease(
        lake.lease(contract.source, contract.dataset),
        run_id,
        feed=contract.key,
        ttl_seconds=setup.lease_ttl_seconds,
        wait_seconds=setup.lease_wait_seconds,
    )
    with lease, job_session(opts["JOB_NAME"], opts, kafka=True) as spark:
        return ingest_and_report(
            spark,
            contract,
            lake,
            feed,
            ctx,
            setup.reporters,
            job_name=opts["JOB_NAME"],
            guard=guard,
            after_write=after_write,
        )
