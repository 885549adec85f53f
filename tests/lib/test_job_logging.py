"""The jobs' log handler: one line per event, py4j's retried-connection tracebacks left out."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import py4j.java_gateway
import pytest

from feedguard.runtime.logs import configure_logging


@pytest.fixture
def job_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers = [h for h in root.handlers if not getattr(h, "_feedguard", False)]
    configure_logging()
    yield
    root.handlers = handlers
    root.setLevel(level)


def _record(pathname: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("root", level, pathname, 1, message, None, None)


@pytest.mark.usefixtures("job_logging")
def test_py4j_retry_notice_is_dropped_but_its_warnings_and_our_lines_are_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    py4j_file = py4j.java_gateway.__file__
    assert f"{os.sep}py4j{os.sep}" in py4j_file
    root = logging.getLogger()
    root.handle(_record(py4j_file, logging.INFO, "Exception while sending command."))
    root.handle(_record(py4j_file, logging.WARNING, "py4j gave up"))
    logging.getLogger("feedguard.jobs.ingest_files").info("read 3 records")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "WARNING root: py4j gave up",
        "INFO feedguard.jobs.ingest_files: read 3 records",
    ]
