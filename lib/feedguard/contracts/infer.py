"""Onboarding a new feed: infer a first contract from sample files (``feedguard contracts infer``).

The samples are read by the job's own readers (JSON Lines, JSON arrays, gzip, CSV with its header,
byte-order marks and UTF-16/32 included), every record with its file and line. Spark's PERMISSIVE
JSON parse and a strict parse decide which records are unparseable: they are reported and never
shape the schema, and a sample where they dominate is refused. Types, nesting, required fields and
suggestions come from :mod:`feedguard.contracts.infer_fields`; the YAML from
:mod:`feedguard.contracts.infer_report`.

Example::

    result = infer_contract(spark, InferRequest("acme", "orders", "samples/acme/"))
    path = write_contract(result, "contracts")     # contracts/acme/orders.v1.yaml
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.infer_fields import InferredFields, infer_fields
from feedguard.contracts.infer_profile import (
    Location,
    RawRecord,
    SampleProfile,
    csv_header,
    profile_csv,
    profile_json,
)
from feedguard.contracts.infer_report import SampleSummary, build_contract, contract_yaml, report_text
from feedguard.contracts.infer_types import Issue
from feedguard.contracts.schema import CORRUPT_COLUMN
from feedguard.errors import InputNotFoundError, UsageError
from feedguard.ingest.file_checks import SNIFF_BYTES, UTF8, CheckedFile, check_file, sniff_bom, sniff_wide
from feedguard.ingest.sources import read_json_arrays, read_lines
from feedguard.lake.storage import FileInfo, list_files, normalise_uri, read_head

DEFAULT_MAX_LINES = 100_000  # the sample is read up to this many lines (it is a sample)
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_CASE_SENSITIVE = "spark.sql.caseSensitive"
_JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": CORRUPT_COLUMN,
    "allowNonNumericNumbers": "false",
    "allowSingleQuotes": "false",
}


class InferenceRefused(UsageError):
    """The sample cannot give a trustworthy contract (mostly unparseable, or nothing readable): exit 2."""


@dataclass(frozen=True)
class InferRequest:
    source: str
    dataset: str
    input_path: str
    format: str | None = None  # json or csv; from the file names when None
    delimiter: str | None = None  # CSV; from the header when None
    max_lines: int = DEFAULT_MAX_LINES
    effective_from: dt.date | None = None


@dataclass(frozen=True)
class InferResult:
    contract: Contract
    yaml_text: str
    report: str
    summary: SampleSummary
    inferred: InferredFields

    @property
    def issues(self) -> list[Issue]:
        return self.inferred.issues


def _check(info: FileInfo) -> CheckedFile:
    """The driver's checks of a sample file, in the encoding its byte-order mark (or NUL bytes) shows."""
    head = read_head(info.uri, SNIFF_BYTES)
    encoding = sniff_bom(head) or sniff_wide(head) or UTF8
    return check_file(info, declared=encoding.name)


def _format_of(request: InferRequest, files: list[CheckedFile]) -> str:
    if request.format is not None:
        if request.format not in ("json", "csv"):
            raise UsageError(f"--format must be json or csv, got {request.format!r}")
        return request.format
    csv = [f for f in files if f.info.uri.lower().endswith(CSV_SUFFIXES)]
    return "csv" if csv and len(csv) * 2 >= len(files) else "json"


def _read(spark: SparkSession, files: list[CheckedFile], fmt: str) -> DataFrame:
    arrays = [f for f in files if fmt == "json" and f.layout == "array"]
    lines = [f for f in files if f not in arrays]
    frames = ([read_lines(spark, lines)] if lines else []) + (
        [read_json_arrays(spark, arrays)] if arrays else []
    )
    frame = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    return frame.select(
        "_source_file", "_block_start", "_row_in_block", "_raw", "_doc_error", "_element_line"
    )


def read_records(spark: SparkSession, files: list[CheckedFile], fmt: str, max_lines: int) -> list[RawRecord]:
    """Every record of the files (up to ``max_lines``), in file order, with its line number."""
    rows = (
        _read(spark, files, fmt)
        .orderBy("_source_file", "_block_start", "_row_in_block")
        .limit(max_lines)
        .collect()
    )
    position: Counter[str] = Counter()
    records = []
    for row in rows:
        file = normalise_uri(row["_source_file"])
        position[file] += 1
        line = row["_element_line"] if row["_element_line"] is not None else position[file]
        first = row["_element_line"] is None and position[file] == 1
        records.append(RawRecord(file, line, row["_raw"], row["_doc_error"], first))
    return records


def spark_json_verdict(
    spark: SparkSession, records: list[RawRecord]
) -> tuple[dict[Location, str], dict[str, str]]:
    """Records Spark's PERMISSIVE parse rejects, and Spark's inferred type of each top-level key."""
    texts = [(i, r.text.removeprefix("\ufeff") if r.first else r.text) for i, r in enumerate(records)]
    texts = [(i, t) for i, t in texts if t.strip(" \t\r")]
    if not texts:
        return {}, {}
    frame = spark.createDataFrame(texts, "i long, raw string")
    previous = spark.conf.get(_CASE_SENSITIVE, "false") or "false"
    spark.conf.set(_CASE_SENSITIVE, "true")  # keys that differ only in case are two keys here
    try:
        schema = spark.read.options(**_JSON_OPTIONS).json(frame.rdd.map(lambda row: row[1])).schema
        if CORRUPT_COLUMN not in schema.fieldNames():
            return {}, {f.name: f.dataType.simpleString() for f in schema.fields}
        parsed = frame.select(
            "i", F.from_json("raw", schema, _JSON_OPTIONS).getField(CORRUPT_COLUMN).alias("c")
        )
        rejected = [row["i"] for row in parsed.where(F.col("c").isNotNull()).collect()]
    finally:
        spark.conf.set(_CASE_SENSITIVE, previous)
    reason = "Spark's PERMISSIVE JSON parse rejects it"
    guess = {f.name: f.dataType.simpleString() for f in schema.fields if f.name != CORRUPT_COLUMN}
    return {records[i].location: reason for i in rejected}, guess


def spark_csv_guess(
    spark: SparkSession, profile: SampleProfile, records: list[RawRecord], delimiter: str
) -> dict[str, str]:
    """Spark's inferSchema reading of the data lines, by header name (for comparison only)."""
    lines = [r.text for r in records if not r.first and r.text.strip(" \t\r")]
    header = profile.header
    if not lines or not header:
        return {}
    rdd = spark.sparkContext.parallelize(lines, 1)
    reader = spark.read.options(sep=delimiter, quote='"', escape='"', inferSchema="true", mode="PERMISSIVE")
    fields = reader.csv(rdd).schema.fields  # type: ignore[arg-type]  # an RDD of lines is accepted
    return {name: f.dataType.simpleString() for name, f in zip(header, fields, strict=False)}


def _delimiter(request: InferRequest, records: list[RawRecord]) -> str:
    if request.delimiter:
        return request.delimiter
    first = next((r.text.removeprefix("\ufeff") for r in records if r.first), "")
    return max(CANDIDATE_DELIMITERS, key=lambda d: len(csv_header(first, d, '"')))


def _refuse_if_dominated(profile: SampleProfile) -> None:
    """Refuse when unparseable records are at least as many as the parsed ones; name the files."""
    bad = profile.unparseable_by_file()
    if profile.parsed and len(profile.unparseable) < profile.parsed:
        return
    worst = sorted(bad, key=lambda f: (profile.records[f] - bad[f], f))
    named = []
    for file in worst:
        first = next(u for u in profile.unparseable if u.location.file == file)
        named.append(
            f"{file}: {bad[file]} of {bad[file] + profile.records[file]} records unparseable "
            f"(line {first.location.line}: {first.reason})"
        )
    raise InferenceRefused(
        f"refusing to infer a contract: {len(profile.unparseable)} of "
        f"{len(profile.unparseable) + profile.parsed} records are unparseable, so they would not be a "
        "sample of the feed. Check the format (--format, --delimiter) or the files:\n  " + "\n  ".join(named)
    )


def _encoding(files: list[CheckedFile]) -> str:
    return Counter(f.encoding.name for f in files).most_common(1)[0][0]


def _header_issues(profile: SampleProfile) -> list[Issue]:
    if len(profile.headers) < 2:
        return []
    main = profile.header
    return [
        Issue(
            "header_differs",
            "<header>",
            f"{len(files)} file(s) carry another header: {list(header)}",
            tuple(files),
            f"their rows were left out; the contract follows {list(main)} (their ingest will be a "
            "structural change)",
        )
        for header, files in profile.headers.items()
        if header != main
    ]


def infer_contract(spark: SparkSession, request: InferRequest) -> InferResult:
    """Read, profile and type the sample; refuse when it is mostly unparseable or unreadable."""
    listed = list_files(request.input_path)
    if not listed:
        raise InputNotFoundError(f"no input file matches {request.input_path!r} (file, folder or glob)")
    checked = [_check(info) for info in listed]
    readable = [c for c in checked if c.readability == "ok"]
    unreadable = {normalise_uri(c.info.uri): c.detail for c in checked if c.readability != "ok"}
    if not readable:
        raise InferenceRefused(
            "refusing to infer a contract: no readable sample file:\n  "
            + "\n  ".join(f"{file}: {why}" for file, why in unreadable.items())
        )
    fmt = _format_of(request, readable)
    records = read_records(spark, readable, fmt, request.max_lines)
    delimiter = _delimiter(request, records) if fmt == "csv" else ","
    if fmt == "json":
        rejected, guess = spark_json_verdict(spark, records)
        profile = profile_json(records, rejected)
    else:
        profile = profile_csv(records, delimiter)
        guess = spark_csv_guess(spark, profile, records, delimiter)
    _refuse_if_dominated(profile)
    files = [normalise_uri(c.info.uri) for c in checked]
    truncated = request.max_lines if len(records) >= request.max_lines else None
    summary = SampleSummary(profile, files, unreadable, truncated, guess)
    inferred = infer_fields(profile)
    inferred.issues[:0] = _header_issues(profile)
    contract = build_contract(
        request.source,
        request.dataset,
        inferred,
        summary,
        encoding=_encoding(readable),
        effective_from=request.effective_from,
    )
    return InferResult(
        contract,
        contract_yaml(contract, inferred, summary),
        report_text(summary, inferred),
        summary,
        inferred,
    )


def contract_path(out_dir: str | Path, contract: Contract) -> Path:
    return Path(out_dir) / contract.source / f"{contract.dataset}.v{contract.version}.yaml"


def write_contract(result: InferResult, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``<out>/<source>/<dataset>.v1.yaml``; an existing contract is replaced only with ``force``."""
    path = contract_path(out_dir, result.contract)
    if path.exists() and not force:
        raise UsageError(
            f"{path} exists: a reviewed contract is never overwritten (use --force to replace it)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.yaml_text, encoding="utf-8")
    return path
