"""Versioned data contracts: the YAML files under ``contracts/<source>/<dataset>.v<N>.yaml``.

A contract states who owns a dataset, which version applies from which date, the file format
and its options, and every field with its type and constraints. :func:`load_contract`
validates a file and names the file and the field when it is wrong.

Example::

    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    contract.field_names  # ('order_id', 'customer_id', ...)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from feedguard.contracts.contract_options import CsvOptions, Limits, Owner, StrictModel, Thresholds
from feedguard.errors import ContractError

PRIMITIVE_TYPES = ("string", "integer", "long", "double", "boolean", "date", "timestamp")
DECIMAL_RE = re.compile(r"^decimal\((\d{1,2}),\s*(\d{1,2})\)$")
MAX_DECIMAL_PRECISION = 38
FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTRACT_FILE_RE = re.compile(r"^(?P<dataset>[a-z0-9_]+)\.v(?P<version>\d+)\.ya?ml$")

Compatibility = Literal["BACKWARD", "FORWARD", "FULL", "NONE"]
# Text encodings a contract may declare (``utf-16``/``utf-32``: the byte-order mark decides, else
# big-endian); the reader decodes them exactly and keeps the original bytes of every dead letter.
Encoding = Literal[
    "utf-8",
    "us-ascii",
    "iso-8859-1",
    "windows-1252",
    "utf-16",
    "utf-16le",
    "utf-16be",
    "utf-32",
    "utf-32le",
    "utf-32be",
]


class FieldSpec(StrictModel):
    name: str
    # The CSV header text when it is not a valid field name (``customer phone``): the header check
    # expects it in place of ``name``. JSON keys must equal field names (no mapping).
    source_name: str | None = None
    type: str
    required: bool = False
    description: str | None = None
    min: float | None = None
    max: float | None = None
    allowed_values: tuple[str, ...] | None = None
    regex: str | None = None
    unique: bool = False
    pii: bool = False
    format: str | None = None
    fields: tuple[FieldSpec, ...] | None = None
    items: FieldSpec | None = None
    severity: Literal["critical", "warning"] = "critical"
    # Exactness (decimal fields): a value with more decimal places than the scale is a ``type_mismatch``
    # unless ``rounding`` names the mode it may be rounded with (each rounded value is counted); an
    # exponent (``1e1``) is one unless ``allow_exponent``.
    rounding: Literal["half_up"] | None = None
    allow_exponent: bool = False

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not FIELD_NAME_RE.match(value):
            raise ValueError(f"field name {value!r} must match {FIELD_NAME_RE.pattern}")
        return value

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _check_type(self) -> FieldSpec:
        kind = self.type
        if kind == "struct":
            if not self.fields:
                raise ValueError(f"field {self.name!r}: a struct needs 'fields'")
        elif kind == "array":
            if self.items is None:
                raise ValueError(f"field {self.name!r}: an array needs 'items'")
        elif kind not in PRIMITIVE_TYPES and not DECIMAL_RE.match(kind):
            raise ValueError(
                f"field {self.name!r}: unknown type {kind!r} "
                f"(use one of {', '.join(PRIMITIVE_TYPES)}, decimal(p,s), struct, array)"
            )
        if (self.min is not None or self.max is not None) and not self.is_numeric:
            raise ValueError(f"field {self.name!r}: min/max only apply to numeric types")
        if (self.rounding is not None or self.allow_exponent) and not DECIMAL_RE.match(kind):
            raise ValueError(f"field {self.name!r}: rounding/allow_exponent only apply to decimal(p,s)")
        decimal = DECIMAL_RE.match(kind)
        if decimal and not 0 <= int(decimal[2]) <= int(decimal[1]) <= MAX_DECIMAL_PRECISION:
            raise ValueError(f"field {self.name!r}: {kind} needs s <= p <= {MAX_DECIMAL_PRECISION}")
        if decimal and int(decimal[1]) == 0:
            raise ValueError(f"field {self.name!r}: {kind} needs a precision of at least 1")
        return self

    @property
    def delivered_name(self) -> str:
        """The name the producer delivers (the CSV header text)."""
        return self.name if self.source_name is None else self.source_name

    @property
    def is_numeric(self) -> bool:
        return self.type in ("integer", "long", "double") or bool(DECIMAL_RE.match(self.type))


class Contract(StrictModel):
    source: str
    dataset: str
    version: int = Field(ge=1)
    effective_from: dt.date
    effective_to: dt.date | None = None
    owner: Owner
    description: str = ""
    delivery: str = ""
    format: Literal["json", "csv"]
    csv: CsvOptions = CsvOptions()
    timestamp_format: str | None = None
    version_field: str | None = None
    compatibility: Compatibility = "BACKWARD"
    # Load a drifted file at once under the proposed next version when that change keeps the
    # compatibility mode above (an added optional field, say); a breaking change never is.
    auto_accept_compatible: bool = False
    thresholds: Thresholds = Thresholds()
    encoding: Encoding = "utf-8"
    limits: Limits = Limits()
    fields: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> Contract:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate field names: {', '.join(dupes)}")
        lowered = [n.lower() for n in names]
        if len(set(lowered)) != len(lowered):
            raise ValueError("field names must differ in more than case")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        if self.format == "csv" and any(f.type in ("struct", "array") for f in self.fields):
            raise ValueError("a CSV contract cannot have struct or array fields")
        if self.format != "csv" and any(f.source_name is not None for f in _walk(self.fields)):
            raise ValueError("source_name maps CSV header names only; JSON keys must equal field names")
        if self.version_field is not None and self.version_field not in names:
            raise ValueError(f"version_field {self.version_field!r} is not a field")
        return self

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.unique)

    @property
    def pii_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.pii)

    @property
    def key(self) -> str:
        return f"{self.source}/{self.dataset}"

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def is_effective_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


def _walk(specs: tuple[FieldSpec, ...]) -> Iterator[FieldSpec]:
    """Every field spec, nested struct fields and array items included."""
    for spec in specs:
        yield spec
        yield from _walk(spec.fields or ())
        yield from _walk((spec.items,) if spec.items is not None else ())


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = [f"invalid contract {path}:"]
    for err in exc.errors():
        location = ".".join(_describe_loc(err["loc"], exc))
        lines.append(f"  field '{location or '<root>'}': {err['msg']}")
    return "\n".join(lines)


def _describe_loc(loc: tuple[Any, ...], _exc: ValidationError) -> list[str]:
    return [str(part) for part in loc]


def parse_contract(data: Any, path: Path) -> Contract:
    """Validate an already-loaded mapping as a contract; errors name ``path`` and the field."""
    if not isinstance(data, dict):
        raise ContractError(f"invalid contract {path}: expected a mapping at the top level")
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(_format_validation_error(path, exc)) from None
    match = CONTRACT_FILE_RE.match(path.name)
    if match and (match["dataset"] != contract.dataset or int(match["version"]) != contract.version):
        raise ContractError(
            f"invalid contract {path}: file name says {match['dataset']} v{match['version']} "
            f"but the file declares {contract.dataset} v{contract.version}"
        )
    return contract


def load_contract(path: str | Path) -> Contract:
    """Load and validate one contract file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"contract file not found: {path}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"invalid contract {path}: not valid YAML: {exc}") from None
    return parse_contract(data, path)


def contract_to_yaml(contract: Contract) -> str:
    """Serialise a contract back to reviewable YAML (fields in declaration order)."""
    data = contract.model_dump(mode="json", exclude_defaults=True)
    data = {"source": contract.source, "dataset": contract.dataset, "version": contract.version, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
