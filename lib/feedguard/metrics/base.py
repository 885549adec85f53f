"""The publisher interface, its result, and the publisher that sends nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from feedguard.metrics.model import DEFAULT_NAMESPACE, Metric
from feedguard.summary import RunSummary


class MetricsPublishError(RuntimeError):
    """Metrics could not be published and the publisher is strict."""


class MetricsConfigError(ValueError):
    """A publisher was asked for with arguments that cannot work (exit code 2)."""


@dataclass(frozen=True)
class PublishResult:
    """What one ``publish`` call did.

    ``sent`` counts this run's metrics that reached the destination, ``flushed`` the spooled
    metrics of earlier runs sent first, ``spooled`` the metrics kept in the spool file for the
    next run, ``dropped`` those rejected for good (e.g. older than CloudWatch accepts).
    """

    destination: str
    sent: int = 0
    spooled: int = 0
    flushed: int = 0
    dropped: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None
    spool_path: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was left unsent (spooled or dropped)."""
        return self.spooled == 0 and self.dropped == 0 and self.error is None

    def summary_fields(self) -> RunSummary:
        """Flat keys for the run summary (``metrics_*``), read back by the alert rules."""
        return {
            "metrics_destination": self.destination,
            "metrics_sent": self.sent,
            "metrics_spooled": self.spooled,
            "metrics_flushed": self.flushed,
            "metrics_dropped": self.dropped,
            "metrics_error": self.error,
            "metrics_spool_path": self.spool_path,
        }


class MetricsPublisher(Protocol):
    """Sends a run's metrics somewhere; never raises for an unreachable endpoint unless strict."""

    namespace: str

    def publish(self, metrics: Sequence[Metric]) -> PublishResult: ...


class NullPublisher:
    """Publishes nothing (``--metrics none``); the metrics still go to the ``_metrics`` table."""

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.namespace = namespace

    def publish(self, metrics: Sequence[Metric]) -> PublishResult:
        return PublishResult(destination="none")
