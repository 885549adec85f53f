"""Parse CSV records against a contract: a pure ``DataFrame -> DataFrame`` transform.

Each line is parsed as text fields with ``from_csv`` (PERMISSIVE, with the corrupt-record
column: a row with too few or too many fields is flagged), then every field is cast to its
contract type one by one, so a type error names the field and the value. The contract's quote
and escape are used; RFC 4180 doubled quotes need ``escape='"'`` (Spark's default is ``\\``).
The header line of each file is marked ``_header`` (the job checks it against the contract).
Quoting that breaks RFC 4180 is dead-lettered (:mod:`feedguard.parse.csv_quoting`), and so is a number that
does not fit its type exactly (:mod:`feedguard.parse.csv_exactness`). A line of spaces and tabs is blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.schema import CORRUPT_COLUMN, string_schema
from feedguard.ingest.sources import source_error
from feedguard.parse.checks import cast_from_text, contract_checks
from feedguard.parse.csv_exactness import csv_exactness_errors, csv_inexact, csv_rounded
from feedguard.parse.csv_quoting import quoting_error, quoting_is_bad
from feedguard.parse.errors import collect_errors, error, error_if, preview, sql_name, without_shadowed
from feedguard.parse.expression_cache import per_context
from feedguard.parse.flags import (
    BLANK_CHARS,
    ROUNDED_COLUMN,
    contract_may_violate,
    has_bad_chars,
    keep_when_flagged,
    not_only,
    with_errors_when_flagged,
)


def csv_options(contract: Contract) -> dict[str, str]:
    opts = contract.csv
    return {
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT_COLUMN,
        "sep": opts.delimiter,
        "quote": opts.quote,
        "escape": opts.escape,
    }


def _field_count(contract: Contract) -> Column:
    """Fields on the line, counting delimiters outside quoted sections."""
    quote = re.escape(contract.csv.quote)
    # Possessive, one loop per doubled quote: ``(?:[^"]|"")*`` recursed once per character in Java's
    # regex engine and a 10,000-character quoted field overflowed the task's stack (killing the JVM).
    inner = f"[^{quote}]*+"
    unquoted = F.regexp_replace("_line", f"{quote}{inner}(?:{quote}{quote}{inner})*+{quote}", "x")
    delimiter = re.escape(contract.csv.delimiter)
    return F.size(F.split(unquoted, delimiter))


def _quote_count(contract: Contract) -> Column:
    return F.length("_line") - F.length(F.regexp_replace("_line", re.escape(contract.csv.quote), ""))


def _shape_error(contract: Contract) -> Column:
    expected = len(contract.fields)
    count = _field_count(contract)
    return (
        F.when(_quote_count(contract) % 2 == 1, error("malformed_csv", None, "unbalanced quote"))
        .when(
            count > expected,
            error("extra_columns", None, F.format_string(f"%d fields, the contract has {expected}", count)),
        )
        .when(
            count < expected,
            error("missing_columns", None, F.format_string(f"%d fields, the contract has {expected}", count)),
        )
        .otherwise(error("malformed_csv", None, "the line could not be parsed as CSV"))
    )


def _cast_errors(contract: Contract) -> list[Column]:
    errors = []
    for spec in contract.fields:
        text = F.col("_p").getField(spec.name)
        typed = F.col(spec.name)
        detail = F.concat(F.lit(f"{spec.name} expected {spec.type}, got "), preview(text))
        errors.append(error_if(text.isNotNull() & typed.isNull(), "type_mismatch", spec.name, detail))
    return errors


@per_context
def csv_record_errors(contract: Contract) -> Column:
    """The error list of a flagged record (built only for those: see :func:`flag_csv_records`)."""
    encoding = error_if(
        has_bad_chars(F.col("_line")),
        "encoding_error",
        None,
        "the record contains bytes that are not valid UTF-8 (shown as U+FFFD) or NUL characters",
    )
    corrupt = F.col("_p").getField(CORRUPT_COLUMN).isNotNull()
    line = F.col("_line")
    # An odd number of quotes that broke the parse stays "unbalanced quote" (malformed_csv); otherwise a
    # quoting error explains a wrong field count better than the count does.
    unbalanced = corrupt & (_quote_count(contract) % 2 == 1)
    bad_quoting = quoting_is_bad(line, contract) & ~unbalanced
    quoting = F.when(bad_quoting, quoting_error(line, contract))
    shape = F.when(corrupt & ~bad_quoting, _shape_error(contract))
    first = collect_errors([source_error(), encoding, quoting, shape])
    typed = {f.name: F.col(f.name) for f in contract.fields}
    texts = {f.name: sql_name("_p", f.name) for f in contract.fields}
    rest = collect_errors(
        [
            *_cast_errors(contract),
            *csv_exactness_errors(contract, texts, typed),
            *contract_checks(contract, typed),
        ]
    )
    return F.when(F.size(first) > 0, first).otherwise(without_shadowed(rest))


SCRATCH = ("_line", "_p")


@dataclass(frozen=True)
class _FlagColumns:
    """The expressions of the CSV flag (by column name only, so built once per contract)."""

    line: Column
    header: Column
    parsed: Column
    typed: list[Column]
    blank: Column
    may_be_bad: Column
    rounded: Column


@per_context
def _flag_columns(contract: Contract) -> _FlagColumns:
    first_line = (F.col("_block_start") == 0) & (F.col("_row_in_block") == 0)
    blank_chars = BLANK_CHARS.replace(contract.csv.delimiter, "")  # a line of tabs is fields in a TSV
    blank = ~F.col("_line").rlike(not_only(blank_chars))
    skip = blank | F.col("_header")
    texts = {f.name: F.col("_p").getField(f.name) for f in contract.fields}
    typed_values = {f.name: F.col(f.name) for f in contract.fields}
    cast_failed: Column = F.lit(False)
    for spec in contract.fields:
        cast_failed = cast_failed | (texts[spec.name].isNotNull() & typed_values[spec.name].isNull())
    may_be_bad = (
        F.col("_doc_error").isNotNull()
        | has_bad_chars(F.col("_line"))
        | F.col("_p").getField(CORRUPT_COLUMN).isNotNull()
        | cast_failed
        | csv_inexact(contract, texts, typed_values)
        | quoting_is_bad(F.col("_line"), contract)
        | contract_may_violate(contract, typed_values)
    )
    text_sql = {f.name: sql_name("_p", f.name) for f in contract.fields}
    return _FlagColumns(
        line=F.when(first_line, F.regexp_replace("_raw", "^\ufeff", ""))
        .otherwise(F.col("_raw"))
        .alias("_line"),
        header=(first_line if contract.csv.header else F.lit(False)).alias("_header"),
        # A line over a cap (``_doc_error``) is not parsed: past its maxColumns the parser fails the job.
        parsed=F.when(
            F.col("_doc_error").isNull(),
            F.from_csv("_line", string_schema(contract).simpleString(), csv_options(contract)),
        ).alias("_p"),
        typed=[
            cast_from_text(sql_name("_p", f.name), f, contract.timestamp_format).alias(f.name)
            for f in contract.fields
        ],
        blank=blank.alias("_blank"),
        may_be_bad=(~skip & may_be_bad).alias("_maybe_bad"),
        rounded=F.when(~skip, csv_rounded(contract, text_sql, typed_values))
        .otherwise(0)
        .alias(ROUNDED_COLUMN),
    )


def _flagged(df: DataFrame, contract: Contract) -> DataFrame:
    columns = _flag_columns(contract)
    parsed = df.select(*df.columns, columns.line, columns.header).select("*", columns.parsed)
    typed = parsed.select("*", *columns.typed)
    return typed.select("*", columns.blank, columns.may_be_bad, columns.rounded)


def _records(df: DataFrame, contract: Contract, tail: list[Column]) -> DataFrame:
    columns = [*df.columns, "_blank", "_header", *contract.field_names, ROUNDED_COLUMN]
    return _flagged(df, contract).select(*columns, *tail)


def flag_csv_records(df: DataFrame, contract: Contract) -> DataFrame:
    """The cheap half of :func:`parse_csv_records` (see :func:`.json_records.flag_json_records`)."""
    return _records(df, contract, [F.col("_maybe_bad"), *keep_when_flagged(SCRATCH)])


def parse_csv_records(df: DataFrame, contract: Contract) -> DataFrame:
    """Parse ``_raw`` as one CSV record per line and attach ``_errors``."""
    return _records(df, contract, with_errors_when_flagged(csv_record_errors(contract)))
