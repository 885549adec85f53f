"""Ingest partner files (QuickBite JSON, MealDash CSV) into the lake, against their data contract.

Run locally::

    spark-submit jobs/ingest_files.py --JOB_NAME ingest-quickbite --source quickbite --dataset orders \
        --input_path samples/quickbite --lake_path lake

On AWS Glue the same flags are job parameters (see deploy/glue/). Exit codes: docs/design.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence

from feedguard.args import FILE_JOB_ARGS, resolve_args
from feedguard.errors import EXIT_INTERNAL, FeedguardError
from feedguard.glue import job_session
from feedguard.ingest import close_run, run_file_ingest
from feedguard.lake import Lake
from feedguard.logs import configure_logging
from feedguard.registry import load_versions, select_version
from feedguard.reporting import report_run, reporters_from_args
from feedguard.routing import RunContext
from feedguard.runlog import iso, new_run_id, utc_now

log = logging.getLogger("feedguard.jobs.ingest_files")


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    argv = list(sys.argv if argv is None else argv)
    try:
        opts = resolve_args(argv, FILE_JOB_ARGS)
        versions = load_versions(opts["contracts_dir"], opts["source"], opts["dataset"])
        pinned = int(opts["contract_version"]) if opts["contract_version"] else None
        contract = select_version(versions, dt.date.today(), pinned)
        run_id = opts["run_id"] or new_run_id()
        ctx = RunContext(contract.source, contract.dataset, contract.version, run_id, iso(utc_now()))
        log.info("run %s: %s v%d from %s", run_id, contract.key, contract.version, opts["input_path"])
        lake = Lake(opts["lake_path"])
        reporters = reporters_from_args(opts, lake, os.environ)
        with job_session(opts["JOB_NAME"], opts) as spark:
            summary = run_file_ingest(
                spark,
                contract,
                lake,
                opts["input_path"],
                ctx,
                job_name=opts["JOB_NAME"],
                reprocess=opts["reprocess"],
                next_version=max(v.version for v in versions) + 1,
            )
            summary = report_run(spark, summary, contract, lake, reporters)
            close_run(spark, lake, summary)
    except FeedguardError as exc:
        log.error("%s", exc)
        print(f"feedguard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception:
        log.exception("unexpected internal error (a bug: please report it with this log)")
        return EXIT_INTERNAL
    print(
        json.dumps(
            {
                k: summary[k]
                for k in ("run_id", "status", "records_read", "records_valid", "records_dead_lettered")
            }
        )
    )
    log.info("%s", summary["message"])
    return int(summary["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
