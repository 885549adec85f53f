"""Structural change or intermittent corruption: a verdict per input file, with its evidence.

Signals: the share of bad records in the file, whether the failures share one signature (the
same error on the same field or key in most bad records), and for CSV the header against the
contract (renamed, added, removed, reordered columns, another delimiter), which Spark itself only
warns about before assigning columns by position.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from enum import StrEnum

from feedguard.contracts.contract import Contract
from feedguard.parse.measure import FileStats
from feedguard.summary import Evidence

# Errors that, when most records share them, mean the producer changed the format.
STRUCTURAL_ERRORS = frozenset(
    {
        "unexpected_field",
        "field_case_mismatch",
        "missing_required_field",
        "type_mismatch",
        "extra_columns",
        "missing_columns",
        "not_an_object",
    }
)
OTHER_DELIMITERS = (";", "\t", "|", ",")


class Verdict(StrEnum):
    CLEAN = "clean"
    INTERMITTENT = "intermittent_corruption"
    STRUCTURAL_CHANGE = "structural_change"
    FILE_CORRUPT = "file_corrupt"


@dataclass(frozen=True)
class FileVerdict:
    verdict: Verdict
    detail: str
    evidence: Evidence = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderProblem:
    detail: str
    evidence: Evidence


def _split_header(line: str, delimiter: str, quote: str) -> list[str]:
    reader = csv.reader(io.StringIO(line), delimiter=delimiter, quotechar=quote)
    return [cell.strip() for cell in next(reader, [])]


def header_problem(contract: Contract, first_line: str | None) -> HeaderProblem | None:
    """What is wrong with a CSV header, or None when it matches the contract exactly."""
    if contract.format != "csv" or not contract.csv.header or first_line is None:
        return None
    expected = [f.delivered_name for f in contract.fields]
    opts = contract.csv
    found = _split_header(first_line, opts.delimiter, opts.quote)
    delimiter = opts.delimiter
    if len(found) <= 1:
        for other in OTHER_DELIMITERS:
            if other != opts.delimiter and len(_split_header(first_line, other, opts.quote)) > 1:
                delimiter = other
                found = _split_header(first_line, other, opts.quote)
                break
    if found == expected and delimiter == opts.delimiter:
        return None
    added = [c for c in found if c not in expected]
    removed = [c for c in expected if c not in found]
    reordered = sorted(found) == sorted(expected) and found != expected
    evidence: Evidence = {
        "expected_header": expected,
        "found_header": found,
        "added_columns": added,
        "removed_columns": removed,
        "reordered": reordered,
        "delimiter_expected": opts.delimiter,
        "delimiter_found": delimiter,
    }
    parts = []
    if delimiter != opts.delimiter:
        parts.append(f"delimiter changed from {opts.delimiter!r} to {delimiter!r}")
    if added:
        parts.append(f"added columns: {', '.join(added)}")
    if removed:
        parts.append(f"missing columns: {', '.join(removed)}")
    if reordered:
        parts.append("columns reordered (Spark would assign them by position)")
    detail = "CSV header does not match the contract: " + ("; ".join(parts) or f"found {found}")
    return HeaderProblem(detail, evidence)


def dominant_signature(stats: FileStats) -> tuple[str | None, float]:
    """The most common ``error_type:field`` among bad records and its share of them."""
    if not stats.bad or not stats.error_fields:
        return None, 0.0
    signature, count = max(stats.error_fields.items(), key=lambda item: (item[1], item[0]))
    return signature, count / stats.bad


def classify_file(contract: Contract, stats: FileStats) -> FileVerdict:
    """The verdict for one readable file from its counts.

    A file whose bad records exceed ``intermittent_max_ratio``, or that has no good record, is judged
    whole: ``structural_change`` when most failures share one structural signature over at least
    ``min_records_for_structural`` records, else ``file_corrupt`` (quarantined, nothing loaded). Below
    the threshold it is ``intermittent_corruption``: the good records load.
    """
    limits = contract.thresholds
    ratio = stats.bad / stats.records if stats.records else 0.0
    signature, share = dominant_signature(stats)
    evidence: Evidence = {
        "records": stats.records,
        "bad_records": stats.bad,
        "bad_ratio": round(ratio, 6),
        "errors_by_type": dict(sorted(stats.errors_by_type.items())),
        "dominant_signature": signature,
        "signature_share": round(share, 6),
        "thresholds": limits.model_dump(),
    }
    if not stats.bad:
        return FileVerdict(Verdict.CLEAN, "no bad records", evidence)
    kind = signature.split(":", 1)[0] if signature else None
    # Above the threshold (or nothing good at all) the file is judged whole, whatever its size.
    file_level = ratio > limits.intermittent_max_ratio or stats.good == 0
    shared = share >= limits.signature_share and kind in STRUCTURAL_ERRORS
    enough = stats.records >= limits.min_records_for_structural
    if file_level and shared and enough:
        detail = (
            f"{stats.bad} of {stats.records} records ({ratio:.0%}) fail with the same signature "
            f"{signature} ({share:.0%} of the failures): the producer changed the format"
        )
        return FileVerdict(Verdict.STRUCTURAL_CHANGE, detail, evidence)
    if file_level:
        detail = (
            f"{stats.bad} of {stats.records} records ({ratio:.0%}) are bad, above the contract's "
            f"intermittent_max_ratio ({limits.intermittent_max_ratio:.0%}): the file is quarantined whole"
        )
        if shared:
            detail += (
                f"; they share the signature {signature}, but {stats.records} record(s) are too few "
                f"(min_records_for_structural {limits.min_records_for_structural}) to call it a format change"
            )
        return FileVerdict(Verdict.FILE_CORRUPT, detail, evidence)
    evidence["above_warning_ratio"] = ratio > limits.warning_ratio
    detail = (
        f"{stats.bad} of {stats.records} records ({ratio:.2%}) are bad with no shared structural signature"
    )
    return FileVerdict(Verdict.INTERMITTENT, detail, evidence)
