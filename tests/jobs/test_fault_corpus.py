"""The fault corpus through the file job: every kind of damage accounted for exactly (issue 13).

Every kind of :mod:`tests.support.fault_corpus` is written into one input folder per format and the job
runs once per format (``main(argv)``, ``--skip_dq``: the corpus repeats no order id, but the gate is not
under test here). Then, for every kind's file: the run summary's counts and verdict are the ones the
kind states; each dead letter holds the exact input bytes found at its file and line, and so does its
error-zone copy; a file-level dead letter's file is quarantined byte for byte; and each valid row equals
the strict oracle's reading of its input line (nothing loaded changed).

Reproduce: ``.venv/bin/pytest tests/jobs/test_fault_corpus.py``.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from tests.support.fault_corpus import (
    FaultKind,
    JobRun,
    corpus,
    csv_unreadable_times,
    exact_bytes,
    run_job,
    write_corpus,
)
from tests.support.strict_oracle import (
    UTF8_BOM,
    Format,
    Rejected,
    contract_specs,
    loaded_values,
    physical_lines,
    strict_record,
)

KINDS = [*corpus("json"), *corpus("csv")]


def _param(kind: FaultKind) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=f"known open defect: {kind.known_defect}")]
    return pytest.param(kind, id=kind.name, marks=marks if kind.known_defect else [])


def _run_kinds(spark: SparkSession, root: Path, fmt: Format, kinds: list[FaultKind], run_id: str) -> JobRun:
    """Write ``kinds`` into one folder and run the job once over it."""
    write_corpus(root / "in", kinds)
    return run_job(spark, root / "in", root / "lake", fmt, run_id)


class CorpusRuns:
    """The one run per format, made when a test first needs it."""

    def __init__(self, spark: SparkSession, factory: pytest.TempPathFactory) -> None:
        self.spark, self.factory = spark, factory
        self.runs: dict[str, JobRun] = {}

    def get(self, fmt: Format) -> JobRun:
        if fmt not in self.runs:
            root = self.factory.mktemp(f"corpus_{fmt}")
            self.runs[fmt] = _run_kinds(self.spark, root, fmt, corpus(fmt), f"corpus-{fmt}")
        return self.runs[fmt]


@pytest.fixture(scope="module")
def corpus_runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> CorpusRuns:
    return CorpusRuns(spark, tmp_path_factory)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_run_over_the_whole_corpus_conserves_every_record(corpus_runs: CorpusRuns, fmt: Format) -> None:
    run = corpus_runs.get(fmt)
    summary = run.summary
    # Both corpora hold files quarantined whole (file_corrupt; structural_change for CSV): never exit 0
    # (issue 14 items 6 and 9), never 1 (a bug).
    assert run.exit_code == summary["exit_code"], summary["message"]
    assert run.exit_code not in (0, 1), summary["message"]
    assert summary["records_read"] == summary["records_valid"] + summary["records_dead_lettered"]
    assert run.table_counts == (summary["records_valid"], summary["records_dead_lettered"])
    assert summary["blank_lines_skipped"] == sum(k.blank_lines for k in corpus(fmt))
    assert sorted(run.files) == sorted(k.file_name for k in corpus(fmt))
    for name, entry in run.files.items():
        assert entry["records_read"] == entry["records_valid"] + entry["records_dead_lettered"], name
        assert len(run.valid.get(name, [])) == entry["records_valid"], name
        assert len(run.dead.get(name, [])) == entry["records_dead_lettered"], name


def _input_lines(kind: FaultKind) -> list[bytes]:
    if kind.layout != "lines":
        return []
    data = gzip.decompress(kind.data) if kind.data[:2] == b"\x1f\x8b" else kind.data
    return physical_lines(data)


def _accounting_problems(kind: FaultKind, entry: dict[str, Any], dead: list[dict[str, Any]]) -> list[str]:
    problems = []
    got = (entry["records_read"], entry["records_valid"], entry["records_dead_lettered"], entry["verdict"])
    want = (kind.records_read, kind.records_valid, kind.records_dead_lettered, kind.verdict)
    if got != want:
        problems.append(f"(read, valid, dead, verdict) = {got}, expected {want}")
    types = dict(sorted(Counter(d["error_type"] for d in dead).items()))
    if types != kind.dead_letter_types:
        problems.append(f"dead letters by type {types}, expected {kind.dead_letter_types}")
    skipped = entry.get("blank_lines_skipped")
    if skipped is not None and skipped != kind.blank_lines:
        problems.append(f"blank lines skipped {skipped}, expected {kind.blank_lines}")
    return problems


def _dead_letter_problems(kind: FaultKind, dead: list[dict[str, Any]], lines: list[bytes]) -> list[str]:
    problems = []
    got = sorted(
        ((d["source_line"], exact_bytes(d), d["error_type"]) for d in dead), key=lambda t: (t[0] or 0, t[2])
    )
    want = sorted(((d.line, d.raw, d.error_type) for d in kind.dead_letters), key=lambda t: (t[0] or 0, t[2]))
    if got != want:
        problems.append(f"dead letters (line, bytes, type):\n  got  {_short(got)}\n  want {_short(want)}")
    if kind.layout == "lines":
        for line, raw, _ in got:
            if line is None or not 1 <= line <= len(lines) or lines[line - 1] != raw:
                problems.append(f"dead letter at line {line} holds {_short(raw)}, the input line differs")
    return problems


def _error_zone_problems(kind: FaultKind, run: JobRun, dead: list[dict[str, Any]]) -> list[str]:
    records = sorted((d for d in dead if d["raw_text"] is not None), key=lambda d: d["source_line"])
    want = b"".join(exact_bytes(d) + b"\n" for d in records)  # type: ignore[operator]
    got = run.error_zone(kind.file_name)
    return [] if got == want else [f"error zone holds {_short(got)}, expected {_short(want)}"]


def _quarantine_problems(kind: FaultKind, entry: dict[str, Any]) -> list[str]:
    if kind.verdict not in ("file_corrupt", "structural_change"):
        return []
    target = entry.get("quarantined_to")
    if not target or Path(target.removeprefix("file://")).read_bytes() != kind.data:
        return [f"the file is not quarantined byte for byte (quarantined_to={target})"]
    return []


def _valid_row_problems(kind: FaultKind, rows: list[dict[str, Any]]) -> list[str]:
    problems = []
    lines = sorted(r["_source_line"] for r in rows)
    if lines != sorted(kind.valid_records):
        problems.append(f"valid rows at lines {lines}, expected {sorted(kind.valid_records)}")
    specs = contract_specs(kind.fmt)
    for row in rows:
        raw = kind.valid_records.get(row["_source_line"])
        if raw is None:
            continue
        try:  # a byte-order mark before the first record is not part of it
            want = strict_record(kind.fmt, raw.removeprefix(UTF8_BOM), specs)
        except Rejected as exc:  # the corpus itself is wrong
            problems.append(f"corpus error: line {row['_source_line']} is not valid: {exc}")
            continue
        got = loaded_values(row, specs)
        if got != want:
            diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
            problems.append(f"line {row['_source_line']} loaded changed (loaded, input): {_short(diff)}")
    return problems


def _short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@pytest.mark.parametrize("kind", [_param(k) for k in KINDS])
def test_every_kind_of_damage_is_accounted_exactly(corpus_runs: CorpusRuns, kind: FaultKind) -> None:
    run = corpus_runs.get(kind.fmt)
    entry = run.files[kind.file_name]
    dead = run.dead.get(kind.file_name, [])
    problems = [
        *_accounting_problems(kind, entry, dead),
        *_dead_letter_problems(kind, dead, _input_lines(kind)),
        *_error_zone_problems(kind, run, dead),
        *_quarantine_problems(kind, entry),
        *_valid_row_problems(kind, run.valid.get(kind.file_name, [])),
    ]
    assert not problems, f"{kind.name} ({kind.description}):\n- " + "\n- ".join(problems)


def test_a_time_only_the_legacy_parser_reads_is_a_dead_letter_not_a_failed_run(
    spark: SparkSession, tmp_path: Path
) -> None:
    kind = csv_unreadable_times()
    run = _run_kinds(spark, tmp_path, "csv", [kind], "unreadable-times")
    entry = run.files[kind.file_name]
    dead = run.dead.get(kind.file_name, [])
    problems = [
        *_accounting_problems(kind, entry, dead),
        *_dead_letter_problems(kind, dead, _input_lines(kind)),
        *_error_zone_problems(kind, run, dead),
        *_valid_row_problems(kind, run.valid.get(kind.file_name, [])),
    ]
    error = str(run.summary.get("error") or run.summary["message"])
    assert (run.exit_code, problems) == (0, []), error[:500]


def test_the_corpus_has_thirty_kinds_and_states_consistent_accounting() -> None:
    assert len(KINDS) >= 30
    for kind in KINDS:
        assert kind.records_read == kind.records_valid + kind.records_dead_lettered, kind.name
        if kind.layout == "lines":
            header = 1 if kind.fmt == "csv" and kind.data else 0
            lines = _input_lines(kind)
            assert len(lines) == kind.records_read + kind.blank_lines + header, kind.name
            for line, raw in kind.valid_records.items():
                assert lines[line - 1] == raw, (kind.name, line)
