"""Contract fields from a profiled sample: names, types, nesting, required, suggestions; pure Python.

Names are never merged: JSON keys that differ only in case keep the most frequent spelling as
the field (the others are reported: their records will be dead-lettered), JSON keys that cannot be
field names are reported and left out, CSV headers that are not identifiers get a valid name and
keep their text as ``source_name``. Suggestions (allowed values, min/max, regex, unique) are review
notes, written as comments, never constraints.

Example::

    fields = infer_fields(profile_json(records))
    fields.specs[0].type   # 'string'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from feedguard.contracts.contract import FIELD_NAME_RE, FieldSpec
from feedguard.contracts.field_names import field_name_for
from feedguard.contracts.infer_profile import FieldProfile, SampleProfile
from feedguard.contracts.infer_types import Choice, Issue, choose_type, evidence, family, temporal_pattern

MIN_VALUES_FOR_SUGGESTION = 10  # fewer non-null values suggest nothing
MAX_ALLOWED_VALUES = 10  # a text field with at most this many distinct values suggests allowed_values
PII_SHARE = 0.9  # share of values that must look like an e-mail address or phone number
NEARLY_REQUIRED_SHARE = 0.05  # missing in at most this share of records: maybe faults, say so
_DIGITS_RE = re.compile(r"[0-9]+")
_REGEX_SPECIALS = set("\\.^$*+?{}[]|()")


@dataclass
class InferredFields:
    """The fields, the review notes per field path (YAML comments), the issues, the timestamp format."""

    specs: tuple[FieldSpec, ...] = ()
    notes: dict[str, list[str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    timestamp_format: str | None = None


def _yaml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _shape_regex(values: set[str]) -> str | None:
    """``^QB-[0-9]{8}$`` when every value has the same text and the same digit-run lengths."""
    shapes = {_shape(v) for v in values}
    if len(shapes) != 1:
        return None
    shape = shapes.pop()
    return shape if "[0-9]" in shape and len(values) > 1 else None


def _shape(value: str) -> str:
    parts = _split_digits(value)
    return (
        "^" + "".join(_escape(p) if i % 2 == 0 else f"[0-9]{{{len(p)}}}" for i, p in enumerate(parts)) + "$"
    )


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _REGEX_SPECIALS else ch for ch in text)


def _split_digits(value: str) -> list[str]:
    """Alternating text and digit runs: ``QB-0012`` -> ['QB-', '0012', '']."""
    parts, last = [], 0
    for match in _DIGITS_RE.finditer(value):
        parts += [value[last : match.start()], match.group()]
        last = match.end()
    return [*parts, value[last:]]


def _number_text(value: object) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Walk:
    def __init__(self, fmt: str, timestamp_format: str | None) -> None:
        self.fmt = fmt
        self.timestamp_format = timestamp_format
        self.result = InferredFields(timestamp_format=timestamp_format)

    def note(self, path: str, text: str) -> None:
        self.result.notes.setdefault(path, []).append(text)

    def spec(self, name: str, profile: FieldProfile, path: str, parents: int, top: bool) -> FieldSpec:
        choice = choose_type(profile, path, fmt=self.fmt, timestamp_format=self.timestamp_format)
        self.result.issues.extend(choice.issues)
        for text in choice.notes:
            self.note(path, text)
        update: dict[str, object] = {}
        if choice.type == "object":
            children = self.children(profile.children, path, profile.objects)
            update = {"type": "struct", "fields": children} if children else {"type": "string"}
        elif choice.type == "array":
            update = {"type": "array", "items": self.items(profile, path)}
        else:
            update = {"type": choice.type, "format": choice.format}
        required = parents > 0 and profile.non_null == parents
        if choice.type == "array" and profile.empty_arrays:
            required = False  # the job dead-letters an empty required array as missing
            self.note(path, f"optional: {profile.empty_arrays} of {profile.arrays} arrays are empty")
        update["required"] = required
        update["pii"] = self.pii(profile, path, choice)
        self.suggest(profile, path, parents, required, choice, top, bool(update["pii"]))
        return FieldSpec.model_validate({"name": name, **update})

    def items(self, profile: FieldProfile, path: str) -> FieldSpec:
        item = profile.item
        if item is None or item.non_null == 0:
            self.result.issues.append(
                Issue(
                    "unknown_element_type",
                    path,
                    "every array in the sample was empty or held only nulls",
                    evidence(profile, ["array"]),
                    "items typed as string: review with a sample that has elements",
                )
            )
            return FieldSpec(name="item", type="string")
        spec = self.spec("item", item, f"{path}[]", 0, False)
        return spec.model_copy(update={"required": False})

    def pii(self, profile: FieldProfile, path: str, choice: Choice) -> bool:
        texts = profile.kinds["string"]
        if choice.type != "string" or not texts:
            return False
        for count, what in ((profile.emails, "e-mail addresses"), (profile.phones, "phone numbers")):
            if count >= PII_SHARE * texts:
                self.note(path, f"review pii: {count} of {texts} values look like {what}")
                return True
        return False

    def suggest(
        self, p: FieldProfile, path: str, parents: int, required: bool, choice: Choice, top: bool, pii: bool
    ) -> None:
        """Review notes: allowed values, observed range, shape, uniqueness, nearly required."""
        missing = parents - p.non_null
        if parents and 0 < missing <= NEARLY_REQUIRED_SHARE * parents:
            self.note(path, f"required: true  # missing or null in {missing} of {parents} records")
        if p.non_null < MIN_VALUES_FOR_SUGGESTION or choice.type in ("object", "array"):
            return
        if choice.type in ("integer", "long", "double") or choice.type.startswith("decimal"):
            self.note(path, f"min: {_number_text(p.low)}  # observed minimum")
            self.note(path, f"max: {_number_text(p.high)}  # observed maximum")
        distinct = len(p.distinct)
        if (
            top
            and required
            and not p.distinct_overflow
            and distinct == p.non_null
            and choice.type in ("string", "integer", "long")
        ):
            self.note(path, f"unique: true  # all {distinct} values distinct in the sample")
        if choice.type != "string" or pii or p.distinct_overflow:
            return
        if distinct <= MAX_ALLOWED_VALUES and distinct * 2 <= p.non_null:
            values = _yaml_value(sorted(p.distinct))
            self.note(path, f"allowed_values: {values}  # {distinct} distinct values in {p.non_null}")
        elif (regex := _shape_regex(p.distinct)) is not None:
            self.note(path, f"regex: {_yaml_value(regex)}  # every value has this shape")

    def children(self, profiles: dict[str, FieldProfile], path: str, parents: int) -> tuple[FieldSpec, ...]:
        """JSON object keys: case-only variants and keys that cannot be names are reported, not merged."""
        by_lower: dict[str, list[FieldProfile]] = {}
        for profile in profiles.values():
            by_lower.setdefault(profile.name.lower(), []).append(profile)
        specs = []
        for profile in profiles.values():
            group = by_lower[profile.name.lower()]
            kept = max(group, key=lambda p: p.present)
            child_path = f"{path}.{profile.name}" if path else profile.name
            if profile is not kept:
                self._case_issue(child_path, profile, kept)
            elif not FIELD_NAME_RE.match(profile.name):
                self._key_issue(child_path, profile)
            else:
                specs.append(self.spec(profile.name, profile, child_path, parents, not path))
        return tuple(specs)

    def _case_issue(self, path: str, profile: FieldProfile, kept: FieldProfile) -> None:
        self.result.issues.append(
            Issue(
                "case_only_keys",
                path,
                f"key {profile.name!r} differs from {kept.name!r} only in case ({profile.present} vs "
                f"{kept.present} records)",
                evidence(profile),
                f"not merged: the field is {kept.name!r}; the {profile.present} record(s) spelling it "
                f"{profile.name!r} will be dead-lettered as field_case_mismatch: ask the partner for one "
                "spelling",
            )
        )

    def _key_issue(self, path: str, profile: FieldProfile) -> None:
        proposed = field_name_for(profile.name, 1)
        self.result.issues.append(
            Issue(
                "not_an_identifier",
                path,
                f"key {profile.name!r} is not a valid field name",
                evidence(profile),
                f"left out (JSON keys must equal field names): the {profile.present} record(s) carrying it "
                f"will be dead-lettered as unexpected_field until the partner delivers it as {proposed!r}",
            )
        )

    def columns(self, profile: SampleProfile) -> tuple[FieldSpec, ...]:
        """CSV columns by position: a header that is not an identifier keeps its text as source_name."""
        taken: set[str] = set()
        specs = []
        for position, column in enumerate(profile.root.children.values(), start=1):
            name = field_name_for(column.name, position)
            base, n = name, 1
            while name.lower() in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name.lower())
            spec = self.spec(name, column, name, profile.root.objects, True)
            if name != column.name:
                spec = spec.model_copy(update={"source_name": column.name})
                self._header_issue(name, column.name, base != name)
            specs.append(spec)
        return tuple(specs)

    def _header_issue(self, name: str, header: str, clash: bool) -> None:
        kind = "case_only_keys" if clash else "not_an_identifier"
        detail = (
            f"header {header!r} repeats another column's name (or differs from it only in case)"
            if clash
            else f"header {header!r} is not a valid field name"
        )
        self.result.issues.append(
            Issue(
                kind,
                name,
                detail,
                (f"CSV header cell {header!r}",),
                f"not merged: field {name!r} reads this column (source_name: {header!r}); rename it if you "
                "prefer",
            )
        )


def json_timestamp_format(profile: FieldProfile) -> str | None:
    """The pattern most timestamp fields of a JSON sample share (one timestamp_format per contract)."""
    found: dict[str, int] = {}

    def walk(p: FieldProfile) -> None:
        families = {family(k) for k in p.kinds}
        pattern = temporal_pattern(p) if "timestamp" in families else None
        if pattern is not None and pattern[0].startswith("timestamp"):
            found[pattern[1]] = found.get(pattern[1], 0) + 1
        for child in p.children.values():
            walk(child)
        if p.item is not None:
            walk(p.item)

    walk(profile)
    return max(found, key=lambda k: found[k]) if found else None


def infer_fields(profile: SampleProfile) -> InferredFields:
    """Every field of the sample, with notes and issues (see the module docstring)."""
    if profile.format == "csv":
        walk = _Walk("csv", None)
        walk.result.specs = walk.columns(profile)
        return walk.result
    walk = _Walk("json", json_timestamp_format(profile.root))
    walk.result.specs = walk.children(profile.root.children, "", profile.root.objects)
    return walk.result
