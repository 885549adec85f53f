"""Counts the DAG callbacks publish: DAG runs by outcome, task outcomes and SLA misses, per DAG and task.

MWAA publishes task durations and finished-task counts, but no SLA miss per DAG (``SLAMissed`` has only the
scheduler dimensions) and nothing at all outside MWAA. The feedguard DAGs' callbacks (success, failure, retry,
SLA miss) turn each event into one data point with these functions and publish it with the project's
publisher, so the dashboard reads the same figures on MWAA and on any other Airflow.

>>> [m.name for m in callback_metrics("task_retry", "feedguard_quickbite_orders", "ingest_glue", "prod")]
['AirflowTaskRetries']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from feedguard.metrics.model import Metric

DAG_RUNS: Final = "AirflowDagRuns"  # dims DAG, State (success | failed), Environment
TASK_SUCCESSES: Final = "AirflowTaskSuccesses"  # dims DAG, Task, Environment
TASK_FAILURES: Final = "AirflowTaskFailures"
TASK_RETRIES: Final = "AirflowTaskRetries"
SLA_MISSES: Final = "AirflowSlaMisses"

_TASK_EVENTS: Final = {
    "task_success": TASK_SUCCESSES,
    "task_failure": TASK_FAILURES,
    "task_retry": TASK_RETRIES,
    "sla_miss": SLA_MISSES,
}
_DAG_EVENTS: Final = {"dag_success": "success", "dag_failure": "failed"}
CALLBACK_EVENTS: Final = (*_DAG_EVENTS, *_TASK_EVENTS)


class UnknownCallbackEvent(ValueError):
    """A callback event that is not one of ``CALLBACK_EVENTS``."""


def callback_metrics(
    event: str,
    dag_id: str,
    task_ids: str | Sequence[str] | None,
    environment: str,
    now: datetime | None = None,
) -> list[Metric]:
    """One count of 1 per task (or one for the DAG run) for a callback ``event`` (``CALLBACK_EVENTS``)."""
    stamp = now or datetime.now(UTC)
    if event in _DAG_EVENTS:
        dims = (("DAG", dag_id), ("State", _DAG_EVENTS[event]), ("Environment", environment))
        return [Metric(DAG_RUNS, 1.0, "Count", dims, stamp)]
    if event not in _TASK_EVENTS:
        raise UnknownCallbackEvent(f"unknown callback event {event!r}; expected one of {CALLBACK_EVENTS}")
    tasks = [task_ids] if isinstance(task_ids, str) else list(task_ids or [])
    return [
        Metric(
            _TASK_EVENTS[event],
            1.0,
            "Count",
            (("DAG", dag_id), ("Task", t), ("Environment", environment)),
            stamp,
        )
        for t in tasks
    ]
