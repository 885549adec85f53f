"""Data quality: GX suites from contracts, the quality gate, and the Data Docs site.

Public API::

    from feedguard.quality import generate_suite, refresh_suite, load_suite, validate, write_dq_results

The names are loaded on first use (PEP 562): a job that only reads a suite's path, or a module that only
needs :class:`DqOutcome`, does not import Great Expectations (seconds); the gate does, when it runs (or
earlier, on a thread of its own, while the Spark session starts: :mod:`feedguard.runtime.preload`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedguard.lazy_names import lazy_names

if TYPE_CHECKING:
    from feedguard.quality.gate import validate
    from feedguard.quality.outcome import (
        DQ_RESULTS_SCHEMA,
        DqOutcome,
        DqResultRow,
        FailedExpectation,
        write_dq_results,
    )
    from feedguard.quality.suites import (
        generate_suite,
        load_suite,
        refresh_suite,
        save_suite,
        suite_name,
        suite_path,
        write_suites,
    )

_PUBLIC: dict[str, str] = {
    "DQ_RESULTS_SCHEMA": "feedguard.quality.outcome",
    "DqOutcome": "feedguard.quality.outcome",
    "DqResultRow": "feedguard.quality.outcome",
    "FailedExpectation": "feedguard.quality.outcome",
    "generate_suite": "feedguard.quality.suites",
    "load_suite": "feedguard.quality.suites",
    "refresh_suite": "feedguard.quality.suites",
    "save_suite": "feedguard.quality.suites",
    "suite_name": "feedguard.quality.suites",
    "suite_path": "feedguard.quality.suites",
    "validate": "feedguard.quality.gate",
    "write_dq_results": "feedguard.quality.outcome",
    "write_suites": "feedguard.quality.suites",
}


__getattr__, __dir__ = lazy_names(globals(), _PUBLIC)

__all__ = [
    "DQ_RESULTS_SCHEMA",
    "DqOutcome",
    "DqResultRow",
    "FailedExpectation",
    "generate_suite",
    "load_suite",
    "refresh_suite",
    "save_suite",
    "suite_name",
    "suite_path",
    "validate",
    "write_dq_results",
    "write_suites",
]
