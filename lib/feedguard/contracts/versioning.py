"""Choose the contract version of each input file.

By default the newest version effective today applies. When the contract declares a
``version_field``, the producer says which version a file follows: the field of the file's first
record chooses the version (a file whose first record names no known version keeps the default).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict

from feedguard.contracts.contract import Contract
from feedguard.contracts.registry import select_version
from feedguard.ingest.file_checks import SNIFF_BYTES
from feedguard.lake.storage import FileInfo, read_head


def first_record_version(info: FileInfo, contract: Contract) -> int | None:
    """The version named by the first record of a plain-text file, or None."""
    field = contract.version_field
    if field is None or info.uri.endswith((".gz", ".gzip")):
        return None
    text = read_head(info.uri, SNIFF_BYTES).decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    value: object = None
    if contract.format == "json" and lines:
        first = lines[0].strip()
        if first.startswith("["):
            first = lines[1].strip().rstrip(",") if first == "[" and len(lines) > 1 else first.strip("[],")
        try:
            value = json.loads(first).get(field)
        except (ValueError, AttributeError):
            return None
    elif contract.format == "csv" and len(lines) > 1:
        rows = list(csv.reader(io.StringIO("\n".join(lines[:2])), delimiter=contract.csv.delimiter))
        if field in rows[0] and len(rows) > 1 and len(rows[1]) == len(rows[0]):
            value = rows[1][rows[0].index(field)]
    try:
        return int(str(value).lstrip("v")) if value is not None else None
    except ValueError:
        return None


def group_by_version(
    files: list[FileInfo], versions: list[Contract], day: dt.date, pinned: int | None = None
) -> dict[int, list[FileInfo]]:
    """Files grouped by the contract version that applies to each."""
    default = select_version(versions, day, pinned)
    known = {c.version: c for c in versions}
    groups: dict[int, list[FileInfo]] = defaultdict(list)
    for info in files:
        chosen = None if pinned else first_record_version(info, default)
        groups[chosen if chosen in known else default.version].append(info)
    return dict(groups)
