"""Data quality: GX suites from contracts, the quality gate, and the Data Docs site.

Public API::

    from feedguard.quality import generate_suite, refresh_suite, load_suite, validate, write_dq_results
"""

from feedguard.quality.gate import (
    DQ_RESULTS_SCHEMA,
    DqOutcome,
    DqResultRow,
    FailedExpectation,
    validate,
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
