"""Is a flagged record's text JSON at all, and are its escapes characters? (Flagged records only.)

Spark's helpers that look at the text (``json_array_length``, ``json_object_keys``, ``get_json_object``)
parse leniently: they accept single quotes (``{'a':0}``) and raw control characters in strings, which the
record parse refuses. The syntax is therefore judged by a parse with the record parse's own options:
:func:`values_on_line` counts the JSON values of a line (NULL when it is not JSON), allowing only NaN and
Infinity, which :func:`non_finite_errors` names as values of the wrong type.

A lone surrogate escape (``\\ud800`` without its low half, JSONTestSuite's ``i_string_*surrogate*``) is
no character: Java stores it as ``?``. :func:`surrogate_error` finds one in the text.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from feedguard.contracts.contract import Contract
from feedguard.contracts.schema import CORRUPT_COLUMN, string_schema
from feedguard.parse.errors import collect_errors, error, error_if, preview

NON_FINITE = "NaN, Infinity and -Infinity are not JSON numbers"
SYNTAX_SCHEMA = T.StructType([T.StructField(CORRUPT_COLUMN, T.StringType(), True)])
# A maximal run of surrogate escapes (after an even number of backslashes: the escape is real) ...
SURROGATE_RUN = r"(?<!\\)(?:\\\\)*+((?:\\u[dD][89a-fA-F][0-9a-fA-F]{2})++)"
# ... is a character only as high, low pairs.
SURROGATE_PAIRS = r"^(?:\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})+$"


def probe_options(options: dict[str, str]) -> dict[str, str]:
    """The record parse's options, NaN and Infinity allowed, one level deeper (the probe wraps the line)."""
    depth = int(options["maxNestingDepth"]) + 1
    return {**options, "allowNonNumericNumbers": "true", "maxNestingDepth": str(depth)}


def values_on_line(raw: Column, options: dict[str, str]) -> Column:
    """How many JSON values the line holds, read as the elements of an array (NULL: not JSON)."""
    wrapped = F.from_json(
        F.concat(F.lit("["), raw, F.lit("]")), T.ArrayType(T.StringType()), probe_options(options)
    )
    return F.when(wrapped.isNotNull(), F.size(wrapped))


def member_texts(raw: Column, contract: Contract, options: dict[str, str]) -> Column:
    """The text of each top-level member (a string's value, any other value's JSON text)."""
    return F.from_json(raw, string_schema(contract, corrupt_column=False), probe_options(options))


def has_non_finite(raw: Column, options: dict[str, str]) -> Column:
    """The record parse refuses the syntax of a line that is JSON with NaN or Infinity allowed."""
    return F.from_json(raw, SYNTAX_SCHEMA, options).getField(CORRUPT_COLUMN).isNotNull()


def non_finite_errors(contract: Contract, texts: Column) -> Column:
    """``type_mismatch`` errors for the fields written as NaN or Infinity (Jackson quotes them when it
    writes them as text; a string's text has no quotes), or one unnamed error when they are nested."""
    named = []
    for spec in contract.fields:
        text = texts.getField(spec.name)
        shown = F.regexp_replace(text, '^"|"$', "")
        detail = F.concat(
            F.lit(f"{spec.name} expected {spec.type}, got "), preview(shown), F.lit(f" ({NON_FINITE})")
        )
        named.append(error_if(text.startswith('"'), "type_mismatch", spec.name, detail))
    found = collect_errors(named)
    nested = F.array(error("type_mismatch", None, f"a value is NaN or Infinity ({NON_FINITE})"))
    return F.when(F.size(found) > 0, found).otherwise(nested)


def surrogate_error(raw: Column) -> Column:
    """An ``encoding_error`` when an escape is half of a surrogate pair without its other half."""
    runs = F.regexp_extract_all(raw, F.lit(SURROGATE_RUN), 1)
    lone = F.filter(runs, lambda run: ~run.rlike(SURROGATE_PAIRS))
    detail = F.concat(
        F.lit(
            "the record holds a lone surrogate escape, which is no character (the parser would store '?'): "
        ),
        preview(F.array_join(lone, ", ")),
    )
    return error_if(raw.contains("\\u") & (F.size(lone) > 0), "encoding_error", None, detail)
