"""What one sample value looks like, for contract inference: pure functions, no Spark.

Each scalar is given a *kind*: ``integer``, ``decimal``, ``double``, ``boolean``, ``string``,
``timestamp <shape>``, ``date <shape>`` and, for JSON strings only, ``numeric_string`` and
``empty_string`` (which the JSON parser does not read as numbers or timestamps). A shape is the
layout of a date or time (``ymd-T-s-Z``), turned into a Spark datetime pattern by :func:`spark_pattern`.

Example::

    classify_text("2026-11-28 10:00:00", csv=True).kind   # 'timestamp ymd- -s-'
    classify_number("12.50").kind                         # 'decimal'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT_RE = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")
_DECIMAL_RE = re.compile(r"^[+-]?(0|[1-9][0-9]*)\.([0-9]+)$")
_EXPONENT_RE = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$")
_LEADING_ZERO_RE = re.compile(r"^[+-]?0[0-9]+(\.[0-9]+)?$")
_BOOL_TEXTS = {"true", "false"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ()./-]{5,22}[0-9]$")
PHONE_DIGITS = (7, 15)  # E.164 allows at most 15 digits
# Dates: (regex, shape). ``amb/`` is a day/month order the values decide (see resolve_date_order).
_DATES = (
    (r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})", "ymd-"),
    (r"(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})", "ymd/"),
    (r"(?P<a>[0-9]{2})/(?P<b>[0-9]{2})/(?P<y>[0-9]{4})", "amb/"),
    (r"(?P<d>[0-9]{2})\.(?P<m>[0-9]{2})\.(?P<y>[0-9]{4})", "dmy."),
)
_TIME = r"(?P<sep>T| )(?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?(?:\.(?P<frac>[0-9]{1,9}))?"
_ZONE = r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2}|[+-][0-9]{4})?"
_DATE_PATTERNS = {
    "ymd-": "yyyy-MM-dd",
    "ymd/": "yyyy/MM/dd",
    "dmy.": "dd.MM.yyyy",
    "dmy/": "dd/MM/yyyy",
    "mdy/": "MM/dd/yyyy",
}
_COMPILED = [
    (re.compile(f"^{date}{_TIME}{_ZONE}$"), re.compile(f"^{date}$"), shape) for date, shape in _DATES
]


@dataclass(frozen=True)
class Observed:
    """A value's kind and, for dates and times, the day/month fields and the fraction length."""

    kind: str
    first: int = 0  # the first two-digit part of an ``amb/`` date (day or month)
    second: int = 0
    fraction: int = 0  # digits after the seconds


def classify_number(text: str) -> Observed:
    """A JSON number by its literal text: ``integer``, ``decimal`` (a point, no exponent) or ``double``."""
    if "e" in text or "E" in text:
        return Observed("double")
    return Observed("decimal" if "." in text else "integer")


def decimal_digits(text: str) -> tuple[int, int]:
    """(integer digits, decimal places) of ``-12.50`` -> (2, 2); ``0.5`` -> (1, 1)."""
    whole, _, places = text.lstrip("+-").partition(".")
    return max(len(whole.lstrip("0")), 1), len(places)


def _zone_shape(zone: str | None) -> str:
    if not zone:
        return ""
    return "Z" if zone == "Z" or ":" in zone else "HHMM"


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _temporal(text: str) -> Observed | None:
    for full, date_only, shape in _COMPILED:
        match = full.match(text) or date_only.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        a, b = int(parts.get("a") or 0), int(parts.get("b") or 0)
        y = int(parts["y"])
        m, d = (int(parts["m"]), int(parts["d"])) if shape != "amb/" else (min(a, b), max(a, b))
        if not _valid_date(y, m, d) or (shape == "amb/" and min(a, b) > 12):
            return None
        if parts.get("sep") is None:
            return Observed(f"date {shape}", a, b)
        if int(parts["H"]) > 23 or int(parts["M"]) > 59 or int(parts.get("S") or 0) > 59:
            return None
        seconds = "s" if parts.get("S") else "m"
        kind = f"timestamp {shape}{parts['sep']}{seconds}{_zone_shape(parts.get('zone'))}"
        return Observed(kind, a, b, len(parts.get("frac") or ""))
    return None


def classify_text(text: str, *, csv: bool) -> Observed:
    """A text value: in CSV numbers and booleans are text; in JSON they stay strings (``numeric_string``)."""
    if text == "":
        return Observed("empty_string")
    numeric = _INT_RE.match(text) or _DECIMAL_RE.match(text) or _EXPONENT_RE.match(text)
    if numeric and not _LEADING_ZERO_RE.match(text):
        return classify_number(text) if csv else Observed("numeric_string")
    if csv and text.lower() in _BOOL_TEXTS:
        return Observed("boolean")
    return _temporal(text) or Observed("string")


def looks_like_email(text: str) -> bool:
    return bool(EMAIL_RE.match(text))


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    marked = text.startswith("+") or any(ch in text for ch in " -()")
    return marked and bool(PHONE_RE.match(text)) and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]


def integer_type(low: int, high: int) -> str:
    """``integer`` when every value fits 32 bits, ``long`` for 64, else ``decimal(38,0)``."""
    if low >= INT32_MIN and high <= INT32_MAX:
        return "integer"
    if low >= INT64_MIN and high <= INT64_MAX:
        return "long"
    return "decimal(38,0)"


def resolve_date_order(pairs: list[tuple[int, int]]) -> str | None:
    """``dmy/`` or ``mdy/`` for ``amb/`` dates: a first part over 12 is a day, a second one a day too.

    None when the values cannot tell (every part 12 or less) or contradict each other.
    """
    day_first = any(a > 12 for a, _ in pairs)
    month_first = any(b > 12 for _, b in pairs)
    if day_first == month_first:
        return None
    return "dmy/" if day_first else "mdy/"


def spark_pattern(shape: str, fraction: int, some_without_fraction: bool) -> str:
    """The Spark datetime pattern of a ``timestamp``/``date`` shape (``amb/`` resolved first).

    >>> spark_pattern("timestamp ymd-Ts-Z", 3, True)
    "yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX"
    """
    kind, _, layout = shape.partition(" ")
    date = _DATE_PATTERNS[layout[:4]]
    if kind == "date":
        return date
    sep, seconds, zone = layout[4], layout[5], layout[6:]
    pattern = date + ("'T'" if sep == "T" else " ") + "HH:mm" + (":ss" if seconds == "s" else "")
    if fraction:
        part = "." + "S" * fraction
        pattern += f"[{part}]" if some_without_fraction else part
    return pattern + {"": "", "Z": "XXX", "HHMM": "XX"}[zone]


def pattern_regex(shape: str) -> str:
    """A regex for string values of a date/time shape (for JSON fields kept as strings)."""
    kind, _, layout = shape.partition(" ")
    date = {
        "ymd-": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "ymd/": r"[0-9]{4}/[0-9]{2}/[0-9]{2}",
        "dmy.": r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}",
    }.get(layout[:4], r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
    if kind == "date":
        return f"^{date}$"
    sep, seconds, zone = layout[4], layout[5], layout[6:]
    time = f"{sep}[0-9]{{2}}:[0-9]{{2}}" + (":[0-9]{2}" if seconds == "s" else "") + r"(\.[0-9]{1,9})?"
    zones = {"": "", "Z": "(Z|[+-][0-9]{2}:[0-9]{2})", "HHMM": "(Z|[+-][0-9]{4})"}
    return f"^{date}{time}{zones[zone]}$"
