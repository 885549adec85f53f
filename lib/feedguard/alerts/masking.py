"""Mask personal data and secrets in dead-letter samples before they leave the lake in an alert.

Masked: the values of the contract's PII fields (JSON ``"field": value``, ``field=value``,
``field: value``, and CSV columns when the column order is known), anything that looks like an
email address, and secrets (keys named like password/token/secret/api_key, bearer tokens, AWS
access keys, Slack tokens and webhook URLs, JWTs, credentials in URLs).

>>> mask_text('{"id": 7, "customer_email": "ann@example.com"}', ["customer_email"])
'{"id": 7, "customer_email": "***"}'
>>> mask_text("7,Ann Lee,12.50", ["customer_name"], csv_columns=["id", "customer_name", "amount"])
'7,***,12.50'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Final

MASK: Final = "***"

_SECRET_WORDS: Final = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|auth|credentials?|session[_-]?id|cookie"
)
_SECRET_KEY_RE: Final = re.compile(rf"(?i)({_SECRET_WORDS})")
_EMAIL_RE: Final = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_TOKEN_RES: Final = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]+"),
    re.compile(r"https://hooks\.slack\.com/\S+"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
)
_JSON_KEY_RE: Final = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*')
# A value after ``key=`` / ``key:``: quoted, or everything up to the next separator (spaces included:
# ``name=Ann Lee, ...`` has no other end; masking too much is the safe side).
_UNQUOTED_VALUE: Final = r"""(?:'[^']*'|"[^"]*"|[^,;&)}\]\s](?:[^,;&)}\]\r\n]*[^,;&)}\]\s])?)"""


def mask_text(
    text: str,
    pii_fields: Iterable[str],
    *,
    csv_columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> str:
    """``text`` with PII values, email addresses and secrets replaced by ``***``."""
    names = _field_names(pii_fields)
    if csv_columns is not None and not text.lstrip().startswith(("{", "[")):
        text = _mask_csv(text, names, csv_columns, delimiter)
    text = _mask_json_values(text, names)
    text = _mask_key_values(text, names)
    for pattern in _TOKEN_RES:
        text = pattern.sub(MASK, text)
    return _EMAIL_RE.sub(MASK, text)


def _field_names(pii_fields: Iterable[str]) -> frozenset[str]:
    """Lower-cased names, with the leaf of dotted nested names (``customer.email`` -> ``email``) too."""
    names: set[str] = set()
    for name in pii_fields:
        names.add(name.lower())
        names.add(name.rsplit(".", 1)[-1].lower())
    return frozenset(n for n in names if n)


def _is_sensitive_key(key: str, names: frozenset[str]) -> bool:
    return key.lower() in names or bool(_SECRET_KEY_RE.search(key))


def _mask_csv(text: str, names: frozenset[str], columns: Sequence[str], delimiter: str) -> str:
    """Mask the PII columns of a CSV record; when its field count is off, positions are unknown: mask all."""
    positions = {i for i, c in enumerate(columns) if _is_sensitive_key(c, names)}
    if not positions:
        return text
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        rows = []
    if len(rows) != 1 or len(rows[0]) != len(columns):
        fields = rows[0] if len(rows) == 1 else text.split(delimiter)
        return delimiter.join(MASK for _ in fields)
    masked = [MASK if i in positions else value for i, value in enumerate(rows[0])]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(masked)
    return out.getvalue()


def _mask_json_values(text: str, names: frozenset[str]) -> str:
    """Replace the value after each sensitive JSON key by ``"***"`` (strings, numbers, objects, arrays)."""
    parts: list[str] = []
    pos = 0
    for match in _JSON_KEY_RE.finditer(text):
        if match.start() < pos or not _is_sensitive_key(match.group(1), names):
            continue
        end = _json_value_end(text, match.end())
        parts.append(text[pos : match.end()])
        parts.append(f'"{MASK}"')
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _json_value_end(text: str, start: int) -> int:
    """Index just past the JSON value starting at ``start`` (to the end of a truncated value)."""
    if start >= len(text):
        return start
    first = text[start]
    if first == '"':
        return _string_end(text, start)
    if first in "{[":
        depth, i = 0, start
        while i < len(text):
            ch = text[i]
            if ch == '"':
                i = _string_end(text, i)
                continue
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return len(text)
    match = re.compile(r"[^,}\]\s]*").match(text, start)
    return match.end() if match else start


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return len(text)


def _mask_key_values(text: str, names: frozenset[str]) -> str:
    """Mask ``key=value`` and ``key: value`` forms (log lines, error details) for sensitive keys."""
    keys = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    alternatives = f"{keys}|{_SECRET_WORDS}" if keys else _SECRET_WORDS
    pattern = re.compile(
        rf"(?i)\b([\w.\-]*?(?:{alternatives})\w*)(\s*[=:]\s*)(?!\s*\"?\*\*\*)({_UNQUOTED_VALUE})"
    )
    return pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
