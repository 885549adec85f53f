"""Fuzzing the file job with mutated valid records, both formats (issue 13, "the suite that keeps it true").

Hypothesis generates the mutations of valid sample records (a byte flipped, bytes deleted, bytes or
JSON/CSV tokens inserted, two records spliced); they are collected first (no Spark inside ``@given``),
then written between unmutated valid records into a few files, and the job runs **once per format**
over at least ``EXAMPLES`` mutated records. Properties, each checked for every physical line:

- conservation: every line that is not blank is read once and lands exactly once, valid or dead;
- no unmutated valid record is ever dead-lettered (and each loads as its strict reading says);
- a mutated record is either dead-lettered with its exact input bytes (dead-letter table and error
  zone), or loaded with the values of :mod:`tests.support.strict_oracle`'s strict reading, which must
  accept it: nothing is loaded changed, nothing the contract refuses is loaded.

The mutations are the same on every run (``derandomize``); ``FEEDGUARD_FUZZ_EXPLORE=1`` draws new ones.
Reproduce: ``.venv/bin/pytest tests/jobs/test_fuzz_mutations.py``.
"""

from __future__ import annotations

import bisect
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from tests.support.fault_corpus import DAY, JobRun, exact_bytes, run_job
from tests.support.strict_oracle import Format, Rejected, contract_specs, loaded_values, strict_record

from feedguard_dev.samples import MEALDASH_HEADER, _dumps, csv_line, mealdash_row, quickbite_order

EXAMPLES = 520  # mutated records per format (at least 500 distinct ones are asserted)
FILES = 4  # the mutated records are spread over this many files per format
VALID_AROUND = 4  # unmutated valid records before each mutated one: a file stays below 20 % bad
POOL = 40  # the valid records mutations start from
EXPLORE = os.environ.get("FEEDGUARD_FUZZ_EXPLORE") == "1"
TOKENS = (
    b'"', b",", b"{", b"}", b"[", b"]", b":", b"\\", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3",
    b"\xe2\x80\xa8", b" ", b"\t", b"e", b"E5", b".", b"-", b"+", b"0", b"9", b"null", b"true", b"NaN",
    b"\\u0000", b"\\ud800", b"\\n", b'""', b',"x":1', b'"status":"placed",', b",,", b"\xef\xbb\xbf", b"=cmd|",
    b"'",
)  # fmt: skip
_LINE_END = re.compile(rb"\r\n|\n|\r")


# --- mutations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flip:
    record: int
    at: int
    byte: int

    def apply(self, pool: list[bytes]) -> bytes:
        raw = pool[self.record]
        i = self.at % len(raw)
        return raw[:i] + bytes([self.byte]) + raw[i + 1 :]


@dataclass(frozen=True)
class Delete:
    record: int
    at: int
    length: int

    def apply(self, pool: list[bytes]) -> bytes:
        raw = pool[self.record]
        i = self.at % len(raw)
        return raw[:i] + raw[i + self.length :]


@dataclass(frozen=True)
class Insert:
    record: int
    at: int
    data: bytes

    def apply(self, pool: list[bytes]) -> bytes:
        raw = pool[self.record]
        i = self.at % (len(raw) + 1)
        return raw[:i] + self.data + raw[i:]


@dataclass(frozen=True)
class Splice:
    first: int
    second: int
    cut_first: int
    cut_second: int

    def apply(self, pool: list[bytes]) -> bytes:
        a, b = pool[self.first], pool[self.second]
        return a[: self.cut_first % (len(a) + 1)] + b[self.cut_second % (len(b) + 1) :]


Mutation = Flip | Delete | Insert | Splice
_INDEX = st.integers(0, POOL - 1)
_AT = st.integers(0, 1 << 12)
MUTATIONS: st.SearchStrategy[Mutation] = st.one_of(
    st.builds(Flip, _INDEX, _AT, st.integers(0, 255)),
    st.builds(Delete, _INDEX, _AT, st.integers(1, 8)),
    st.builds(Insert, _INDEX, _AT, st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=4))),
    st.builds(Splice, _INDEX, _INDEX, _AT, _AT),
)


def hypothesis_examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples Hypothesis generates from ``strategy`` (distinct ones, in generation order)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=not EXPLORE,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return list(dict.fromkeys(found))


# --- the input files and what each physical line is -------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A physical line of an input file and where it came from."""

    number: int
    raw: bytes
    origin: str  # "header", "valid", "mutated"
    mutation: Mutation | None = None

    @property
    def blank(self) -> bool:
        return self.raw.strip(b" \t") == b""


class Records:
    """Valid sample records of one format, every one with its own order id."""

    def __init__(self, fmt: Format, seed: int) -> None:
        self.fmt, self.rng, self.next_id = fmt, random.Random(seed), 1

    def __call__(self) -> bytes:
        n, self.next_id = self.next_id, self.next_id + 1
        if self.fmt == "json":
            return _dumps(quickbite_order(self.rng, n, DAY)).encode()
        return csv_line(mealdash_row(self.rng, n, DAY)).encode()


def build_file(
    fmt: Format, mutations: list[Mutation], pool: list[bytes], valid: Callable[[], bytes]
) -> tuple[bytes, list[Line]]:
    """A file with each mutated record after ``VALID_AROUND`` valid ones; its physical lines' origins."""
    entries: list[tuple[bytes, str, Mutation | None]] = []
    if fmt == "csv":
        entries.append((MEALDASH_HEADER.encode(), "header", None))
    entries += [(valid(), "valid", None) for _ in range(2)]
    mutation: Mutation | None  # also names each line's mutation, or None, below
    for mutation in mutations:
        entries += [(valid(), "valid", None) for _ in range(VALID_AROUND)]
        raw = mutation.apply(pool)
        entries.append((raw, "valid" if raw in pool else "mutated", mutation))  # unchanged: still valid
    entries += [(valid(), "valid", None) for _ in range(2)]
    data = b"".join(raw + b"\n" for raw, _, _ in entries)
    starts, offset = [], 0
    for raw, _, _ in entries:
        starts.append(offset)
        offset += len(raw) + 1
    lines, position = [], 0
    for number, end in enumerate(_LINE_END.finditer(data), start=1):
        _, origin, mutation = entries[bisect.bisect_right(starts, position) - 1]
        lines.append(Line(number, data[position : end.start()], origin, mutation))
        position = end.end()
    return data, lines


@dataclass
class FuzzRun:
    """The files of one format, the mutations in them, and the job's one run over them."""

    fmt: Format
    lines: dict[str, list[Line]]  # by file name
    mutations: int
    run: JobRun


def fuzz_run(spark: SparkSession, root: Path, fmt: Format) -> FuzzRun:
    mutations = hypothesis_examples(MUTATIONS, EXAMPLES)
    base = Records(fmt, seed=5)
    pool = [base() for _ in range(POOL)]
    valid = Records(fmt, seed=6)
    valid.next_id = 10_000  # never an id of the pool
    folder = root / "in"
    folder.mkdir()
    per_file = -(-len(mutations) // FILES)
    lines = {}
    for k in range(FILES):
        name = f"fuzz_{k}.{'jsonl' if fmt == 'json' else 'csv'}"
        data, lines[name] = build_file(fmt, mutations[k * per_file : (k + 1) * per_file], pool, valid)
        (folder / name).write_bytes(data)
    return FuzzRun(fmt, lines, len(mutations), run_job(spark, folder, root / "lake", fmt, f"fuzz-{fmt}"))


class FuzzRuns:
    def __init__(self, spark: SparkSession, factory: pytest.TempPathFactory) -> None:
        self.spark, self.factory = spark, factory
        self.runs: dict[str, FuzzRun] = {}

    def get(self, fmt: Format) -> FuzzRun:
        if fmt not in self.runs:
            self.runs[fmt] = fuzz_run(self.spark, self.factory.mktemp(f"fuzz_{fmt}"), fmt)
        return self.runs[fmt]


@pytest.fixture(scope="module")
def fuzz(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> FuzzRuns:
    return FuzzRuns(spark, tmp_path_factory)


# --- the properties -----------------------------------------------------------------------------------

FORMATS = ["json", "csv"]
SHOWN = 8  # violations shown in a failure message


def _report(title: str, violations: list[str], run: FuzzRun) -> str:
    shown = "\n- ".join(violations[:SHOWN])
    return f"{run.fmt}: {len(violations)} {title} (of {run.mutations} mutated records):\n- {shown}"


def _succeeded(fuzz: FuzzRuns, fmt: Format) -> FuzzRun:
    """The format's run, which must have ended normally (a failed run holds no per-line outcome)."""
    run = fuzz.get(fmt)
    summary = run.run.summary
    lines = str(summary.get("error") or summary["message"]).splitlines()
    cause = [line for line in lines if "Exception: " in line and "SparkException" not in line]
    assert run.run.exit_code == 0, f"the run failed ({run.run.exit_code}): {(cause or lines)[0][:400]}"
    return run


def _outcomes(run: FuzzRun, name: str) -> dict[int, tuple[str, dict[str, Any]]]:
    """line number -> ("valid" | "dead", row) of one file; a line seen twice is kept as "twice"."""
    seen: dict[int, tuple[str, dict[str, Any]]] = {}
    for kind, rows, column in (
        ("valid", run.run.valid.get(name, []), "_source_line"),
        ("dead", run.run.dead.get(name, []), "source_line"),
    ):
        for row in rows:
            line = row[column]
            seen[line] = ("twice", row) if line in seen else (kind, row)
    return seen


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_job_reads_every_line_once_and_lands_it_exactly_once(fuzz: FuzzRuns, fmt: Format) -> None:
    run = _succeeded(fuzz, fmt)
    assert run.mutations >= 500
    summary = run.run.summary
    assert summary["records_read"] == summary["records_valid"] + summary["records_dead_lettered"]
    assert run.run.table_counts == (summary["records_valid"], summary["records_dead_lettered"])
    blank = sum(line.blank for lines in run.lines.values() for line in lines)
    assert summary["blank_lines_skipped"] == blank
    violations = []
    for name, lines in run.lines.items():
        records = {line.number for line in lines if line.origin != "header" and not line.blank}
        entry = run.run.files[name]
        if entry["records_read"] != len(records):
            violations.append(f"{name}: read {entry['records_read']} records, the file has {len(records)}")
        outcomes = _outcomes(run, name)
        if set(outcomes) != records:
            violations.append(
                f"{name}: lines never landed {sorted(records - set(outcomes))[:SHOWN]}, "
                f"landed but no record {sorted(set(outcomes) - records)[:SHOWN]}"
            )
        twice = [n for n, (kind, _) in outcomes.items() if kind == "twice"]
        if twice:
            violations.append(f"{name}: lines both valid and dead or twice: {twice[:SHOWN]}")
    assert not violations, _report("conservation failures", violations, run)


def _strict(fmt: Format, raw: bytes) -> dict[str, Any] | Rejected:
    try:
        return strict_record(fmt, raw, contract_specs(fmt))
    except Rejected as exc:
        return exc


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_valid_record_is_ever_dead_lettered(fuzz: FuzzRuns, fmt: Format) -> None:
    run = _succeeded(fuzz, fmt)
    specs = contract_specs(fmt)
    violations = []
    for name, lines in run.lines.items():
        outcomes = _outcomes(run, name)
        for line in lines:
            if line.origin != "valid":
                continue
            kind, row = outcomes.get(line.number, ("missing", {}))
            if kind != "valid":
                violations.append(f"{name}:{line.number} {kind}: {row.get('error_type')} {line.raw[:120]!r}")
            elif loaded_values(row, specs) != strict_record(fmt, line.raw, specs):
                violations.append(f"{name}:{line.number} loaded changed: {line.raw[:120]!r}")
    assert not violations, _report("valid records not loaded as they are", violations, run)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_mutated_record_is_dead_lettered_exactly_or_loaded_as_its_strict_reading(
    fuzz: FuzzRuns, fmt: Format
) -> None:
    run = _succeeded(fuzz, fmt)
    specs = contract_specs(fmt)
    violations = []
    for name, lines in run.lines.items():
        outcomes = _outcomes(run, name)
        for line in lines:
            if line.origin != "mutated" or line.blank:
                continue
            kind, row = outcomes.get(line.number, ("missing", {}))
            if kind == "dead":
                if exact_bytes(row) != line.raw:
                    violations.append(
                        f"{name}:{line.number} dead letter holds {exact_bytes(row)!r}, input {line.raw!r}"
                    )
                continue
            strict = _strict(fmt, line.raw)
            if isinstance(strict, Rejected):
                violations.append(
                    f"{name}:{line.number} loaded, but {strict}: {line.raw!r} ({line.mutation})"
                )
            elif loaded_values(row, specs) != strict:
                got = loaded_values(row, specs)
                diff = {k: (got[k], strict[k]) for k in strict if got[k] != strict[k]}
                violations.append(f"{name}:{line.number} loaded changed {diff}: {line.raw!r}")
    assert not violations, _report(
        "mutated records loaded though the contract refuses them or changed", violations, run
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_error_zone_mirrors_the_dead_letters_byte_for_byte(fuzz: FuzzRuns, fmt: Format) -> None:
    run = _succeeded(fuzz, fmt)
    violations = []
    for name in run.lines:
        dead = sorted(run.run.dead.get(name, []), key=lambda d: d["source_line"])
        want = b"".join((exact_bytes(d) or b"") + b"\n" for d in dead)
        if run.run.error_zone(name) != want:
            violations.append(f"{name}: the error zone differs from its {len(dead)} dead letters")
    assert not violations, _report("error-zone mismatches", violations, run)
