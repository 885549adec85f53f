"""The options a contract carries besides its fields: the owner, the CSV dialect, the alert thresholds and
the caps on hostile input (each cap defaults to :mod:`feedguard.ingest.limits`).

Example::

    Limits(max_decompressed_bytes=2 << 20)  # a contract's ``limits:`` section, validated
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from feedguard.ingest.limits import (
    MAX_COMPRESSION_RATIO,
    MAX_CSV_COLUMNS,
    MAX_DECOMPRESSED_BYTES,
    MAX_NESTING_DEPTH,
    MAX_RECORD_BYTES,
)


class StrictModel(BaseModel):
    """A contract part: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(StrictModel):
    name: str
    email: str
    slack_channel: str | None = None


class CsvOptions(StrictModel):
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: Literal["utf-8", "us-ascii"] = "utf-8"
    header: bool = True
    # Read quotes the way Spark does (a quote inside an unquoted field, text after a closing quote: kept
    # in the value) instead of dead-lettering such a field as ``malformed_quoting`` (RFC 4180).
    lenient_quotes: bool = False

    @field_validator("delimiter", "quote", "escape")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("must be exactly one character")
        return value


class Thresholds(StrictModel):
    """Ratios (0..1) used to classify files and to raise alerts."""

    warning_ratio: float = Field(0.01, ge=0, le=1)
    intermittent_max_ratio: float = Field(0.2, ge=0, le=1)
    signature_share: float = Field(0.8, ge=0, le=1)
    min_records_for_structural: int = Field(5, ge=1)


class Limits(StrictModel):
    """Caps on hostile input (see :mod:`feedguard.ingest.limits`); each may be overridden per contract."""

    max_decompressed_bytes: int = Field(MAX_DECOMPRESSED_BYTES, ge=1)
    max_compression_ratio: float = Field(MAX_COMPRESSION_RATIO, gt=1)
    max_record_bytes: int = Field(MAX_RECORD_BYTES, ge=1, le=(1 << 31) - 1)
    max_csv_columns: int = Field(MAX_CSV_COLUMNS, ge=1, le=MAX_CSV_COLUMNS)
    max_nesting_depth: int = Field(MAX_NESTING_DEPTH, ge=1, le=MAX_NESTING_DEPTH)
