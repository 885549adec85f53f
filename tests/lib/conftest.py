"""Fixtures for the metrics and alerts tests: run summaries as the ingest job writes them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import pytest

from feedguard.summary import RunSummary

BASE_SUMMARY: dict[str, Any] = {
    "run_id": "r-20240501-1",
    "job_name": "ingest_files",
    "source": "quickbite",
    "dataset": "orders",
    "contract_version": "1",
    "status": "succeeded",
    "exit_code": 0,
    "records_read": 200,
    "records_valid": 194,
    "records_dead_lettered": 6,
    "dead_letters_by_type": {"malformed_json": 4, "type_mismatch": 2},
    "files": [
        {
            "path": "in/orders-1.json",
            "records_read": 120,
            "records_valid": 120,
            "records_dead_lettered": 0,
            "verdict": "clean",
        },
        {
            "path": "in/orders-2.json",
            "records_read": 80,
            "records_valid": 74,
            "records_dead_lettered": 6,
            "verdict": "intermittent_corruption",
        },
    ],
    "started_at": "2024-05-01T10:00:00+00:00",
    "ended_at": "2024-05-01T10:00:42+00:00",
    "duration_seconds": 42.0,
    "message": "",
}


@pytest.fixture
def make_summary() -> Callable[..., RunSummary]:
    """A fresh run summary; keyword arguments override or add keys."""

    def make(**overrides: Any) -> RunSummary:
        summary = copy.deepcopy(BASE_SUMMARY)
        summary.update(overrides)
        return cast(RunSummary, summary)

    return make
