"""A JSON record's repeated keys, and the record as Spark reads it: each key once, with its last value.

Spark's schema inference keeps every copy of a repeated key and then refuses the schema it built
(``COLUMN_ALREADY_EXISTS``), so the drift report infers a changed file's schema from its records with
their repeated keys collapsed, and names those keys as evidence. Paths are named as the parser's
``duplicate_key`` errors name them: ``status``, ``customer.email``, ``items[].price``.

Example::

    collapse_repeated_keys('{"a": 1, "a": 2}')   # ('{"a": 2}', ('a',))
    collapse_repeated_keys('{"a": 1}')           # ('{"a": 1}', ())
"""

from __future__ import annotations

import json
from typing import Any


class _Pairs(list[tuple[str, Any]]):
    """An object's members in delivery order, repeats kept (``json.loads`` hook result)."""


def _walk(value: Any, path: str, repeated: list[str]) -> Any:
    """``value`` with repeated keys collapsed (the last value wins); their paths go to ``repeated``."""
    if isinstance(value, _Pairs):
        return _collapsed_object(value, path, repeated)
    if isinstance(value, list):
        return [_walk(item, f"{path}[]", repeated) for item in value]
    return value


def _collapsed_object(members: _Pairs, path: str, repeated: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, member in members:
        label = f"{path}.{key}" if path else key
        if key in out and label not in repeated:
            repeated.append(label)
        out[key] = _walk(member, label, repeated)
    return out


def collapse_repeated_keys(text: str) -> tuple[str, tuple[str, ...]]:
    """The record's text with each key once, and the repeated paths (the text unchanged when none repeats)."""
    try:
        parsed = json.loads(text, object_pairs_hook=_Pairs)
    except (json.JSONDecodeError, RecursionError):
        return text, ()
    repeated: list[str] = []
    collapsed = _walk(parsed, "", repeated)
    if not repeated:
        return text, ()
    return json.dumps(collapsed, ensure_ascii=False), tuple(sorted(repeated))
