"""Split a byte stream into records exactly and in bounded memory (pure Python, no Spark).

Two record layouts that Spark's text source cannot split exactly:

- :func:`split_lines` for text whose newline is more than one byte (UTF-16/32): a line ends at a
  newline *code unit*, so a ``0A 00`` pair that straddles two characters never splits a record;
- :func:`split_json_array` for a JSON array document: one record per element with its exact bytes,
  its element number and the line it starts on, in memory bounded by the largest element (Spark's
  ``wholetext`` read held the whole document, and its explode copied it once per element).

Both scan a *shadow* of the data: one character per code unit, the unit itself when it is ASCII,
else U+0080. JSON's structure is all ASCII, so the shadow has the structure of the text, and shadow
positions times the unit width are byte offsets into the original bytes, which are sliced as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

JSON_WHITESPACE = " \t\r\n"
NOT_ASCII = 0x80
_STRUCTURE = re.compile(r'["\[\]{},]')
_STRING_BODY = re.compile(r'(?:[^"\\\n]|\\[^\n])*')
_NOT_WHITESPACE = re.compile(r"[^ \t\r\n]")
_DECODER = json.JSONDecoder()

END_INSIDE_ARRAY = "malformed_json: the file ends inside the JSON array (no closing ']')"
EMPTY_ELEMENT = "malformed_json: an empty array element (a separator with no value before it)"
AFTER_ARRAY = "malformed_json: content after the end of the JSON array"
NOT_AN_ARRAY = "malformed_json: the document does not start with '['"
CUT_UNIT = "malformed_json: the file ends in the middle of a character"


@dataclass(frozen=True)
class Piece:
    """One record cut from a stream."""

    index: int  # record number in the file, from 0
    raw: bytes  # the record's exact bytes (without its line terminator)
    line: int  # the line it starts on, from 1
    error: str | None = None  # ``type: detail`` when the document around the record is broken


def shadow(data: bytes, unit: int, little_endian: bool) -> str:
    """One character per code unit of ``data``: the unit if it is ASCII, else U+0080."""
    if unit == 1:
        return data.decode("latin-1")
    units = np.frombuffer(data, dtype=f"{'<' if little_endian else '>'}u{unit}")
    return np.where(units < NOT_ASCII, units, NOT_ASCII).astype(np.uint8).tobytes().decode("latin-1")


def split_lines(chunks: Iterable[bytes], newline: bytes, unit: int) -> Iterator[Piece]:
    """Lines ending at a newline code unit (``newline``, ``unit`` bytes wide); a CR before it is dropped."""
    carriage = newline.replace(b"\n", b"\r")
    buffer = bytearray()
    index = searched = 0
    for chunk in chunks:
        buffer += chunk
        start = 0
        while (found := buffer.find(newline, searched)) >= 0:
            if (found - start) % unit:
                searched = found + 1
                continue
            line = bytes(buffer[start:found])
            if line.endswith(carriage) and len(line) % unit == 0:
                line = line[: -len(carriage)]
            yield Piece(index, line, index + 1)
            index += 1
            start = searched = found + len(newline)
        searched = max(0, len(buffer) - start - len(newline) + 1)
        del buffer[:start]
    if buffer:
        yield Piece(index, bytes(buffer), index + 1)


@dataclass
class _Scan:
    """Progress through one element whose end is not in the buffer yet."""

    position: int
    depth: int


class _ArraySplitter:
    """The state of :func:`split_json_array` between chunks (positions index the shadow text)."""

    def __init__(self, unit: int, little_endian: bool) -> None:
        self.unit = unit
        self.little_endian = little_endian
        self.data = b""
        self.text = ""
        self.state = "start"  # start -> elements -> after -> done
        self.after_error = AFTER_ARRAY
        self.slot = 0  # where the next element's text may start
        self.separator = 0  # the '[' or ',' before that slot
        self.scan: _Scan | None = None
        self.index = 0
        self.line = 1  # the line number at position ``line_at``
        self.line_at = 0

    def feed(self, data: bytes) -> None:
        """Drop what no record needs any more, then append ``data``."""
        consumed = min(self.slot, self.separator, self.line_at)
        if consumed:
            self.data = self.data[consumed * self.unit :]
            self.text = self.text[consumed:]
            self.slot -= consumed
            self.separator -= consumed
            self.line_at -= consumed
            if self.scan is not None:
                self.scan.position -= consumed
        self.data += data
        self.text += shadow(data, self.unit, self.little_endian)

    def line_of(self, position: int) -> int:
        self.line += self.text.count("\n", self.line_at, position)
        self.line_at = position
        return self.line

    def _piece(self, start: int, end: int, error: str | None = None) -> Piece:
        piece = Piece(self.index, self.data[start * self.unit : end * self.unit], self.line_of(start), error)
        self.index += 1
        return piece

    def _rest(self, start: int, error: str) -> Piece:
        """The rest of the document from ``start`` as one record (at the end of the file)."""
        self.state = "done"
        return self._piece(start, len(self.text.rstrip(JSON_WHITESPACE)), error)

    def _first_value(self, start: int) -> int | None:
        found = _NOT_WHITESPACE.search(self.text, start)
        return found.start() if found else None

    def pieces(self, final: bool) -> Iterator[Piece]:
        """Every record whose end is in the buffer (all the rest when ``final``)."""
        if self.state == "start":
            self._start()
        if self.state == "elements":
            yield from self._elements(final)
        if self.state == "after":
            first = self._first_value(self.slot)
            self.slot = len(self.text) if first is None else first
            if final:
                self.state = "done"
                if first is not None:
                    yield self._rest(first, self.after_error)

    def _start(self) -> None:
        first = self._first_value(self.slot)
        if first is None:
            return
        if self.text[first] == "[":
            self.state, self.separator, self.slot = "elements", first, first + 1
        else:
            self.state, self.slot, self.after_error = "after", first, NOT_AN_ARRAY

    def _elements(self, final: bool) -> Iterator[Piece]:
        while self.state == "elements":
            value = self._first_value(self.slot)
            if value is None:
                if final:
                    yield self._rest(self.separator, END_INSIDE_ARRAY)
                return
            if self.scan is None and self.text[value] in ",]":
                if not (self.text[value] == "]" and self.text[self.separator] == "["):  # not ``[]``
                    yield self._piece(self.separator, self.separator + 1, EMPTY_ELEMENT)
                self._past(value)
                continue
            end = self._element_end(value)
            if end is None:
                if final:
                    yield self._rest(value, END_INSIDE_ARRAY)
                return
            yield self._piece(value, value + len(self.text[value:end].rstrip(JSON_WHITESPACE)))
            self._past(end)

    def _past(self, at: int) -> None:
        """Move past the separator at ``at`` (a ',' opens the next slot, a ']' ends the array)."""
        self.scan = None
        if self.text[at] == "]":
            self.state, self.slot = "after", at + 1
        else:
            self.separator, self.slot = at, at + 1

    def _element_end(self, value: int) -> int | None:
        """The position of the ',' or ']' after the element at ``value``; None: not in the buffer yet."""
        if self.scan is None:
            self.scan = _Scan(self._parsed_end(value), 0)
        scan, text = self.scan, self.text
        while (found := _STRUCTURE.search(text, scan.position)) is not None:
            at, char = found.start(), found.group()
            if char == '"':
                body = _STRING_BODY.match(text, at + 1)
                stop = body.end() if body else at + 1
                if stop >= len(text) or (text[stop] == "\\" and stop + 1 >= len(text)):
                    scan.position = at  # the string may go on in the next chunk
                    return None
                scan.position = stop + 1 if text[stop] in '"\\' else stop
            elif char in "[{":
                scan.depth, scan.position = scan.depth + 1, at + 1
            elif scan.depth > 0 and char in "]}":
                scan.depth, scan.position = scan.depth - 1, at + 1
            elif scan.depth == 0 and char in ",]":
                return at
            else:
                scan.position = at + 1
        scan.position = len(text)
        return None

    def _parsed_end(self, value: int) -> int:
        """Where a well-formed element ends (Python's C JSON scanner), else ``value`` (scan it all)."""
        try:
            return int(_DECODER.raw_decode(self.text, value)[1])
        except (ValueError, RecursionError):
            return value


def split_json_array(chunks: Iterable[bytes], unit: int = 1, little_endian: bool = True) -> Iterator[Piece]:
    """The elements of a JSON array document (without its byte-order mark), each with its exact bytes.

    A broken document still ends in records, each with an error: an empty element, a missing ']',
    content after the array. An element that is not valid JSON ends at the next ',' or ']' outside
    strings and brackets (a string ends at its closing quote or, broken, at a newline).
    """
    splitter = _ArraySplitter(unit, little_endian)
    pending = b""
    for chunk in chunks:
        data = pending + chunk
        cut = len(data) - len(data) % unit
        data, pending = data[:cut], data[cut:]
        splitter.feed(data)
        yield from splitter.pieces(final=False)
    splitter.feed(b"")
    yield from splitter.pieces(final=True)
    if pending:
        yield Piece(splitter.index, pending, splitter.line_of(len(splitter.text)), CUT_UNIT)
