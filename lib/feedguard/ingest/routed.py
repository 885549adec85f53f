"""Routing a run's measured records into valid rows and dead letters, with the counts the run expects."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from feedguard.ingest.file_checks import CheckedFile
from feedguard.ingest.reports import FileCounts, FileProblem, file_problem_rows
from feedguard.ingest.routing import (
    dead_letter_rows,
    error_type,
    records,
    valid_rows,
    with_file_errors,
    with_source_line,
)
from feedguard.ingest.run_state import FileRun
from feedguard.parse.measure import Measured, measure, parse_files


def routed_records(main: Measured, rejects: dict[str, tuple[str, str]]) -> DataFrame:
    """The measured records of the files that were not rejected, with lines and error types."""
    rejected = [name for name, uri in main.uri_of.items() if uri in rejects]
    return (
        main.frame.transform(with_source_line, main.chunk_offsets)
        .transform(records)
        .where(~F.col("_source_file").isin(rejected))
        .transform(error_type)
    )


@dataclass(frozen=True)
class Routed:
    """What the run will write, and how many rows of each kind it must commit."""

    valid_frame: DataFrame | None
    dead_frames: list[DataFrame]
    counts: dict[str, FileCounts]
    rejected: Measured | None

    @property
    def expected_valid(self) -> int:
        return sum(c.valid for c in self.counts.values())

    @property
    def expected_dead(self) -> int:
        return sum(c.dead for c in self.counts.values())

    def dead_frame(self) -> DataFrame | None:
        if not self.dead_frames:
            return None
        frame = self.dead_frames[0]
        for other in self.dead_frames[1:]:
            frame = frame.unionByName(other)
        return frame


def route(
    run: FileRun,
    main: Measured | None,
    rejects: dict[str, tuple[str, str]],
    rejected_files: list[CheckedFile],
    problems: list[FileProblem],
    quarantined: dict[str, str],
) -> Routed:
    """Valid rows and record-level dead letters of the files that load; every record of a rejected file
    as a dead letter with the file's reason first; one dead letter per file that yields no records."""
    valid_frame, dead_frames, counts = None, [], {}
    if main is not None:
        routed = routed_records(main, rejects)
        valid_frame = routed.transform(valid_rows, run.contract, run.ctx)
        dead_frames.append(routed.transform(dead_letter_rows, run.ctx))
        for uri, stats in main.files.items():
            if uri not in rejects:
                counts[uri] = FileCounts(stats.records, stats.good, stats.bad)
    rejected = None
    if rejected_files:
        rejected = run.keep(
            measure(
                parse_files(run.spark, run.contract, rejected_files), rejected_files, keep_raw_of_valid=True
            )
        )
        file_errors = {name: rejects[uri] for name, uri in rejected.uri_of.items()}
        dead_frames.append(
            rejected.frame.transform(with_source_line, rejected.chunk_offsets)
            .transform(records)
            .transform(with_file_errors, file_errors)
            .transform(error_type)
            .transform(dead_letter_rows, run.ctx)
        )
        for uri, stats in rejected.files.items():
            counts[uri] = FileCounts(stats.records, 0, stats.records)
    if problems:
        dead_frames.append(file_problem_rows(run.spark, problems, run.ctx, quarantined))
        for p in problems:
            counts[p.uri] = FileCounts(1, 0, 1)
    return Routed(valid_frame, dead_frames, counts, rejected)
