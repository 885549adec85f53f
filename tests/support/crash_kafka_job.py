"""Run the Kafka job and kill the process right after one write stage: ``crash_kafka_job.py STAGE ARGS...``.

The crash tests run this in a subprocess; the hook is injected into ``jobs.ingest_kafka.main``, so the
production job carries no test switch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from jobs.ingest_kafka import main

KILLED = 137  # the exit status of a process killed by SIGKILL, as the scheduler would see it


def crash_after(stage: str) -> Callable[[str], None]:
    def hook(done: str) -> None:
        if done == stage:
            print(f"crash test: killing the process after {stage}", file=sys.stderr)
            os._exit(KILLED)

    return hook


if __name__ == "__main__":
    stage, *job_args = sys.argv[1:]
    sys.exit(main(["ingest_kafka.py", *job_args], after_write=crash_after(stage)))
