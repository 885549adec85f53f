"""The type of one profiled field, as a careful engineer would choose it: pure Python, no Spark.

Money-like numbers with at most :data:`MAX_DECIMAL_SCALE` places are ``decimal(p,s)``, not
``double``; whole numbers stay ``integer`` (``long`` past 32 bits); dates and times are recognised
with their Spark pattern; values of several types are never merged silently: a few outliers leave
the dominant type (they will be dead-lettered, and the :class:`Issue` says which), otherwise the
field is ``string`` and the issue asks for a decision.

Example::

    choose_type(profile, "price", fmt="csv", timestamp_format=None).type   # 'decimal(10,2)'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from feedguard.contracts.infer_profile import NUMERIC_KINDS, FieldProfile
from feedguard.contracts.infer_values import integer_type, pattern_regex, resolve_date_order, spark_pattern

MAX_DECIMAL_SCALE = 4  # more decimal places than this is a measurement, not money: double
MIN_DECIMAL_SCALE = 2  # 12.5 in a sample is still a price with cents
DEFAULT_DECIMAL_PRECISION = 10
PRECISION_HEADROOM = 2  # integer digits added to the largest value seen
MAX_DECIMAL_PRECISION = 38
OUTLIER_SHARE = 0.1  # values of another type up to this share leave the dominant type
JSON_DATE_SHAPE = "date ymd-"  # the only date layout the JSON parser reads (Spark's default dateFormat)


@dataclass(frozen=True)
class Issue:
    """Something a human must decide, with the evidence and what the inferred contract does about it."""

    kind: str
    field: str
    detail: str
    evidence: tuple[str, ...]
    resolution: str


@dataclass(frozen=True)
class Choice:
    """A field's type, its pattern (CSV dates and times), and review notes."""

    type: str
    format: str | None = None
    notes: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()


@dataclass
class _Families:
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def family(kind: str) -> str:
    """``number``, ``boolean``, ``timestamp``, ``date``, ``text``, ``object`` or ``array``."""
    if kind in NUMERIC_KINDS:
        return "number"
    if kind.startswith(("timestamp", "date")):
        return kind.split(" ", 1)[0]
    if kind in ("string", "numeric_string", "empty_string"):
        return "text"
    return kind


def evidence(profile: FieldProfile, kinds: list[str] | None = None) -> tuple[str, ...]:
    """``3 integer values, e.g. '12' (a.csv:2, a.csv:5)`` per kind."""
    lines = []
    for kind, count in profile.kinds.most_common():
        if kinds is None or kind in kinds:
            where = ", ".join(str(loc) for loc in profile.examples.get(kind, []))
            lines.append(f"{count} {kind} value(s), e.g. {profile.values.get(kind, '')!r} ({where})")
    return tuple(lines)


def _families(profile: FieldProfile) -> _Families:
    found = _Families()
    for kind, count in profile.kinds.items():
        found.counts[family(kind)] += count
    return found


def _mixed_issue(path: str, profile: FieldProfile, chosen: str, outliers: int) -> Issue:
    kinds = ", ".join(sorted(profile.kinds))
    if chosen == "string":
        resolution = "typed as string, which holds every value: agree one type with the partner"
    else:
        resolution = (
            f"typed as {chosen} (the dominant type): the {outliers} other value(s) will be dead-lettered "
            "as type_mismatch; correct them at the source, or make the field string"
        )
    return Issue("mixed_types", path, f"values of several types: {kinds}", evidence(profile), resolution)


def choose_type(profile: FieldProfile, path: str, *, fmt: str, timestamp_format: str | None) -> Choice:
    """The type of a scalar field (``object``/``array`` are left to the caller: see infer_fields)."""
    families = _families(profile)
    if not families.total:
        note = "always null or missing in the sample: the type is unknown, string chosen"
        return Choice("string", notes=(note,))
    dominant, count = families.counts.most_common(1)[0]
    issues: tuple[Issue, ...] = ()
    if len(families.counts) > 1:
        outliers = families.total - count
        if dominant == "text" or outliers > OUTLIER_SHARE * families.total:
            return Choice("string", issues=(_mixed_issue(path, profile, "string", outliers),))
        issues = (_mixed_issue(path, profile, dominant, outliers),)
    if dominant in ("object", "array"):
        return Choice(dominant, issues=issues)
    choice = _by_family(dominant, profile, path, fmt, timestamp_format)
    return Choice(choice.type, choice.format, choice.notes, issues + choice.issues)


def _by_family(
    dominant: str, profile: FieldProfile, path: str, fmt: str, timestamp_format: str | None
) -> Choice:
    if dominant == "number":
        return number_type(profile, path)
    if dominant == "boolean":
        return Choice("boolean")
    if dominant in ("timestamp", "date"):
        return temporal_type(profile, path, fmt, timestamp_format)
    if profile.kinds["numeric_string"] * 2 > profile.non_null:
        issue = Issue(
            "numbers_as_strings",
            path,
            "numbers delivered as JSON strings",
            evidence(profile, ["numeric_string"]),
            'kept as string (the JSON parser does not read "12.5" as a number): ask the partner for JSON '
            "numbers, or cast downstream",
        )
        return Choice("string", issues=(issue,))
    return Choice("string")


def number_type(profile: FieldProfile, path: str) -> Choice:
    """``integer``/``long`` for whole numbers, ``decimal(p,s)`` for money-like ones, else ``double``."""
    kinds = profile.kinds
    numbers = sum(kinds[k] for k in NUMERIC_KINDS)
    low, high = profile.low, profile.high
    if kinds["double"]:
        return Choice("double", notes=("numbers in exponent notation: double (not exact)",))
    if not kinds["decimal"]:
        assert low is not None and high is not None
        return Choice(integer_type(int(low), int(high)))
    over = sum(n for places, n in profile.places.items() if places > MAX_DECIMAL_SCALE)
    if over > OUTLIER_SHARE * numbers:
        note = f"{over} value(s) with more than {MAX_DECIMAL_SCALE} decimal places: double (not exact)"
        return Choice("double", notes=(note,))
    scale = max([MIN_DECIMAL_SCALE, *(p for p in profile.places if p <= MAX_DECIMAL_SCALE)])
    digits = profile.integer_digits + scale + PRECISION_HEADROOM
    precision = min(MAX_DECIMAL_PRECISION, max(DEFAULT_DECIMAL_PRECISION, digits))
    chosen = f"decimal({precision},{scale})"
    if not over:
        return Choice(chosen)
    issue = Issue(
        "inexact_decimals",
        path,
        f"{over} value(s) with more than {MAX_DECIMAL_SCALE} decimal places (float noise such as "
        "25.650000000000002?)",
        evidence(profile, ["decimal"]),
        f"typed as {chosen}: those values will be dead-lettered as type_mismatch unless the field gets "
        "`rounding: half_up`",
    )
    return Choice(chosen, issues=(issue,))


def _shapes(profile: FieldProfile) -> list[str]:
    """The date/time shapes seen, with an ambiguous day/month order resolved where the values tell."""
    order = resolve_date_order(profile.date_pairs)
    shapes = []
    for kind in profile.kinds:
        if kind.startswith(("timestamp", "date")):
            shapes.append(kind.replace("amb/", order) if order else kind)
    return sorted(set(shapes))


def temporal_pattern(profile: FieldProfile) -> tuple[str, str] | None:
    """(shape, Spark pattern) when every date/time value has one shape, else None."""
    shapes = _shapes(profile)
    if len(shapes) != 1 or "amb/" in shapes[0]:
        return None
    return shapes[0], spark_pattern(shapes[0], profile.fraction, profile.without_fraction > 0)


def temporal_type(profile: FieldProfile, path: str, fmt: str, timestamp_format: str | None) -> Choice:
    """``timestamp``/``date`` with the pattern written into the contract, or string with an issue."""
    kinds = [k for k in profile.kinds if family(k) in ("timestamp", "date")]
    found = temporal_pattern(profile)
    if found is None:
        shapes = _shapes(profile)
        ambiguous = any("amb/" in s for s in shapes)
        detail = (
            "day and month cannot be told apart (no part above 12)"
            if ambiguous
            else (f"dates or times in {len(shapes)} formats")
        )
        issue = Issue(
            "mixed_formats",
            path,
            detail,
            evidence(profile, kinds),
            "kept as string: agree one format with the partner (then type it as a timestamp)",
        )
        return Choice("string", issues=(issue,))
    shape, pattern = found
    example = profile.values.get(kinds[0], "")
    notes = [
        f"format {pattern!r} recognised in {sum(profile.kinds[k] for k in kinds)} values like {example!r}"
    ]
    if shape.startswith("timestamp") and shape.endswith(("s", "m")):
        notes.append("the values carry no time zone: they are read in the Spark session time zone (UTC?)")
    if fmt == "csv":
        return Choice(shape.split(" ")[0], pattern, tuple(notes))
    if shape.startswith("date"):
        if shape == JSON_DATE_SHAPE:
            return Choice("date", notes=tuple(notes))
        reason = "the JSON parser reads dates as yyyy-MM-dd only"
    elif pattern == timestamp_format:
        return Choice("timestamp", notes=tuple(notes))
    else:
        reason = f"a JSON contract reads every timestamp with one timestamp_format ({timestamp_format!r})"
    issue = Issue(
        "unsupported_format",
        path,
        f"format {pattern!r}: {reason}",
        evidence(profile, kinds),
        f"kept as string (suggested regex {pattern_regex(shape)!r}); convert downstream",
    )
    return Choice("string", issues=(issue,))
