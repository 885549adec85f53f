"""The processed-files ledger: which file versions were ingested, by which run (like Glue job bookmarks).

A file is known by its URI and its content (SHA-256). The rules, applied by :func:`plan_files`:

- same URI, same size and modification time as the ledger: already processed, skipped (no hashing);
- same URI and same content (re-sent, touched): skipped;
- same URI, other content: a **new version** of the file. It is ingested and **supersedes** the old
  one: in one Delta commit per table, what earlier runs loaded from that file (valid rows and dead
  letters) is replaced by what this run loads; the run summary names the runs it superseded;
- a new URI whose content equals a file already processed (or another file of the same run): a
  **duplicate delivery**, skipped and reported (loading it would duplicate every record);
- ``--reprocess``: every listed file is ingested again and supersedes its earlier loads;
- a file whose last run could not finish it (``run_failed``, ``unreadable``) is tried again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.lake.storage import FileInfo, iter_chunks, open_binary
from feedguard.records import as_row, spark_schema


@dataclass(frozen=True)
class LedgerRow:
    """One row of ``<lake>/_ledger``: a file version a run processed, and its verdict."""

    source: str
    dataset: str
    file_uri: str
    size: int
    mtime: float
    run_id: str
    verdict: str | None
    processed_at: dt.datetime
    content_sha256: str | None


LEDGER_SCHEMA = spark_schema(LedgerRow)
RETRY_VERDICTS = frozenset({"run_failed", "unreadable"})


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row: a file version and the run that processed it."""

    uri: str
    size: int
    mtime: float
    run_id: str
    verdict: str | None
    sha256: str | None


@dataclass
class FilePlan:
    """What a run does with each listed file."""

    todo: list[FileInfo] = field(default_factory=list)
    sha256: dict[str, str] = field(default_factory=dict)  # uri -> content hash (files hashed)
    supersedes: dict[str, list[str]] = field(default_factory=dict)  # uri -> earlier run ids
    unchanged: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)  # uri -> the file with the same content


def content_sha256(info: FileInfo) -> str:
    """The SHA-256 of a file's bytes (as delivered, before any decompression), streamed."""
    digest = hashlib.sha256()
    with open_binary(info.uri) as handle:
        for chunk in iter_chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()


def ledger_entries(spark: SparkSession, ledger_path: str, source: str, dataset: str) -> list[LedgerEntry]:
    """Every ledger row of this dataset, oldest first."""
    if not DeltaTable.isDeltaTable(spark, ledger_path):
        return []
    frame = spark.read.format("delta").load(ledger_path)
    sha = F.col("content_sha256") if "content_sha256" in frame.columns else F.lit(None).cast("string")
    rows = (
        frame.where((F.col("source") == source) & (F.col("dataset") == dataset))
        .select("file_uri", "size", "mtime", "run_id", "verdict", sha.alias("sha"), "processed_at")
        .orderBy("processed_at")
        .collect()
    )
    return [
        LedgerEntry(r["file_uri"], int(r["size"]), float(r["mtime"]), r["run_id"], r["verdict"], r["sha"])
        for r in rows
    ]


def plan_files(
    files: Iterable[FileInfo],
    entries: Iterable[LedgerEntry],
    *,
    reprocess: bool = False,
    sha256_of: Callable[[FileInfo], str] = content_sha256,
) -> FilePlan:
    """Apply the ledger rules (module docstring) to the listed files."""
    history: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        history.setdefault(entry.uri, []).append(entry)
    known_content = {
        runs[-1].sha256: uri
        for uri, runs in history.items()
        if runs[-1].sha256 and runs[-1].verdict not in RETRY_VERDICTS
    }
    plan = FilePlan()
    for info in files:
        runs = history.get(info.uri, [])
        last = runs[-1] if runs else None
        retry = last is not None and last.verdict in RETRY_VERDICTS
        if last and not reprocess and not retry and (last.size, last.mtime) == (info.size, info.mtime):
            plan.unchanged.append(info.uri)
            continue
        try:
            digest = sha256_of(info)
        except OSError:  # unreadable now: the run's checks report it and the next run tries again
            plan.todo.append(info)
            if runs:
                plan.supersedes[info.uri] = sorted({e.run_id for e in runs})
            continue
        plan.sha256[info.uri] = digest
        if last and not reprocess and not retry and last.sha256 == digest:
            plan.unchanged.append(info.uri)
            continue
        twin = known_content.get(digest)
        if twin is not None and twin != info.uri:
            plan.duplicates[info.uri] = twin
            continue
        known_content[digest] = info.uri
        plan.todo.append(info)
        if runs:
            plan.supersedes[info.uri] = sorted({e.run_id for e in runs})
    return plan


def ledger_rows(
    files: Iterable[FileInfo],
    *,
    source: str,
    dataset: str,
    run_id: str,
    verdicts: dict[str, str],
    sha256: dict[str, str],
    processed_at: dt.datetime,
) -> list[tuple[object, ...]]:
    """Rows of :class:`LedgerRow` for the files a run processed."""
    return [
        as_row(
            LedgerRow(
                source,
                dataset,
                f.uri,
                f.size,
                f.mtime,
                run_id,
                verdicts.get(f.uri),
                processed_at,
                sha256.get(f.uri),
            )
        )
        for f in files
    ]
