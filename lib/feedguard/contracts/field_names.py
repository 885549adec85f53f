"""Valid contract field names for whatever a partner delivers as a column name or a JSON key.

Used by the drift proposal and by contract inference: ``customer phone`` becomes ``customer_phone``,
and names that would differ from another only in case get a suffix.
"""

from __future__ import annotations

import re
import unicodedata

from feedguard.contracts.contract import FIELD_NAME_RE

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_NAME_RE = re.compile(r"[^A-Za-z0-9]+")
MAX_PROPOSED_NAME = 64
# Letters that do not decompose into ASCII ones (accented letters do: é -> e).
_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l"}
)


def field_name_for(delivered: str, position: int) -> str:
    """A valid field name for any delivered column name or key (``customer phone`` -> ``customer_phone``).

    Accents are dropped, camelCase is split, other characters become ``_``; an empty result is
    ``column_<position>`` (1-based), a leading digit gets ``col_``.
    """
    if FIELD_NAME_RE.match(delivered):
        return delivered
    text = (
        unicodedata.normalize("NFKD", delivered.translate(_LETTERS)).encode("ascii", "ignore").decode("ascii")
    )
    text = _CAMEL_RE.sub("_", text)
    text = _NON_NAME_RE.sub("_", text).strip("_").lower()[:MAX_PROPOSED_NAME].rstrip("_")
    if not text:
        return f"column_{position}"
    return f"col_{text}" if text[0].isdigit() else text


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... so that no two names differ only in case (``taken`` grows)."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate.lower())
    return candidate


def json_key_note(key: str, name: str) -> str:
    """Why a delivered JSON key became another field name (a JSON contract cannot map keys)."""
    return (
        f"delivered as key {key!r}, which no field can name (not a valid name, or it differs from another "
        f"only in case): JSON keys must equal field names, so the partner must deliver it as {name!r}"
    )
