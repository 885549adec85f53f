"""Strict parsing of one sample record for contract inference: JSON objects and RFC 4180 CSV lines.

A record the job would dead-letter as unparseable raises :class:`RecordError` with the reason:
malformed JSON, trailing text, a top-level array or scalar, a repeated key, ``NaN``/``Infinity``;
a CSV line with an unbalanced quote, text after a closing quote or a quote in an unquoted field.

Example::

    parse_json_record('{"a": 1.50}')        # {'a': JsonNumber(text='1.50')}
    split_csv_line('a,"b, c"')             # ['a', 'b, c']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JsonNumber:
    """A JSON number with its literal text (``12.50`` keeps its two places)."""

    text: str


class RecordError(ValueError):
    """A record that cannot be parsed; the message is the reason."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise RecordError(f"repeated key {key!r}")
        seen[key] = value
    return seen


def _constant(name: str) -> Any:
    raise RecordError(f"{name} is not a JSON number")


def parse_json_record(text: str) -> dict[str, Any]:
    """A JSON object, strictly: no trailing text, no repeated key, no NaN/Infinity."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise RecordError(f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise RecordError(f"not a JSON object: a top-level {type(value).__name__.replace('list', 'array')}")
    return value


def split_csv_line(line: str, delimiter: str = ",", quote: str = '"') -> list[str]:
    """The fields of one CSV line under RFC 4180 (doubled quotes inside quoted fields)."""
    fields: list[str] = []
    cell: list[str] = []
    i, quoted, n = 0, False, len(line)
    while i <= n:
        ch = line[i] if i < n else None
        if quoted:
            if ch is None:
                raise RecordError("unbalanced quote")
            if ch == quote and i + 1 < n and line[i + 1] == quote:
                cell.append(quote)
                i += 1
            elif ch == quote:
                quoted = False
                if i + 1 < n and line[i + 1] != delimiter:
                    raise RecordError(f"text after a closing quote (column {i + 2})")
            else:
                cell.append(ch)
        elif ch is None or ch == delimiter:
            fields.append("".join(cell))
            cell = []
        elif ch == quote and not cell:
            quoted = True
        elif ch == quote:
            raise RecordError(f"a quote inside an unquoted field (column {i + 1})")
        else:
            cell.append(ch)
        i += 1
    return fields
