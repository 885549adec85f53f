"""Ingest partner files (QuickBite JSON, MealDash CSV) into the lake, against their data contract.

Run locally::

    spark-submit jobs/ingest_files.py --JOB_NAME ingest-quickbite --source quickbite --dataset orders \
        --input_path samples/quickbite --lake_path lake

On AWS Glue the same flags are job parameters (see deploy/glue/). Exit codes: docs/design.md.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Final

from feedguard.contracts.registry import load_versions
from feedguard.errors import InputNotFoundError, UsageError
from feedguard.ingest.job import run_file_job
from feedguard.lake.layout import Lake
from feedguard.lake.runlog import new_run_id
from feedguard.lake.storage import list_files
from feedguard.runtime.args import FILE_JOB_ARGS, resolve_args
from feedguard.runtime.entry import guarded
from feedguard.runtime.glue import job_session
from feedguard.runtime.logs import configure_logging
from feedguard.runtime.preload import GATE_MODULES, preload
from feedguard.runtime.reporting import reporters_from_args

log = logging.getLogger("feedguard.jobs.ingest_files")
SUMMARY_KEYS: Final = ("run_id", "status", "records_read", "records_valid", "records_dead_lettered")


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = list(sys.argv if argv is None else argv)
    return guarded(lambda: _run(args), log)


def _run(argv: list[str]) -> int:
    opts = resolve_args(argv, FILE_JOB_ARGS)
    versions = load_versions(opts["contracts_dir"], opts["source"], opts["dataset"])
    pinned = _number(opts, "contract_version", int)
    lease_wait, lease_ttl = (
        _number(opts, "lease_wait_seconds", float),
        _number(opts, "lease_ttl_seconds", float),
    )
    files = list_files(opts["input_path"])
    if not files:
        raise InputNotFoundError(f"no input file matches {opts['input_path']!r} (file, folder or glob)")
    lake = Lake(opts["lake_path"])
    lake.check_usable()
    reporters = reporters_from_args(opts, lake, os.environ)
    if not opts["skip_dq"]:
        preload(GATE_MODULES)  # Great Expectations imports while the JVM starts
    with job_session(opts["JOB_NAME"], opts) as spark:
        summaries = run_file_job(
            spark,
            versions,
            files,
            lake,
            reporters,
            job_name=opts["JOB_NAME"],
            input_path=opts["input_path"],
            run_id=opts["run_id"] or new_run_id(),
            pinned_version=int(pinned) if pinned is not None else None,
            reprocess=opts["reprocess"],
            expectations_dir=None if opts["skip_dq"] else opts["expectations_dir"],
            lease_wait_seconds=float(lease_wait or 0),
            lease_ttl_seconds=float(lease_ttl or 600),
        )
        if opts["docs"] == "build":
            from feedguard.quality.docs import build_docs

            log.info("data docs: %s", build_docs(opts["lake_path"], context_root=lake.gx_context_root))
    for summary in summaries:
        print(json.dumps({k: summary[k] for k in SUMMARY_KEYS}))
        log.info("%s", summary["message"])
    return max(int(s["exit_code"]) for s in summaries if not s.get("auto_accepted"))


def _number(opts: dict[str, object], name: str, kind: type[int] | type[float]) -> float | None:
    """A numeric option, or a usage error naming the flag and the value."""
    value = opts.get(name)
    if value is None or value == "":
        return None
    try:
        number = kind(str(value))
    except ValueError:
        raise UsageError(f"--{name} expects a number, got {value!r}") from None
    if number < 0:
        raise UsageError(f"--{name} must not be negative, got {value!r}")
    return number


if __name__ == "__main__":
    sys.exit(main())
