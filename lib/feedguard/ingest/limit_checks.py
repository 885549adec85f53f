"""Record-level caps of :mod:`feedguard.ingest.limits` as Spark Column expressions.

The readers put a record's cap error in ``_doc_error`` as ``type: detail`` (see
:func:`feedguard.ingest.sources.source_error`); the parsers dead-letter such a record with that type and
do not parse it. Every check is guarded by a byte-length test that costs nothing on ordinary records.
"""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.contract_options import Limits


def _outside_quotes(text: Column, quote: str) -> Column:
    """The text outside quoted sections: split on the quote, keep the even pieces (a doubled quote
    inside a quoted section adds an empty piece and keeps the parity). No regex with a repeated group:
    Java's engine recurses once per repetition and overflows the stack on a long field."""
    pieces = F.split(text, re.escape(quote))
    return F.array_join(F.filter(pieces, lambda _, i: i % 2 == 0), "")


def _occurrences(text: Column, char: str) -> Column:
    return F.octet_length(text) - F.octet_length(F.regexp_replace(text, re.escape(char), ""))


def csv_field_count(line: Column, delimiter: str, quote: str) -> Column:
    """Fields on a CSV line: delimiters outside quoted sections, plus one."""
    return _occurrences(_outside_quotes(line, quote), delimiter) + 1


def record_limit_error(size: Column, text: Column, contract: Contract | None) -> Column:
    """``record_too_large: ...`` or ``too_many_columns: ...`` for a record over a cap, else NULL.

    ``size`` is the record's length in input bytes, ``text`` its decoded text.
    """
    limits = contract.limits if contract is not None else Limits()
    too_large = F.when(
        size > limits.max_record_bytes,
        F.concat(
            F.lit("record_too_large: the record is "),
            size.cast("string"),
            F.lit(
                f" bytes, above the cap of {limits.max_record_bytes} bytes (limits.max_record_bytes); "
                "it is not parsed, its raw bytes are kept in full"
            ),
        ),
    )
    if contract is None or contract.format != "csv":
        return too_large
    cap = limits.max_csv_columns
    fields = csv_field_count(text, contract.csv.delimiter, contract.csv.quote)
    # More than ``cap`` fields need at least ``cap`` delimiters: shorter lines are never counted (the
    # count sits in a branch, so Spark cannot hoist it out as a common subexpression of every row).
    too_many = F.when(
        size >= cap,
        F.when(
            fields > cap,
            F.concat(
                F.lit("too_many_columns: "),
                fields.cast("string"),
                F.lit(f" fields, above the cap of {cap} (limits.max_csv_columns); the line is not parsed"),
            ),
        ),
    )
    return F.coalesce(too_large, too_many)


def json_nesting_depth(text: Column) -> Column:
    """How deep brackets nest in a JSON text, strings ignored (for records Spark's parser refused)."""
    unescaped = F.regexp_replace(F.regexp_replace(text, r"\\\\", ""), r'\\"', "")
    brackets = F.regexp_replace(_outside_quotes(unescaped, '"'), r"[^\[\]{}]", "")
    steps = F.transform(F.split(brackets, ""), lambda c: F.when(c.isin("[", "{"), 1).otherwise(-1))
    return F.aggregate(
        steps,
        F.struct(F.lit(0).alias("depth"), F.lit(0).alias("deepest")),
        lambda acc, step: F.struct(
            (acc["depth"] + step).alias("depth"),
            F.greatest(acc["deepest"], acc["depth"] + step).alias("deepest"),
        ),
        lambda acc: acc["deepest"],
    )


def too_deeply_nested(text: Column, limits: Limits) -> Column:
    """True when a JSON text nests deeper than ``limits.max_nesting_depth`` (cheap test first)."""
    cap = limits.max_nesting_depth
    return F.when(F.octet_length(text) > cap, json_nesting_depth(text) > cap).otherwise(F.lit(False))
