"""Decide which alerts a run raises: on a change of state only, with one "resolved" message.

Problem kinds, each open or not after a run: ``run_failed``, ``structural_change``, ``file_corrupt``
(files quarantined whole: unreadable, or more bad records than the contract allows),
``intermittent_corruption``, ``dq_failed``, ``metrics_unsent``. A kind that opens alerts once; while
it stays open later runs stay quiet; when the kinds that were open clear, one ``resolved`` alert
says so. Only a run that judged data can clear a data kind: one that stopped before (exit 1, 2, 5, 74,
75) or read no record (every file already processed) leaves them as they were.

Example::

    state = load_alert_state(lake_path)
    alerts, state = alerts_for_run(summary, state, AlertThresholds(warning_ratio=0.01, owner="a@b.c"))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal

from feedguard.errors import EXIT_DQ_FAILED, EXIT_FILE_CORRUPT, EXIT_OK, EXIT_STRUCTURAL_CHANGE
from feedguard.metrics.model import QUARANTINING_VERDICTS, corrupt_ratio_pct, verdicts_of
from feedguard.summary import RunSummary

ProblemKind = Literal[
    "run_failed",
    "structural_change",
    "file_corrupt",
    "intermittent_corruption",
    "dq_failed",
    "metrics_unsent",
]
AlertKind = Literal[ProblemKind, "resolved"]
Severity = Literal["critical", "warning", "info"]

PROBLEM_KINDS: Final[tuple[ProblemKind, ...]] = (
    "run_failed",
    "structural_change",
    "file_corrupt",
    "intermittent_corruption",
    "dq_failed",
    "metrics_unsent",
)
SEVERITY: Final[Mapping[str, Severity]] = {
    "run_failed": "critical",
    "structural_change": "critical",
    "file_corrupt": "critical",
    "dq_failed": "critical",
    "intermittent_corruption": "warning",
    "metrics_unsent": "warning",
    "resolved": "info",
}
ONCALL: Final = "oncall"
EXIT_STRUCTURAL: Final = EXIT_STRUCTURAL_CHANGE
# The exits of a run that judged its data; any other code stopped before (or undid what it judged).
EXITS_WITH_VERDICTS: Final = frozenset({EXIT_OK, EXIT_DQ_FAILED, EXIT_STRUCTURAL, EXIT_FILE_CORRUPT})
LOADED_VERDICTS: Final = frozenset({"clean", "intermittent_corruption"})
OWNER_KINDS: Final = frozenset({"structural_change", "file_corrupt"})  # the contract owner is told too
SUCCESS_STATUSES: Final = frozenset({"succeeded", "success", "ok", "completed"})


@dataclass(frozen=True)
class AlertThresholds:
    """What the contract says about alerting: its warning ratio (0..1) and its owner's contact."""

    warning_ratio: float = 0.01
    owner: str | None = None


@dataclass(frozen=True)
class OpenProblem:
    """A problem kind that is open for one source/dataset."""

    kind: ProblemKind
    opened_run_id: str
    opened_at: str
    last_run_id: str
    runs: int = 1
    notified: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "opened_run_id": self.opened_run_id,
            "opened_at": self.opened_at,
            "last_run_id": self.last_run_id,
            "runs": self.runs,
            "notified": self.notified,
        }


@dataclass(frozen=True)
class AlertState:
    """Open problems per ``source/dataset``, keyed by problem kind (``<lake>/_alerts/state.json``)."""

    open: Mapping[str, Mapping[ProblemKind, OpenProblem]] = field(default_factory=dict)

    def for_dataset(self, source: str, dataset: str) -> Mapping[ProblemKind, OpenProblem]:
        return self.open.get(dataset_key(source, dataset), {})

    def with_dataset(
        self, source: str, dataset: str, problems: Mapping[ProblemKind, OpenProblem]
    ) -> AlertState:
        updated = {k: v for k, v in self.open.items() if k != dataset_key(source, dataset)}
        if problems:
            updated[dataset_key(source, dataset)] = dict(problems)
        return AlertState(updated)

    def mark_unnotified(self, source: str, dataset: str, kinds: Iterable[str]) -> AlertState:
        """Flag open problems whose alert reached nobody, so the next run alerts again."""
        kinds = set(kinds)
        problems = {
            k: replace(p, notified=False) if k in kinds else p
            for k, p in self.for_dataset(source, dataset).items()
        }
        return self.with_dataset(source, dataset, problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "open": {
                key: {k: p.to_json() for k, p in problems.items()} for key, problems in self.open.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertState:
        state: dict[str, dict[ProblemKind, OpenProblem]] = {}
        for key, problems in (data.get("open") or {}).items():
            state[str(key)] = {
                kind: OpenProblem(
                    kind=kind,
                    opened_run_id=str(p["opened_run_id"]),
                    opened_at=str(p["opened_at"]),
                    last_run_id=str(p["last_run_id"]),
                    runs=int(p.get("runs", 1)),
                    notified=bool(p.get("notified", True)),
                )
                for kind in PROBLEM_KINDS
                if (p := problems.get(kind)) is not None
            }
        return cls(state)


@dataclass(frozen=True)
class Alert:
    """One alert to send: a problem that opened, or the problems that ``resolved``."""

    kind: AlertKind
    severity: Severity
    source: str
    dataset: str
    run_id: str
    recipients: tuple[str, ...] = (ONCALL,)
    resolved: tuple[OpenProblem, ...] = ()

    @property
    def status(self) -> Literal["firing", "resolved"]:
        return "resolved" if self.kind == "resolved" else "firing"


def dataset_key(source: str, dataset: str) -> str:
    return f"{source}/{dataset}"


def observe(summary: RunSummary, thresholds: AlertThresholds) -> dict[ProblemKind, bool | None]:
    """For each problem kind: open (True), clear (False) or not judged by this run (None)."""
    exit_code = _int(summary.get("exit_code"))
    if exit_code is None:
        status = str(summary.get("status", "")).lower()
        exit_code = 0 if status in SUCCESS_STATUSES else 1
    verdicts = set(verdicts_of(summary).values())
    judged_data = exit_code in EXITS_WITH_VERDICTS and _read_data(summary, exit_code, verdicts)
    dq_success = summary.get("dq_success")

    seen: dict[ProblemKind, bool | None] = {
        "run_failed": exit_code not in EXITS_WITH_VERDICTS,
        "structural_change": None,
        "file_corrupt": None,
        "intermittent_corruption": None,
        "dq_failed": None,
        "metrics_unsent": None,
    }
    if judged_data:
        seen["structural_change"] = exit_code == EXIT_STRUCTURAL or "structural_change" in verdicts
        seen["file_corrupt"] = exit_code == EXIT_FILE_CORRUPT or "file_corrupt" in verdicts
        seen["intermittent_corruption"] = _corruption_of_loaded_files(
            summary, verdicts, thresholds.warning_ratio
        )
        if exit_code == EXIT_DQ_FAILED or isinstance(dq_success, bool):
            seen["dq_failed"] = exit_code == EXIT_DQ_FAILED or dq_success is False
    if "metrics_spooled" in summary or "metrics_dropped" in summary:
        unsent = (_int(summary.get("metrics_spooled")) or 0) + (_int(summary.get("metrics_dropped")) or 0)
        seen["metrics_unsent"] = unsent > 0
    return seen


def _read_data(summary: RunSummary, exit_code: int, verdicts: set[str]) -> bool:
    """Whether the run judged any data: it read a record, or reached a file-level verdict."""
    read = _int(summary.get("records_read"))
    return read is None or read > 0 or exit_code != EXIT_OK or bool(verdicts & QUARANTINING_VERDICTS)


def _corruption_of_loaded_files(summary: RunSummary, verdicts: set[str], warning_ratio: float) -> bool | None:
    """Dead letters above the warning ratio in files that loaded; None when no file loaded (a quarantined
    file is a file-level alert of its own). Without file verdicts (Kafka) the run's ratio decides."""
    if verdicts and not verdicts & LOADED_VERDICTS:
        return None
    above = corrupt_ratio_pct(summary) > 100.0 * warning_ratio
    return above and (not verdicts or "intermittent_corruption" in verdicts)


def alerts_for_run(
    summary: RunSummary,
    previous_state: AlertState,
    thresholds: AlertThresholds,
    *,
    now: datetime | None = None,
) -> tuple[list[Alert], AlertState]:
    """The alerts this run raises and the state to save after it (see the module docstring)."""
    source, dataset = str(summary.get("source", "unknown")), str(summary.get("dataset", "unknown"))
    run_id = str(summary.get("run_id", "unknown"))
    stamp = (now or datetime.now(UTC)).isoformat()
    before = previous_state.for_dataset(source, dataset)
    after: dict[ProblemKind, OpenProblem] = {}
    alerts: list[Alert] = []
    cleared: list[OpenProblem] = []
    for kind, is_open in observe(summary, thresholds).items():
        was = before.get(kind)
        if is_open is None:
            if was is not None:
                after[kind] = was
        elif is_open:
            if was is None:
                after[kind] = OpenProblem(kind, run_id, stamp, run_id)
            else:
                after[kind] = replace(was, last_run_id=run_id, runs=was.runs + 1, notified=True)
            if was is None or not was.notified:
                alerts.append(_firing(kind, source, dataset, run_id, thresholds))
        elif was is not None:
            cleared.append(was)
    if cleared:
        owner_told = any(p.kind in OWNER_KINDS for p in cleared) and thresholds.owner
        recipients = (ONCALL, f"owner:{thresholds.owner}") if owner_told else (ONCALL,)
        alerts.append(Alert("resolved", "info", source, dataset, run_id, recipients, tuple(cleared)))
    return alerts, previous_state.with_dataset(source, dataset, after)


def _firing(kind: ProblemKind, source: str, dataset: str, run_id: str, thresholds: AlertThresholds) -> Alert:
    recipients: tuple[str, ...] = (ONCALL,)
    if kind in OWNER_KINDS and thresholds.owner:
        recipients = (ONCALL, f"owner:{thresholds.owner}")
    return Alert(kind, SEVERITY[kind], source, dataset, run_id, recipients)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None
