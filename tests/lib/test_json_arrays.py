"""JSON array documents: one record per element with its exact bytes, number and line, in bounded memory."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.ingest.file_checks import check_file
from feedguard.ingest.sources import read_json_arrays
from feedguard.ingest.splitters import (
    AFTER_ARRAY,
    EMPTY_ELEMENT,
    END_INSIDE_ARRAY,
    split_json_array,
)
from feedguard.lake.storage import iter_chunks, list_files


def split(doc: bytes, chunk: int = 3) -> list[tuple[int, bytes, int, str | None]]:
    """The pieces of ``doc`` fed in tiny chunks (every boundary falls inside some token)."""
    chunks = [doc[i : i + chunk] for i in range(0, len(doc), chunk)]
    return [(p.index, p.raw, p.line, p.error) for p in split_json_array(chunks)]


def test_elements_keep_their_exact_text_number_and_line() -> None:
    doc = b'[\n  {"a": 1,\n   "b": "x,]}\\"{["},\n  [1, 2] ,\n  "s\xc3\xa9", 3e5, null\n]\n'
    assert split(doc) == [
        (0, b'{"a": 1,\n   "b": "x,]}\\"{["}', 2, None),
        (1, b"[1, 2]", 4, None),
        (2, b'"s\xc3\xa9"', 5, None),
        (3, b"3e5", 5, None),
        (4, b"null", 5, None),
    ]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (b"[]", []),
        (b" [ ]\n", []),
        (b"[1,,2]", [(0, b"1", 1, None), (1, b",", 1, EMPTY_ELEMENT), (2, b"2", 1, None)]),
        (b"[1,]", [(0, b"1", 1, None), (1, b",", 1, EMPTY_ELEMENT)]),
        (b'[{"a":1},\n{"a":', [(0, b'{"a":1}', 1, None), (1, b'{"a":', 2, END_INSIDE_ARRAY)]),
        (b'[{"a":1}', [(0, b'{"a":1}', 1, END_INSIDE_ARRAY)]),
        (b"[1] trailing\n", [(0, b"1", 1, None), (1, b"trailing", 1, AFTER_ARRAY)]),
        (b'[{"a":1} x, 2]', [(0, b'{"a":1} x', 1, None), (1, b"2", 1, None)]),  # the parser flags it
        (b'[{"a":"open\n}, 2]', [(0, b'{"a":"open\n}', 1, None), (1, b"2", 2, None)]),  # a string ends at \n
    ],
)
def test_a_broken_document_still_gives_every_part_to_a_record(
    doc: bytes, expected: list[tuple[int, bytes, int, str | None]]
) -> None:
    assert split(doc) == expected
    assert split(doc, chunk=1 << 20) == expected


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    assert split(b"[" + deep + b",1]", chunk=64) == [(0, deep, 1, None), (1, b"1", 1, None)]


def test_utf16_elements_are_cut_at_code_units() -> None:
    # U+0A2C U+4E00: the bytes 2C 0A 00 4E hold a "," and a newline unit at odd offsets; they split nothing.
    text = '[{"k":"\u0a2c\u4e00"},\n {"k":"K\u00f6ln \U0001f600"}]'
    for codec, little in (("utf-16-le", True), ("utf-16-be", False)):
        pieces = list(split_json_array(iter_chunks(io.BytesIO(text.encode(codec)), 5), 2, little))
        assert [(p.raw.decode(codec), p.line) for p in pieces] == [
            ('{"k":"\u0a2c\u4e00"}', 1),
            ('{"k":"K\u00f6ln \U0001f600"}', 2),
        ]


def order(n: int) -> str:
    return json.dumps(
        {"order_id": f"QB-{n:08d}", "customer_id": "C000001", "restaurant_id": "R1",
         "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "total": 1.0,
         "status": "placed", "city": "Köln", "ordered_at": "2026-11-01T10:00:00Z"},
        ensure_ascii=False,
    )  # fmt: skip


ARRAY_ELEMENTS = 40_000  # 11 MB: the wholetext + from_json + posexplode reader ran out of memory at 5,000


def test_a_large_array_is_read_in_bounded_memory_with_exact_elements(
    spark: SparkSession, tmp_path: Path
) -> None:
    elements = [order(n) for n in range(ARRAY_ELEMENTS)]
    elements[7] = elements[7].replace('"status": "placed"', '"status": "placed",, "x"')
    path = tmp_path / "orders.json"
    path.write_text("[\n  " + ",\n  ".join(elements) + "\n]\n", encoding="utf-8")
    (info,) = list_files(str(path))
    checked = check_file(info)
    assert checked.layout == "array"
    started = time.perf_counter()
    frame = read_json_arrays(spark, [checked])
    counted = frame.agg(F.count("*"), F.sum(F.octet_length("_raw")), F.count("_raw_bytes")).first()
    assert tuple(counted or ()) == (ARRAY_ELEMENTS, sum(len(e.encode()) for e in elements), 0)
    assert time.perf_counter() - started < 60
    rows = (
        frame.where(F.col("_row_in_block").isin(0, 7, ARRAY_ELEMENTS - 1)).orderBy("_row_in_block").collect()
    )
    assert [(r["_row_in_block"], r["_element_line"], r["_raw"], r["_doc_error"]) for r in rows] == [
        (0, 2, elements[0], None),
        (7, 9, elements[7], None),
        (ARRAY_ELEMENTS - 1, ARRAY_ELEMENTS + 1, elements[-1], None),
    ]
