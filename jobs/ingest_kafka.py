"""Ingest a partner's Kafka topic (FoodNow order events) into the lake, exactly once, against its contract.

Run locally::

    spark-submit jobs/ingest_kafka.py --JOB_NAME ingest-foodnow --source foodnow --dataset order_events \
        --bootstrap_servers 127.0.0.1:9092 --topic foodnow.order-events --lake_path lake

Options: ``--consumer_group`` (default ``feedguard-<source>-<dataset>``), ``--max_offsets_per_partition``,
``--expected_downtime_minutes`` (30), ``--maintenance_windows START/END,...``, and the reporting flags of
``jobs/ingest_files.py``. On AWS Glue the same flags are job parameters (deploy/glue/). Exit codes:
docs/design.md (75: the broker stayed unreachable past the window; rerun later, nothing is lost; 74: the
lake cannot be written, e.g. read-only or a full disk; 2: bad arguments such as --bootstrap_servers).

``--continuous`` keeps running instead: one batch after another, every ``--interval`` seconds once caught
up, with ``/healthz`` at ``--health_address``, until SIGTERM or SIGINT (exit 0); start it with ``python``,
not spark-submit (feedguard.kafka.service, docs/operations.md §3.8).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Final

from feedguard.kafka.ingest import AfterWrite
from feedguard.kafka.job import run_kafka_job
from feedguard.kafka.service import run_kafka_service
from feedguard.runtime.args import KAFKA_JOB_ARGS, resolve_args
from feedguard.runtime.entry import guarded
from feedguard.runtime.logs import configure_logging

log = logging.getLogger("feedguard.jobs.ingest_kafka")
SUMMARY_KEYS: Final = (
    "run_id",
    "status",
    "records_read",
    "records_valid",
    "records_dead_lettered",
    "messages_lost",
)


def main(argv: Sequence[str] | None = None, *, after_write: AfterWrite | None = None) -> int:
    """Run the job; ``after_write`` is called after each write stage (crash tests inject it)."""
    configure_logging()
    args = list(sys.argv if argv is None else argv)
    return guarded(lambda: _run(args, after_write), log)


def _run(argv: list[str], after_write: AfterWrite | None) -> int:
    opts = resolve_args(argv, KAFKA_JOB_ARGS)
    if opts["continuous"]:
        return run_kafka_service(opts, os.environ, after_write=after_write)
    summary = run_kafka_job(opts, os.environ, after_write=after_write)
    print(json.dumps({k: summary[k] for k in SUMMARY_KEYS}))
    log.info("%s", summary["message"])
    if summary["exit_code"]:
        print(f"feedguard: error: {summary['message']}", file=sys.stderr)
    return int(summary["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
