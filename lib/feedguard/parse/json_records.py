"""Parse JSON records against a contract: a pure ``DataFrame -> DataFrame`` transform.

Input: the lineage columns of :mod:`feedguard.ingest.sources` (``_raw`` holds one record's text).
Output: the same columns plus ``_blank``, ``_header`` (always false here), every contract field
typed, and ``_errors`` (empty for a valid record).

Spark's PERMISSIVE JSON parse silently accepts some bad records; each is caught here:
trailing content after the object (``{...} x``, ``{...}}``), a top-level array or scalar,
keys the contract lacks (dropped by Spark, at any depth), keys that differ from a field only in case
(the field becomes NULL with no corrupt flag), repeated keys (Spark keeps the last value):
:mod:`feedguard.parse.json_keys`; values of another JSON type that Spark coerces (a number into a string,
a quoted number into a decimal, epoch seconds into a timestamp): :mod:`feedguard.parse.json_tokens`;
numbers that do not fit their type exactly (rounded decimals, exponents, overflowing doubles):
:mod:`feedguard.parse.exactness`; lone surrogate escapes and syntax only Spark's lenient helpers accept
(single quotes, raw control characters): :mod:`feedguard.parse.json_syntax`. A line of spaces and tabs
is blank.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.schema import CORRUPT_COLUMN, parse_schema
from feedguard.ingest.limit_checks import too_deeply_nested
from feedguard.ingest.sources import source_error
from feedguard.parse.checks import contract_checks
from feedguard.parse.errors import (
    collect_errors,
    error,
    error_if,
    let,
    not_named_in,
    preview,
    sql_name,
    without_shadowed,
)
from feedguard.parse.exactness import (
    has_numbers,
    json_exactness_errors,
    json_inexact,
    json_rounded,
    typed_value,
)
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
from feedguard.parse.json_keys import duplicate_key_error, key_errors
from feedguard.parse.json_objects import object_nodes
from feedguard.parse.json_shape import shape_may_be_bad
from feedguard.parse.json_syntax import (
    has_non_finite,
    member_texts,
    non_finite_errors,
    surrogate_error,
    values_on_line,
)
from feedguard.parse.json_tokens import token_errors, tokens_may_be_bad
from feedguard.parse.jvm_flag import call_flag, json_text_flag


def json_options(contract: Contract) -> dict[str, str]:
    options = {
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT_COLUMN,
        "maxNestingDepth": str(contract.limits.max_nesting_depth),
        "allowNonNumericNumbers": "false",  # NaN and Infinity are not JSON numbers
        "allowSingleQuotes": "false",  # {'a': 1} is not JSON (Spark accepts it by default)
    }
    if contract.timestamp_format:
        options["timestampFormat"] = contract.timestamp_format
    return options


def _type_errors(contract: Contract, texts: Column) -> list[Column]:
    """Top-level values the record parse refused (the field NULL, the record flagged corrupt)."""
    errors = []
    for spec in contract.fields:
        value = texts.getField(spec.name)
        mismatch = F.col("_corrupt").isNotNull() & F.col(spec.name).isNull() & value.isNotNull()
        detail = F.concat(F.lit(f"{spec.name} expected {spec.type}, got "), preview(value))
        errors.append(error_if(mismatch, "type_mismatch", spec.name, detail))
    return errors


def _first_errors(contract: Contract) -> Column:
    """Errors that make every other one meaningless: the document, the bytes, the nesting depth."""
    encoding = error_if(
        has_bad_chars(F.col("_raw")),
        "encoding_error",
        None,
        "the record contains bytes that are not valid UTF-8 (shown as U+FFFD) or NUL characters",
    )
    cap = contract.limits.max_nesting_depth
    depth = error_if(
        F.col("_corrupt").isNotNull() & too_deeply_nested(F.col("_raw"), contract.limits),
        "too_deeply_nested",
        None,
        f"the JSON nests deeper than {cap} levels (limits.max_nesting_depth)",
    )
    return collect_errors([source_error(), encoding, surrogate_error(F.col("_raw")), depth])


def _structural(contract: Contract) -> Column:
    """The record is not one JSON object, or holds NaN or Infinity (NULL otherwise)."""
    options = json_options(contract)
    not_json = F.when(
        F.col("_corrupt").isNull(), error("malformed_json", None, "trailing content after the JSON object")
    ).otherwise(error("malformed_json", None, "the line is not valid JSON"))
    first_char = preview(F.col("_first_char"))
    not_object = error(
        "not_an_object",
        None,
        F.concat(F.lit("expected a JSON object, got a value starting with "), first_char),
    )
    non_finite = F.col("_corrupt").isNotNull() & has_non_finite(F.col("_raw"), options)
    return (
        F.when(F.col("_wrapped_len").isNull(), F.array(not_json))
        .when(F.col("_first_char") != "{", F.array(not_object))
        .when(
            F.col("_wrapped_len") > 1,
            F.array(error("malformed_json", None, "more than one JSON value on the line")),
        )
        .when(non_finite, non_finite_errors(contract, member_texts(F.col("_raw"), contract, options)))
    )


def _specific(contract: Contract) -> Column:
    """Key, type and exactness errors, each field named once (the value refused, else its JSON type,
    else its exactness)."""
    nodes = object_nodes(contract, F.col("_raw"))
    keys = collect_errors([duplicate_key_error(nodes, F.col("_keys")), *key_errors(nodes, F.col("_keys"))])
    texts = member_texts(F.col("_raw"), contract, json_options(contract))
    wide = {f.name: sql_name("_wide", f.name) for f in contract.fields if has_numbers(f)}
    type_errors = collect_errors(_type_errors(contract, texts))
    # a number the parser refused (1E400) is named once, by the rule it breaks
    return let(
        collect_errors(json_exactness_errors(contract, wide)),
        lambda exactness: let(
            not_named_in(type_errors, exactness),
            lambda refused: let(
                not_named_in(token_errors(nodes), refused),
                lambda tokens: F.concat(keys, refused, tokens, not_named_in(exactness, tokens)),
            ),
        ),
    )


@per_context
def json_record_errors(contract: Contract) -> Column:
    """The error list of a flagged record (built only for those: see :func:`flag_json_records`)."""
    fallback = let(
        _specific(contract),
        lambda specific: F.when(
            (F.size(specific) == 0) & F.col("_corrupt").isNotNull(),
            F.array(error("type_mismatch", None, "a nested value does not match the contract type")),
        ).otherwise(specific),
    )
    checks = collect_errors(contract_checks(contract, {f.name: F.col(f.name) for f in contract.fields}))
    content = F.coalesce(_structural(contract), without_shadowed(F.concat(fallback, checks)))
    return let(_first_errors(contract), lambda first: F.when(F.size(first) > 0, first).otherwise(content))


SCRATCH = ("_corrupt", "_wide", "_wrapped_len", "_keys", "_first_char")


def exact_intermediates(contract: Contract) -> dict[str, Column]:
    """What the error list needs beyond the typed fields: two more parses of the text, so they are
    computed for flagged records only (see :mod:`feedguard.parse.json_shape` for the cheap flag)."""
    return {
        "_wrapped_len": values_on_line(F.col("_raw"), json_options(contract)),
        "_keys": F.expr("json_object_keys(_raw)"),
        "_first_char": F.substring(F.ltrim("_raw"), 1, 1),
    }


@dataclass(frozen=True)
class _FlagColumns:
    """The expressions of :func:`flag_json_records` (by column name only, so built once per contract)."""

    parsed: Column
    typed: list[Column]
    wide: Column
    inexact: Column
    rounded: Column
    blank: Column
    typed_may_be_bad: Column
    intermediates: list[Column]


@per_context
def _flag_columns(contract: Contract) -> _FlagColumns:
    numeric = [f.name for f in contract.fields if has_numbers(f)]
    at_wide = {name: sql_name(name) for name in contract.field_names}
    raw = F.col("_raw")
    return _FlagColumns(
        parsed=F.from_json("_raw", parse_schema(contract), json_options(contract)).alias("_p"),
        typed=[typed_value(spec, spec.name).alias(spec.name) for spec in contract.fields],
        wide=(F.struct(*numeric) if numeric else F.lit(None).cast("string")).alias("_wide"),
        inexact=json_inexact(contract, at_wide).alias("_inexact"),
        rounded=json_rounded(contract, at_wide).alias(ROUNDED_COLUMN),
        blank=(~raw.rlike(not_only(BLANK_CHARS))).alias("_blank"),
        typed_may_be_bad=(
            F.col("_doc_error").isNotNull()
            | F.col("_corrupt").isNotNull()
            | F.col("_inexact")
            | contract_may_violate(contract, {f.name: F.col(f.name) for f in contract.fields})
        ),
        intermediates=[
            F.when(F.col("_maybe_bad"), value).alias(name)
            for name, value in exact_intermediates(contract).items()
        ],
    )


@per_context
def _byte_count_flag(contract: Contract) -> Column:
    """The text flag from Spark SQL expressions (byte counts): used when the JVM flag is not."""
    raw = F.col("_raw")
    return shape_may_be_bad(raw, contract) | tokens_may_be_bad(raw, contract)


def text_may_be_bad(df: DataFrame, contract: Contract) -> Column:
    """True unless the record's text certainly holds exactly what its typed parse shows: the JVM flag
    (:mod:`feedguard.parse.jvm_flag`) when its jar is on the classpath, else the byte counts."""
    name = json_text_flag(df.sparkSession, contract)
    return call_flag(name, F.col("_raw")) if name is not None else _byte_count_flag(contract)


def flag_json_records(df: DataFrame, contract: Contract) -> DataFrame:
    """The cheap half of :func:`parse_json_records`: typed fields and ``_maybe_bad``, no error list.

    The intermediates the error list needs (:data:`SCRATCH`) are kept for flagged records only; cache
    the result, then :func:`feedguard.parse.flags.split_flagged` with :func:`json_record_errors`.
    """
    columns = _flag_columns(contract)
    may_be_bad = (columns.typed_may_be_bad | text_may_be_bad(df, contract)).alias("_maybe_bad")
    parsed = df.select(*df.columns, columns.parsed)
    wide = parsed.select(
        *df.columns,
        *[F.col("_p").getField(name).alias(name) for name in contract.field_names],
        F.col("_p").getField(CORRUPT_COLUMN).alias("_corrupt"),
    )
    typed = wide.select(
        *df.columns, *columns.typed, "_corrupt", columns.wide, columns.inexact, columns.rounded
    )
    flagged = typed.select("*", columns.blank, may_be_bad)
    return flagged.select(
        *df.columns,
        "_blank",
        F.lit(False).alias("_header"),
        *contract.field_names,
        ROUNDED_COLUMN,
        "_maybe_bad",
        *keep_when_flagged(("_corrupt", "_wide")),
        *columns.intermediates,
    )


def parse_json_records(df: DataFrame, contract: Contract) -> DataFrame:
    """Parse ``_raw`` with the contract schema (PERMISSIVE) and attach ``_errors``."""
    return flag_json_records(df, contract).select(
        *df.columns,
        "_blank",
        "_header",
        *contract.field_names,
        ROUNDED_COLUMN,
        *with_errors_when_flagged(json_record_errors(contract)),
    )
