"""Logging set-up for jobs: one line per event, UTC timestamps, quiet Spark/py4j."""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the event (it may be replaced after set-up)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def _not_py4j_retry(record: logging.LogRecord) -> bool:
    """py4j logs a pooled connection it retries on the *root* logger at INFO, with a traceback: noise.

    If the retry fails too, py4j raises and the job reports the error itself.
    """
    return not (record.levelno < logging.WARNING and f"{os.sep}py4j{os.sep}" in record.pathname)


def configure_logging(level: int = logging.INFO) -> None:
    handler = _StderrHandler()
    handler.addFilter(_not_py4j_retry)
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if not any(getattr(h, "_feedguard", False) for h in root.handlers):
        handler._feedguard = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # GX 1.x calls deprecated pyparsing names; the warning is noise in a job's log.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    for noisy in ("py4j", "botocore", "urllib3", "kafka", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
