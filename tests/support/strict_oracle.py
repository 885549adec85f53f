"""A strict, independent reading of one record against its contract: what it must load as, or why not.

:func:`strict_json_record` reads a QuickBite JSON line with ``json.loads`` (duplicate keys refused,
numbers kept as their text and read as ``Decimal``, NaN and lone surrogates refused);
:func:`strict_csv_record` reads a MealDash CSV line with the ``csv`` module (``strict=True``) and a
small RFC 4180 tokenizer that must agree with it (a quote only inside a quoted field). Both then check
the contract YAML's types and constraints (read without the project's contract code). The result is
the values a valid record must load as; :class:`Rejected` says why a record must not load. The job may
dead-letter more than the oracle rejects, never load what it rejects or load a value that differs.

Example::

    specs = contract_specs("json")
    strict_json_record(b'{"order_id": "QB-00000001", ...}', specs)  # {'order_id': 'QB-00000001', ...}
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "json": ROOT / "contracts" / "quickbite" / "orders.v1.yaml",
    "csv": ROOT / "contracts" / "mealdash" / "orders.v1.yaml",
}
Format = Literal["json", "csv"]


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
