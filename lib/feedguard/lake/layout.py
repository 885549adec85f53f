"""Where everything lives in the lake (local folder or ``s3://`` prefix)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from feedguard.errors import EnvironmentProblem, UsageError
from feedguard.lake.storage import is_s3, join, local_path


@dataclass(frozen=True)
class Lake:
    root: str

    def check_usable(self) -> None:
        """A local lake must be a folder this process can write (created when missing)."""
        if is_s3(self.root):
            return
        path = local_path(self.root)
        if path.exists() and not path.is_dir():
            raise UsageError(f"--lake_path {self.root} is a file, not a folder: point it at a folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the lake folder {self.root}: {exc.strerror}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise EnvironmentProblem(
                f"the lake folder {self.root} is not writable by this user: fix its permissions, then retry"
            )

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

    def pending_reports(self, source: str, dataset: str) -> str:
        return join(self.root, "_runs", "_pending_reports", source, dataset)

    def lease(self, source: str, dataset: str) -> str:
        return join(self.root, "_leases", source, f"{dataset}.json")

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

    @property
    def kafka_offsets(self) -> str:
        return join(self.root, "_kafka_offsets")

    @property
    def kafka_sla(self) -> str:
        return join(self.root, "_kafka_sla")

    @property
    def gx_context_root(self) -> str:
        """GX's file context: in the lake when it is local, else in a local temporary folder."""
        if is_s3(self.root):
            return join(tempfile.gettempdir(), "feedguard-gx")
        return join(self.root, "_gx")

    def metrics_spool(self, source: str, dataset: str) -> str:
        """Metrics that could not be sent wait here for the next run (an S3 lake: a local folder)."""
        name = f"{source}_{dataset}.jsonl"
        if is_s3(self.root):
            return os.path.join(os.environ.get("FEEDGUARD_SPOOL_DIR", "/tmp/feedguard-spool"), name)
        return join(self.root, "_metrics_spool", name)
