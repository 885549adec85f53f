"""The inputs every step of a file run reads, and the one thing that moves: which step is running.

A :class:`FileRun` is frozen: the steps of :mod:`feedguard.ingest.flow` take it with the values earlier
steps returned and return new values. The only mutable part is :class:`Progress` (the current step, and
the cached frames to release if the run fails), so that a failure at any step can be accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from feedguard.contracts.contract import Contract
from feedguard.ingest.reports import StageClock, StepHook
from feedguard.ingest.routing import RunContext
from feedguard.lake.layout import Lake
from feedguard.lake.ledger import FilePlan
from feedguard.parse.measure import Measured


@dataclass
class Progress:
    """The step running now, and the persisted frames to release when the run ends or fails."""

    current_step: str = "start"
    cached: list[Measured] = field(default_factory=list)

    def release(self) -> None:
        for measured in self.cached:
            measured.unpersist()
        self.cached.clear()


@dataclass(frozen=True)
class FileRun:
    """What every step of a file run reads."""

    spark: SparkSession
    contract: Contract
    lake: Lake
    ctx: RunContext
    plan: FilePlan
    clock: StageClock
    on_step: StepHook
    progress: Progress = field(default_factory=Progress)

    def step(self, name: str) -> None:
        """Enter a step: remember it (a failure names it) and call the hook (lease check, tests)."""
        self.progress.current_step = name
        self.on_step(name)

    def keep(self, measured: Measured) -> Measured:
        """Register persisted records for release at the end of the run."""
        self.progress.cached.append(measured)
        return measured
