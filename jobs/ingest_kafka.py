"""Ingest a partner's Kafka topic (FoodNow order events) into the lake, exactly once, against its contract.

Run locally::

    spark-submit jobs/ingest_kafka.py --JOB_NAME ingest-foodnow --source foodnow --dataset order_events \
        --bootstrap_servers 127.0.0.1:9092 --topic foodnow.order-events --lake_path lake

Options: ``--consumer_group`` (default ``feedguard-<source>-<dataset>``), ``--max_offsets_per_partition``,
``--expected_downtime_minutes`` (30), ``--maintenance_windows START/END,...``, and the reporting flags of
``jobs/ingest_files.py``. On AWS Glue the same flags are job parameters (deploy/glue/). Exit codes:
docs/design.md (75: the broker stayed unreachable past the window; rerun later, nothing is lost; 74: the
lake cannot be written, e.g. read-only or a full disk; 2: bad arguments such as --bootstrap_servers).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from feedguard.contracts.registry import load_versions, select_version
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import kafka_feed, outage_policy
from feedguard.kafka.ingest import kafka_guard
from feedguard.kafka.lifecycle import ingest_and_report
from feedguard.lake.layout import Lake
from feedguard.lake.lease import hold_lease
from feedguard.lake.runlog import iso, new_run_id, utc_now
from feedguard.runtime.args import KAFKA_JOB_ARGS, resolve_args
from feedguard.runtime.entry import guarded
from feedguard.runtime.glue import job_session
from feedguard.runtime.logs import configure_logging
from feedguard.runtime.reporting import reporters_from_args

log = logging.getLogger("feedguard.jobs.ingest_kafka")
SUMMARY_KEYS = ("run_id", "status", "records_read", "records_valid", "records_dead_lettered", "messages_lost")
CRASH_ENV = "FEEDGUARD_TEST_CRASH_AFTER"  # crash tests only: os._exit right after this write stage


def crash_hook(environ: Mapping[str, str]) -> Callable[[str], None] | None:
    """Kill the process right after the stage named in ``FEEDGUARD_TEST_CRASH_AFTER`` (crash tests)."""
    stage = environ.get(CRASH_ENV)
    if not stage:
        return None

    def crash(done: str) -> None:
        if done == stage:
            log.error("%s=%s: killing the process now", CRASH_ENV, stage)
            os._exit(137)

    return crash


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = list(sys.argv if argv is None else argv)
    return guarded(lambda: _run(args), log)


def _run(argv: list[str]) -> int:
    opts = resolve_args(argv, KAFKA_JOB_ARGS)
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
    reporters = reporters_from_args(opts, lake, os.environ)
    # One run of the feed at a time, as for files: a second run exits 75 and touches nothing.
    lease = hold_lease(lake.lease(contract.source, contract.dataset), run_id, feed=contract.key)
    with lease, job_session(opts["JOB_NAME"], opts, kafka=True) as spark:
        summary = ingest_and_report(
            spark,
            contract,
            lake,
            feed,
            ctx,
            reporters,
            job_name=opts["JOB_NAME"],
            guard=guard,
            after_write=crash_hook(os.environ),
        )
    print(json.dumps({k: summary[k] for k in SUMMARY_KEYS}))
    log.info("%s", summary["message"])
    if summary["exit_code"]:
        print(f"feedguard: error: {summary['message']}", file=sys.stderr)
    return int(summary["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
