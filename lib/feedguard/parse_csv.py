"""Parse CSV records against a contract: a pure ``DataFrame -> DataFrame`` transform.

Each line is parsed as text fields with ``from_csv`` (PERMISSIVE, with the corrupt-record
column: a row with too few or too many fields is flagged), then every field is cast to its
contract type one by one, so a type error names the field and the value. The contract's quote
and escape are used; RFC 4180 doubled quotes need ``escape='"'`` (Spark's default is ``\\``).
The header line of each file is marked ``_header`` (the job checks it against the contract).
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from feedguard.checks import (
    cast_from_text,
    collect_errors,
    contract_checks,
    contract_may_violate,
    error,
    error_if,
    has_bad_chars,
    keep_when_flagged,
    preview,
    sql_name,
    with_errors_when_flagged,
    without_shadowed_missing,
)
from feedguard.contract import Contract
from feedguard.schema import CORRUPT_COLUMN, string_schema
from feedguard.sources import source_error


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


def _shape_error(contract: Contract) -> Column:
    expected = len(contract.fields)
    count = _field_count(contract)
    quotes = F.length("_line") - F.length(F.regexp_replace("_line", re.escape(contract.csv.quote), ""))
    return (
        F.when(quotes % 2 == 1, error("malformed_csv", None, "unbalanced quote"))
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


def csv_record_errors(contract: Contract) -> Column:
    """The error list of a flagged record (built only for those: see :func:`flag_csv_records`)."""
    encoding = error_if(
        has_bad_chars(F.col("_line")),
        "encoding_error",
        None,
        "the record contains bytes that are not valid UTF-8 (shown as U+FFFD) or NUL characters",
    )
    shape = F.when(F.col("_p").getField(CORRUPT_COLUMN).isNotNull(), _shape_error(contract))
    first = collect_errors([source_error(), encoding, shape])
    typed = {f.name: F.col(f.name) for f in contract.fields}
    rest = collect_errors([*_cast_errors(contract), *contract_checks(contract, typed)])
    return F.when(F.size(first) > 0, first).otherwise(without_shadowed_missing(rest))


SCRATCH = ("_line", "_p")


def _flagged(df: DataFrame, contract: Contract) -> DataFrame:
    first_line = (F.col("_block_start") == 0) & (F.col("_row_in_block") == 0)
    line = F.when(first_line, F.regexp_replace("_raw", "^\ufeff", "")).otherwise(F.col("_raw"))
    header = first_line if contract.csv.header else F.lit(False)
    parsed = df.select(
        *df.columns,
        line.alias("_line"),
        header.alias("_header"),
    ).select(
        "*",
        # A line over a cap (``_doc_error``) is not parsed: past its maxColumns the parser fails the job.
        F.when(
            F.col("_doc_error").isNull(),
            F.from_csv("_line", string_schema(contract).simpleString(), csv_options(contract)),
        ).alias("_p"),
    )
    typed = parsed.select(
        "*",
        *[
            cast_from_text(sql_name("_p", f.name), f, contract.timestamp_format).alias(f.name)
            for f in contract.fields
        ],
    )
    blank = F.length(F.trim("_line")) == 0
    skip = blank | F.col("_header")
    cast_failed: Column = F.lit(False)
    for spec in contract.fields:
        cast_failed = cast_failed | (F.col("_p").getField(spec.name).isNotNull() & F.col(spec.name).isNull())
    may_be_bad = (
        F.col("_doc_error").isNotNull()
        | has_bad_chars(F.col("_line"))
        | F.col("_p").getField(CORRUPT_COLUMN).isNotNull()
        | cast_failed
        | contract_may_violate(contract, {f.name: F.col(f.name) for f in contract.fields})
    )
    return typed.select("*", blank.alias("_blank"), (~skip & may_be_bad).alias("_maybe_bad"))


def _records(df: DataFrame, contract: Contract, tail: list[Column]) -> DataFrame:
    return _flagged(df, contract).select(*df.columns, "_blank", "_header", *contract.field_names, *tail)


def flag_csv_records(df: DataFrame, contract: Contract) -> DataFrame:
    """The cheap half of :func:`parse_csv_records` (see :func:`feedguard.parse_json.flag_json_records`)."""
    return _records(df, contract, [F.col("_maybe_bad"), *keep_when_flagged(SCRATCH)])


def parse_csv_records(df: DataFrame, contract: Contract) -> DataFrame:
    """Parse ``_raw`` as one CSV record per line and attach ``_errors``."""
    return _records(df, contract, with_errors_when_flagged(csv_record_errors(contract)))
