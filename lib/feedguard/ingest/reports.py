"""What a file run reports per file, and the small values its steps hand each other.

:class:`FileReport` is one entry of the run summary's ``files`` list; it is built at the end of the run
from the values the steps returned (verdicts, counts, quarantine paths), never patched along the way.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession

from feedguard.ingest.classify import Verdict
from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, DeadLetterRow, RunContext
from feedguard.records import as_row
from feedguard.summary import Evidence, FileEntry

StepHook = Callable[[str], None]
"""Called with a step's name before the step runs (``write_valid``, ...): the job checks its lease
there, and tests inject failures or crashes at a chosen step."""


def no_hook(step: str) -> None:
    """The default step hook: nothing to check."""


@dataclass
class StageClock:
    """Wall-clock seconds per stage of a run, for the run summary."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


@dataclass(frozen=True)
class FileVerdict:
    """A file's verdict and the evidence for it."""

    verdict: Verdict
    evidence: Evidence


@dataclass(frozen=True)
class FileCounts:
    """Records read from a file and where they went."""

    read: int
    valid: int
    dead: int


NO_RECORDS = FileCounts(0, 0, 0)


@dataclass(frozen=True)
class FileReport:
    """One entry of the run summary's ``files``."""

    uri: str
    counts: FileCounts = NO_RECORDS
    verdict: Verdict = Verdict.CLEAN
    evidence: Evidence = field(default_factory=dict)
    quarantined_to: str | None = None

    def as_summary(self) -> FileEntry:
        return {
            "path": self.uri,
            "records_read": self.counts.read,
            "records_valid": self.counts.valid,
            "records_dead_lettered": self.counts.dead,
            "verdict": str(self.verdict),
            "evidence": self.evidence,
            "quarantined_to": self.quarantined_to,
        }


@dataclass(frozen=True)
class FileProblem:
    """A file that yields no records: one file-level dead letter (the file itself is quarantined)."""

    uri: str
    error_type: str  # file_corrupt, file_unreadable, run_failed
    detail: str


def naive_utc(ctx: RunContext) -> dt.datetime:
    """The run's ingest time as the tables store it (UTC, no zone)."""
    return dt.datetime.fromisoformat(ctx.ingested_at.replace("Z", "+00:00")).replace(tzinfo=None)


def file_problem_rows(
    spark: SparkSession, problems: list[FileProblem], ctx: RunContext, quarantine: dict[str, str]
) -> DataFrame:
    """One dead letter per problem file, saying where the file is kept."""
    now = naive_utc(ctx)
    rows = []
    for p in problems:
        kept = quarantine.get(p.uri)
        where = f"the file is kept byte for byte at {kept}" if kept else "the file could not be copied"
        row = DeadLetterRow(
            source=ctx.source,
            dataset=ctx.dataset,
            contract_version=ctx.contract_version,
            run_id=ctx.run_id,
            source_file=p.uri,
            error_type=p.error_type,
            error_detail=f"{p.detail}; {where}",
            ingested_at=now,
            ingest_date=now.date(),
            status="open",
        )
        rows.append(as_row(row))
    return spark.createDataFrame(rows, DEAD_LETTER_SCHEMA)
