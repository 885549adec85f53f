"""Repeated JSON keys collapsed as Spark reads them (the last value wins), their paths named."""

from __future__ import annotations

import pytest

from feedguard.contracts.repeated_keys import collapse_repeated_keys


@pytest.mark.parametrize(
    ("text", "collapsed", "repeated"),
    [
        ('{"a": 1, "a": 2}', '{"a": 2}', ("a",)),
        ('{"a":1,"b":"x"}', '{"a":1,"b":"x"}', ()),  # nothing repeats: the text itself, byte for byte
        ('{"c": {"e": 1, "e": 2}, "items": [{"p": 1}, {"p": 2, "p": 3}]}',
         '{"c": {"e": 2}, "items": [{"p": 1}, {"p": 3}]}', ("c.e", "items[].p")),
        ('{"A": 1, "a": 2}', '{"A": 1, "a": 2}', ()),  # keys that differ in case are not repeats
        ('{"a": 1}x', '{"a": 1}x', ()),  # not JSON: left to the parser's own verdict
        ("[1, 2]", "[1, 2]", ()),
    ],
)  # fmt: skip
def test_repeated_keys_are_collapsed_and_named(text: str, collapsed: str, repeated: tuple[str, ...]) -> None:
    assert collapse_repeated_keys(text) == (collapsed, repeated)
