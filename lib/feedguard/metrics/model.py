"""Data-quality metrics of one run, built from the run summary.

Example::

    metrics = metrics_from_summary(summary, environment="prod", job="ingest_files")
    [m.name for m in metrics][:3]   # ['RecordsRead', 'RecordsValid', 'RecordsDeadLettered']
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from feedguard.summary import RunSummary

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE: Final = "Feedguard/DataQuality"
DIMENSION_NAMES: Final = ("Source", "Dataset", "Job", "Environment")

Unit = Literal["Count", "Percent", "Seconds", "None"]

QUARANTINING_VERDICTS: Final = frozenset({"structural_change", "file_corrupt"})

# (metric name, summary key, unit) for plain numeric fields that are emitted only when present.
_OPTIONAL_NUMBERS: Final[tuple[tuple[str, str, Unit], ...]] = (
    ("ExpectationsEvaluated", "expectations_evaluated", "Count"),
    ("ExpectationsFailed", "expectations_failed", "Count"),
    ("ConsumerLag", "consumer_lag", "Count"),
    ("DowntimeSeconds", "downtime_seconds", "Seconds"),
    ("MessagesLost", "messages_lost", "Count"),
)


@dataclass(frozen=True)
class Metric:
    """One data point: a named value with its unit, dimensions and timestamp (UTC)."""

    name: str
    value: float
    unit: Unit
    dimensions: tuple[tuple[str, str], ...]
    timestamp: datetime

    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (the spool line format)."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "dimensions": self.dimension_map(),
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Metric:
        dims = data["dimensions"]
        return cls(
            name=str(data["name"]),
            value=float(data["value"]),
            unit=data["unit"],
            dimensions=tuple((str(k), str(v)) for k, v in dims.items()),
            timestamp=parse_timestamp(data["timestamp"]),
        )


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from an ISO string or a datetime (naive values are taken as UTC)."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and value:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def corrupt_ratio_pct(summary: RunSummary) -> float:
    """The summary's ``corrupt_ratio_pct``, else dead-lettered / read in percent (0 when nothing was read)."""
    given = _number(summary.get("corrupt_ratio_pct"))
    if given is not None:
        return given
    read = _number(summary.get("records_read")) or 0.0
    dead = _number(summary.get("records_dead_lettered")) or 0.0
    return 100.0 * dead / read if read > 0 else 0.0


def verdicts_of(summary: RunSummary) -> dict[str, str]:
    """File -> verdict, from ``verdicts`` or else from the ``files`` list."""
    given = summary.get("verdicts")
    if isinstance(given, Mapping):
        return {str(k): str(v) for k, v in given.items()}
    files = summary.get("files") or []
    return {
        str(f.get("path")): str(f["verdict"])
        for f in files
        if isinstance(f, Mapping) and f.get("verdict") is not None
    }


def metrics_from_summary(summary: RunSummary, environment: str, job: str) -> list[Metric]:
    """The CloudWatch metrics of one run summary (see docs/alerts-and-metrics.md for the list).

    Dimensions are Source, Dataset, Job and Environment. The timestamp is the run's ``ended_at``
    (else ``started_at``, else now). Values that are missing, NaN or infinite are left out.

    >>> s = {"source": "qb", "dataset": "orders", "records_read": 4, "records_valid": 3,
    ...      "records_dead_lettered": 1, "files": [], "duration_seconds": 2.5,
    ...      "ended_at": "2024-05-01T10:00:00+00:00"}
    >>> [(m.name, m.value) for m in metrics_from_summary(s, "dev", "ingest")][:4]
    [('RecordsRead', 4.0), ('RecordsValid', 3.0), ('RecordsDeadLettered', 1.0), ('CorruptRatio', 25.0)]
    """
    dims = (
        ("Source", str(summary.get("source", "unknown"))),
        ("Dataset", str(summary.get("dataset", "unknown"))),
        ("Job", job),
        ("Environment", environment),
    )
    stamp = _run_timestamp(summary)
    verdicts = verdicts_of(summary)
    candidates: list[tuple[str, float | None, Unit]] = [
        ("RecordsRead", _number(summary.get("records_read")), "Count"),
        ("RecordsValid", _number(summary.get("records_valid")), "Count"),
        ("RecordsDeadLettered", _number(summary.get("records_dead_lettered")), "Count"),
        ("CorruptRatio", corrupt_ratio_pct(summary), "Percent"),
        ("FilesQuarantined", _files_quarantined(summary, verdicts), "Count"),
        ("SchemaDriftDetected", _schema_drift(summary, verdicts), "None"),
    ]
    dq_success = summary.get("dq_success")
    if isinstance(dq_success, bool):
        candidates.append(("DQSuccess", 1.0 if dq_success else 0.0, "None"))
    candidates.append(("JobDurationSeconds", _number(summary.get("duration_seconds")), "Seconds"))
    for name, key, unit in _OPTIONAL_NUMBERS:
        candidates.append((name, _number(summary.get(key)), unit))

    metrics: list[Metric] = []
    for name, value, unit in candidates:
        if value is None:
            continue
        if not math.isfinite(value):
            log.warning("metric %s left out: value %r is not finite", name, value)
            continue
        metrics.append(Metric(name, value, unit, dims, stamp))
    return metrics


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _files_quarantined(summary: RunSummary, verdicts: Mapping[str, str]) -> float:
    given = summary.get("files_quarantined")
    if isinstance(given, list | tuple):
        return float(len(given))
    number = _number(given)
    if number is not None:
        return number
    return float(sum(1 for v in verdicts.values() if v in QUARANTINING_VERDICTS))


def _schema_drift(summary: RunSummary, verdicts: Mapping[str, str]) -> float:
    given = summary.get("schema_drift_detected")
    if isinstance(given, bool):
        return 1.0 if given else 0.0
    return 1.0 if "structural_change" in verdicts.values() else 0.0


def _run_timestamp(summary: RunSummary) -> datetime:
    for key in ("ended_at", "started_at"):
        value = summary.get(key)
        if value:
            try:
                return parse_timestamp(value)
            except ValueError:
                log.warning("run summary %s=%r is not a timestamp; using now", key, value)
    return datetime.now(UTC)
