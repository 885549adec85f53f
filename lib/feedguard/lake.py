"""Where everything lives in the lake (local folder or ``s3://`` prefix)."""

from __future__ import annotations

from dataclasses import dataclass

from feedguard.storage import join


@dataclass(frozen=True)
class Lake:
    root: str

    def table(self, source: str, dataset: str) -> str:
        return join(self.root, source, dataset)

    @property
    def dead_letter(self) -> str:
        return join(self.root, "_dead_letter")

    @property
    def runs(self) -> str:
        return join(self.root, "_runs")

    def run_summary(self, run_id: str) -> str:
        return join(self.root, "_runs", f"{run_id}.json")

    def inflight(self, source: str, dataset: str) -> str:
        return join(self.root, "_inflight", source, dataset)

    @property
    def ledger(self) -> str:
        return join(self.root, "_ledger")

    def error_zone(self, source: str, run_id: str) -> str:
        return join(self.root, "_error_zone", source, run_id)

    def quarantine(self, source: str, dataset: str, run_id: str) -> str:
        return join(self.root, "_quarantine", source, dataset, run_id)

    def drift(self, source: str, dataset: str, run_id: str) -> str:
        return join(self.root, "_drift", source, dataset, run_id)

    @property
    def metrics(self) -> str:
        return join(self.root, "_metrics")

    @property
    def alerts(self) -> str:
        return join(self.root, "_alerts")

    @property
    def dq_results(self) -> str:
        return join(self.root, "_dq_results")

    @property
    def docs(self) -> str:
        return join(self.root, "_docs")
