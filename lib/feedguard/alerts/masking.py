"""Mask personal data and secrets in alert text before it leaves the lake.

Masked: the values of the contract's PII fields (JSON ``"field": value``, ``field=value``,
``field: value``, and CSV columns when the column order is known), anything shaped like an email
address or a phone number wherever it appears, and secrets (keys named like password/token/secret/
api_key, bearer tokens, AWS access keys and secret keys, Slack tokens and webhook URLs, JWTs,
credentials in URLs).

Every pattern runs in time linear in the text: no quantifier can backtrack over a run of the text
(possessive quantifiers, or a look-behind that admits one start per run), and a JSON value's end
is found with one regex scan. Callers that show only a few characters should still mask a bounded
prefix (:data:`MAX_MASKED_CHARS`), as the alert formatter does.

>>> mask_text('{"id": 7, "customer_email": "ann@example.com"}', ["customer_email"])
'{"id": 7, "customer_email": "***"}'
>>> mask_text("7,Ann Lee,12.50", ["customer_name"], csv_columns=["id", "customer_name", "amount"])
'7,***,12.50'
>>> mask_text("call +44 20 7946 0958 or 415-555-2671", [])
'call *** or ***'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Final

MASK: Final = "***"
MAX_MASKED_CHARS: Final = 4096  # what an alert masks of one sample value (it shows far less)
MAX_KEY_CHARS: Final = 256  # a longer "key" is not a field name: its value is masked
PHONE_DIGITS: Final = range(7, 16)  # E.164 allows at most 15 digits

_SECRET_WORDS: Final = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|auth|credentials?|session[_-]?id|cookie"
)
_SECRET_KEY_RE: Final = re.compile(rf"(?i){_SECRET_WORDS}")
# One start per run of address characters (the look-behind), no backtracking inside (possessive).
_EMAIL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]++@[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++"
)
# Each token pattern with a literal that any match holds (a cheap test before the scan).
_TOKEN_RES: Final = (
    ("bearer", re.compile(r"(?i)\bbearer\s++[A-Za-z0-9._~+/=\-]++")),
    ("akia", re.compile(r"\bAKIA[A-Z0-9]{16}\b")),
    ("asia", re.compile(r"\bASIA[A-Z0-9]{16}\b")),
    ("xox", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]++")),
    ("hooks.slack.com", re.compile(r"(?i)(?:https?://)?hooks\.slack\.com/\S++")),
    ("eyj", re.compile(r"\beyJ[A-Za-z0-9_\-]++\.[A-Za-z0-9_\-]++\.[A-Za-z0-9_\-]++")),
    ("://", re.compile(r"(?<=://)[^/\s:@]++:[^/\s@]++(?=@)")),
)
# An AWS secret access key: 40 base64 characters, upper and lower case and digits (checked per match).
_AWS_SECRET_RE: Final = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# A phone-number candidate: digit groups, optionally in parentheses, joined by at most one space, dot
# or hyphen, optionally after a '+'. It may not start inside a word, number or hyphenated id. The
# first character is matched first (so the scan skips other text fast), the look-behinds then check
# the character before it and which one it was.
_PHONE_RE: Final = re.compile(
    r"[+(0-9](?<![\w+\-.].)"
    r"(?:(?<=\+)(?:\([0-9]++\)|[0-9]++)|(?<=\()[0-9]++\)|(?<=[0-9])[0-9]*+)"
    r"(?:[ .\-]?+(?:\([0-9]++\)|[0-9]++))*+"
)
_DIGIT_GROUP_RE: Final = re.compile(r"[0-9]++")
_DATE_GROUPS: Final = ((4, 2, 2), (2, 2, 4))
# The end of a JSON key: a quote, then a colon. Its opening quote is the nearest quote before it (within
# MAX_KEY_CHARS); searching from every quote instead rescanned the rest of a string of escaped quotes.
_JSON_KEY_END_RE: Final = re.compile(r'"\s*+:\s*+')
_JSON_STRING_REST_RE: Final = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_JSON_STRUCTURE_RE: Final = re.compile(r'["{}\[\]]')
_JSON_SCALAR_RE: Final = re.compile(r"[^,}\]\s]*+")
# ``key=`` / ``key:`` (log lines, error details): one start per token (the look-behind).
_KEY_SEPARATOR_RE: Final = re.compile(r"(?<![\w.\-])([\w.\-]++)\s*+[=:]\s*+")
_ALREADY_MASKED_RE: Final = re.compile(r'"?\*\*\*')
# The value after ``key=``: quoted, or everything up to the next separator (spaces included:
# ``name=Ann Lee, ...`` has no other end; masking too much is the safe side). Backtracking is
# bounded by the trailing spaces before the separator.
_UNQUOTED_VALUE_RE: Final = re.compile(r"""'[^']*+'|"[^"]*+"|[^,;&)}\]\s](?:[^,;&)}\]\r\n]*[^,;&)}\]\s])?""")


def mask_text(
    text: str,
    pii_fields: Iterable[str],
    *,
    csv_columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> str:
    """``text`` with PII values, email addresses, phone numbers and secrets replaced by ``***``."""
    names = _field_names(pii_fields)
    if csv_columns is not None and not text.lstrip().startswith(("{", "[")):
        text = _mask_csv(text, names, csv_columns, delimiter)
    text = _mask_json_values(text, names)
    text = _mask_key_values(text, names)
    lowered = text.lower()
    for literal, pattern in _TOKEN_RES:
        if literal in lowered:
            text = pattern.sub(MASK, text)
    text = _AWS_SECRET_RE.sub(_mask_if_aws_secret, text)
    if "@" in text:
        text = _EMAIL_RE.sub(MASK, text)
    return _PHONE_RE.sub(_mask_if_phone, text)


def _field_names(pii_fields: Iterable[str]) -> frozenset[str]:
    """Lower-cased names, with the leaf of dotted nested names (``customer.email`` -> ``email``) too."""
    names: set[str] = set()
    for name in pii_fields:
        names.add(name.lower())
        names.add(name.rsplit(".", 1)[-1].lower())
    return frozenset(n for n in names if n)


def _is_sensitive_key(key: str, names: frozenset[str]) -> bool:
    if len(key) > MAX_KEY_CHARS:
        return True
    return key.lower() in names or bool(_SECRET_KEY_RE.search(key))


def _mask_if_aws_secret(match: re.Match[str]) -> str:
    value = match.group()
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return MASK if mixed and any(c.isdigit() for c in value) else value


def _mask_if_phone(match: re.Match[str]) -> str:
    """Mask a candidate that has a phone's shape: 7 to 15 digits, a '+' or several groups, not a date."""
    value = match.group()
    after = match.string[match.end() : match.end() + 1]
    if after.isalnum() or after == "_":
        return value  # part of a word or an id
    groups = [len(g) for g in _DIGIT_GROUP_RE.findall(value)]
    if sum(groups) not in PHONE_DIGITS:
        return value
    if value.startswith("+"):
        return MASK
    if len(groups) < 2 or tuple(groups[:3]) in _DATE_GROUPS:
        return value  # a bare number (an id, an amount) or a date
    if len(groups) == 2 and "." in value:
        return value  # a decimal number
    return MASK


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
    for match in _JSON_KEY_END_RE.finditer(text):
        opening = text.rfind('"', max(pos, match.start() - MAX_KEY_CHARS - 1), match.start())
        if match.start() < pos or (
            opening >= 0 and not _is_sensitive_key(text[opening + 1 : match.start()], names)
        ):
            continue  # inside a value masked already, or not a sensitive key (no opening quote: a long key)
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
    if first not in "{[":
        match = _JSON_SCALAR_RE.match(text, start)
        return match.end() if match else start
    depth, i = 0, start
    while (found := _JSON_STRUCTURE_RE.search(text, i)) is not None:
        ch, i = found.group(), found.end()
        if ch == '"':
            i = _string_end(text, found.start())
        elif ch in "{[":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _string_end(text: str, start: int) -> int:
    """Index just past the JSON string whose opening quote is at ``start`` (the end if unterminated)."""
    match = _JSON_STRING_REST_RE.match(text, start + 1)
    return match.end() if match else len(text)


def _mask_key_values(text: str, names: frozenset[str]) -> str:
    """Mask ``key=value`` and ``key: value`` forms (log lines, error details) for sensitive keys.

    A key is sensitive when it contains a PII field name or a secret word (``customer_name_2``,
    ``x-api-key``); keys inside a value that was masked are skipped with it.
    """
    words = [re.escape(n) for n in sorted(names, key=len, reverse=True)]
    sensitive = re.compile(f"(?i){'|'.join([*words, _SECRET_WORDS])}")
    parts: list[str] = []
    pos = 0
    if "=" not in text and ":" not in text:
        return text
    for match in _KEY_SEPARATOR_RE.finditer(text):
        key = match.group(1)
        if match.start() < pos or _ALREADY_MASKED_RE.match(text, match.end()):
            continue
        if len(key) <= MAX_KEY_CHARS and not sensitive.search(key):
            continue
        value = _UNQUOTED_VALUE_RE.match(text, match.end())
        if value is None:
            continue
        parts.append(text[pos : match.end()])
        parts.append(MASK)
        pos = value.end()
    parts.append(text[pos:])
    return "".join(parts)
