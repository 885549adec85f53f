"""Parse sample records strictly and profile every field, for contract inference: pure Python.

A record that does not parse (malformed JSON, not an object, a repeated key, ``NaN``, a CSV line
with broken quoting or the wrong number of fields, a record Spark's own parse rejected) is kept
aside with its file, line and reason, and never shapes the profile.

Example::

    profile = profile_json([RawRecord("a.jsonl", 1, '{"id": 1}')])
    profile.root.children["id"].kinds    # Counter({'integer': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from feedguard.contracts.infer_parse import JsonNumber, RecordError, parse_json_record, split_csv_line
from feedguard.contracts.infer_values import (
    classify_number,
    classify_text,
    decimal_digits,
    looks_like_email,
    looks_like_phone,
)

MAX_EXAMPLES = 3  # locations kept per kind of value, as evidence
MAX_DISTINCT = 10_000  # distinct values tracked per field (for allowed values and uniqueness)
MAX_DATE_PAIRS = 1_000
NUMERIC_KINDS = ("integer", "decimal", "double")


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class RawRecord:
    """One record as the job's reader delivers it (``first``: the first line of its file)."""

    file: str
    line: int
    text: str
    reader_error: str | None = None
    first: bool = False

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)


@dataclass(frozen=True)
class Unparseable:
    location: Location
    reason: str


@dataclass
class FieldProfile:
    """What one field (or array element) held across the sample."""

    name: str
    present: int = 0
    nulls: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Location]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # one value per kind, as evidence
    distinct: set[str] = field(default_factory=set)
    distinct_overflow: bool = False
    low: Decimal | None = None
    high: Decimal | None = None
    integer_digits: int = 0
    places: Counter[int] = field(default_factory=Counter)  # decimal values by their decimal places
    fraction: int = 0
    without_fraction: int = 0
    date_pairs: list[tuple[int, int]] = field(default_factory=list)
    emails: int = 0
    phones: int = 0
    objects: int = 0
    children: dict[str, FieldProfile] = field(default_factory=dict)
    arrays: int = 0
    empty_arrays: int = 0
    item: FieldProfile | None = None

    @property
    def non_null(self) -> int:
        return self.present - self.nulls

    def _kind(self, kind: str, text: str, where: Location) -> None:
        self.kinds[kind] += 1
        found = self.examples.setdefault(kind, [])
        if len(found) < MAX_EXAMPLES:
            found.append(where)
        self.values.setdefault(kind, text)

    def _number(self, kind: str, text: str) -> None:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return
        self.low = number if self.low is None else min(self.low, number)
        self.high = number if self.high is None else max(self.high, number)
        if kind == "decimal":
            digits, places = decimal_digits(text)
            self.integer_digits = max(self.integer_digits, digits)
            self.places[places] += 1
        elif kind == "integer":
            self.integer_digits = max(self.integer_digits, decimal_digits(text)[0])

    def _text(self, text: str, observed_kind: str, first: int, second: int, fraction: int) -> None:
        if len(self.distinct) < MAX_DISTINCT:
            self.distinct.add(text)
        elif text not in self.distinct:
            self.distinct_overflow = True
        if observed_kind == "string":
            self.emails += looks_like_email(text)
            self.phones += looks_like_phone(text)
        if observed_kind.startswith(("timestamp", "date")):
            self.fraction = max(self.fraction, fraction)
            self.without_fraction += fraction == 0
            if first and len(self.date_pairs) < MAX_DATE_PAIRS:
                self.date_pairs.append((first, second))

    def observe(self, value: Any, where: Location, *, csv: bool = False) -> None:
        """Count one value of this field (``value`` as parsed: JSON types, or CSV text)."""
        self.present += 1
        if value is None or (csv and value == ""):
            self.nulls += 1
        elif isinstance(value, bool):
            self._kind("boolean", str(value).lower(), where)
        elif isinstance(value, JsonNumber):
            kind = classify_number(value.text).kind
            self._kind(kind, value.text, where)
            self._number(kind, value.text)
            self._text(value.text, kind, 0, 0, 0)
        elif isinstance(value, str):
            seen = classify_text(value, csv=csv)
            self._kind(seen.kind, value, where)
            if seen.kind in NUMERIC_KINDS:
                self._number(seen.kind, value)
            self._text(value, seen.kind, seen.first, seen.second, seen.fraction)
        elif isinstance(value, dict):
            self._kind("object", "{...}", where)
            self.objects += 1
            for key, child in value.items():
                self.children.setdefault(key, FieldProfile(key)).observe(child, where)
        elif isinstance(value, list):
            self._kind("array", "[...]", where)
            self.arrays += 1
            self.empty_arrays += not value
            self.item = self.item or FieldProfile("item")
            for element in value:
                self.item.observe(element, where)


@dataclass
class SampleProfile:
    """A profiled sample: the fields (``root.children``), the records per file, what did not parse."""

    format: str
    root: FieldProfile = field(default_factory=lambda: FieldProfile("<record>"))
    records: Counter[str] = field(default_factory=Counter)  # parsed records per file
    unparseable: list[Unparseable] = field(default_factory=list)
    blank: int = 0
    headers: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # CSV header -> files
    excluded: Counter[str] = field(default_factory=Counter)
    delimiter: str = ","  # CSV  # CSV rows under another header, per file

    @property
    def parsed(self) -> int:
        return sum(self.records.values())

    def reject(self, record: RawRecord, reason: str) -> None:
        self.unparseable.append(Unparseable(record.location, reason))

    def unparseable_by_file(self) -> Counter[str]:
        return Counter(u.location.file for u in self.unparseable)

    @property
    def header(self) -> tuple[str, ...]:
        """The CSV header most files carry (the first file's on a tie)."""
        if not self.headers:
            return ()
        return max(self.headers, key=lambda h: len(self.headers[h]))


def _is_blank(text: str) -> bool:
    return not text.strip(" \t\r")


def profile_json(
    records: Iterable[RawRecord], rejected: Mapping[Location, str] | None = None
) -> SampleProfile:
    """Profile JSON records; ``rejected``: records Spark's PERMISSIVE parse flagged, with the reason."""
    profile = SampleProfile("json")
    rejected = rejected or {}
    for record in records:
        text = record.text.removeprefix("\ufeff") if record.first else record.text
        if _is_blank(text):
            profile.blank += 1
            continue
        try:
            if record.reader_error:
                raise RecordError(record.reader_error)
            value = parse_json_record(text)
            if record.location in rejected:
                raise RecordError(rejected[record.location])
        except RecordError as exc:
            profile.reject(record, str(exc))
            continue
        profile.records[record.file] += 1
        profile.root.observe(value, record.location)
    return profile


def csv_header(line: str, delimiter: str, quote: str) -> tuple[str, ...]:
    """The header cells as the job compares them (unquoted, spaces around them stripped)."""
    try:
        return tuple(cell.strip() for cell in split_csv_line(line, delimiter, quote))
    except RecordError:
        return (line.strip(),)


def profile_csv(records: Iterable[RawRecord], delimiter: str = ",", quote: str = '"') -> SampleProfile:
    """Profile CSV records (the first line of each file is its header); columns keyed by position."""
    profile = SampleProfile("csv", delimiter=delimiter)
    rows: list[tuple[RawRecord, tuple[str, ...]]] = []
    header_of: dict[str, tuple[str, ...]] = {}
    for record in records:
        text = record.text.removeprefix("\ufeff").rstrip("\r") if record.first else record.text.rstrip("\r")
        if record.first:
            header_of[record.file] = csv_header(text, delimiter, quote)
            profile.headers.setdefault(header_of[record.file], []).append(record.file)
        elif _is_blank(text):
            profile.blank += 1
        else:
            rows.append((RawRecord(record.file, record.line, text, record.reader_error), ()))
    header = profile.header
    for position, name in enumerate(header):
        profile.root.children[str(position)] = FieldProfile(name)
    for record, _ in rows:
        if header_of.get(record.file) != header:
            profile.excluded[record.file] += 1  # another header: never mixed into these columns
            continue
        try:
            if record.reader_error:
                raise RecordError(record.reader_error)
            cells = split_csv_line(record.text, delimiter, quote)
            if len(cells) != len(header):
                raise RecordError(f"{len(cells)} fields, the header has {len(header)}")
        except RecordError as exc:
            profile.reject(record, str(exc))
            continue
        profile.records[record.file] += 1
        profile.root.objects += 1
        for position, cell in enumerate(cells):
            profile.root.children[str(position)].observe(cell, record.location, csv=True)
    return profile
