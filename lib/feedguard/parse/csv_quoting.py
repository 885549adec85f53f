"""Quotes that break RFC 4180: a line whose quoting Spark's CSV parser would read leniently.

RFC 4180: a field is either unquoted and holds no quote, or it is enclosed in quotes from its first
to its last character and every quote inside is doubled. Spark (univocity) reads the rest without a
word: ``"a"b`` becomes ``"a"b``, ``ab"c`` stays ``ab"c``, ``"a" ,c`` loses its space, an unterminated
``"b""c`` at the end of a line becomes ``b"c``. Such a field is dead-lettered ``malformed_quoting``,
naming the field, unless the contract opts in to Spark's reading (``csv.lenient_quotes: true``).

The test is one anchored regex for lines that hold a quote. Every repetition is possessive, so Java's
engine loops instead of recursing (a long quoted field cannot overflow the stack), and possessive is
exact here: the grammar never needs to give back a doubled quote or a field.
"""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

from feedguard.contracts.contract import Contract
from feedguard.contracts.contract_options import CsvOptions
from feedguard.parse.errors import error_if, preview

MALFORMED_QUOTING = "malformed_quoting"


def _patterns(options: CsvOptions) -> tuple[str, str]:
    """(one field, one quoted section) as Java regexes for the contract's delimiter, quote and escape."""
    d, q, e = (re.escape(c) for c in (options.delimiter, options.quote, options.escape))
    if options.escape == options.quote:
        inside = f"[^{q}]*+(?:{q}{q}[^{q}]*+)*+"
    else:  # an escape character escapes the next one, the quote included
        inside = f"[^{q}{e}]*+(?:{e}.[^{q}{e}]*+)*+"
    quoted = f"{q}{inside}{q}"
    return f"(?:{quoted}|[^{d}{q}]*+)", quoted


def quoting_is_bad(line: Column, contract: Contract) -> Column:
    """True when a line's quotes break RFC 4180 (false when the contract reads them leniently)."""
    options = contract.csv
    if options.lenient_quotes:
        return F.lit(False)
    field, _ = _patterns(options)
    d = re.escape(options.delimiter)
    return line.contains(options.quote) & ~line.rlike(f"^{field}(?:{d}{field})*+$")


def _bad_field_start(line: Column, options: CsvOptions) -> Column:
    """The well-formed fields (with their delimiters) before the first malformed one."""
    field, _ = _patterns(options)
    return F.regexp_extract(line, f"^((?:{field}{re.escape(options.delimiter)})*+)", 1)


def quoting_error(line: Column, contract: Contract) -> Column:
    """A ``malformed_quoting`` error naming the first field whose quoting breaks RFC 4180, or NULL."""
    options = contract.csv
    _, quoted = _patterns(options)
    before = _bad_field_start(line, options)
    index = F.size(F.split(F.regexp_replace(before, quoted, "x"), re.escape(options.delimiter))) - 1
    names = F.array(*[F.lit(f.name) for f in contract.fields])
    field = F.coalesce(F.element_at(names, index + 1), F.concat(F.lit("column "), (index + 1).cast("string")))
    detail = F.concat(
        field,
        F.lit(
            ": a quote RFC 4180 does not allow (inside an unquoted field, text after a closing quote, "
            "or a quoted field that does not end); the field starts "
        ),
        preview(line.substr(F.length(before) + 1, F.lit(1 << 30))),
    )
    return error_if(quoting_is_bad(line, contract), MALFORMED_QUOTING, field, detail)
