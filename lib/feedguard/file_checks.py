"""Look at each input file before Spark reads it: compression, readability, layout, header.

Cheap checks in the driver that Spark cannot make without failing the whole job: a truncated
gzip (Spark throws ``EOFException`` mid-job), binary garbage, a JSON array document versus
JSON Lines, and the CSV header line.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Literal

from feedguard.storage import FileInfo, iter_chunks, open_binary, read_head

SNIFF_BYTES = 64 * 1024
BINARY_CONTROL_SHARE = 0.30
_TEXT_CONTROLS = {9, 10, 12, 13}

Readability = Literal["ok", "empty", "truncated_gzip", "binary"]
Layout = Literal["lines", "array"]


@dataclass(frozen=True)
class CheckedFile:
    """An input file and what the driver learned about it."""

    info: FileInfo
    compressed: bool
    readability: Readability
    detail: str
    layout: Layout
    first_line: str | None

    @property
    def readable(self) -> bool:
        return self.readability in ("ok", "empty")


def _is_gzip(info: FileInfo, head: bytes) -> bool:
    return info.uri.endswith((".gz", ".gzip")) or head[:2] == b"\x1f\x8b"


def _gzip_problem(info: FileInfo) -> str | None:
    """Decompress the whole stream; describe the problem if it is truncated or corrupt."""
    try:
        with open_binary(info.uri) as raw, gzip.GzipFile(fileobj=raw) as stream:
            for _ in iter_chunks(stream):  # type: ignore[arg-type]
                pass
    except EOFError:
        return "gzip stream is truncated (compressed data ended before the end-of-stream marker)"
    except (OSError, zlib.error) as exc:
        return f"gzip stream is corrupt: {exc}"
    return None


def _decompressed_head(info: FileInfo) -> bytes:
    with open_binary(info.uri) as raw, gzip.GzipFile(fileobj=raw) as stream:
        try:
            return stream.read(SNIFF_BYTES)
        except (EOFError, OSError, zlib.error):
            return b""


def looks_binary(head: bytes) -> bool:
    """True when a large share of the characters are control characters or invalid UTF-8."""
    if not head:
        return False
    text = head.decode("utf-8", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ord(ch) not in _TEXT_CONTROLS))
    return bad / len(text) > BINARY_CONTROL_SHARE


def _first_line(head: bytes) -> str:
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")


def json_layout(head: bytes, *, whole_file: bool) -> Layout:
    """A JSON array document, or JSON Lines (where a line that is an array is a bad record).

    An array document starts with ``[`` and either has ``[`` alone on its first line, a first
    line ending in a comma (pretty-printed elements), or is a single line.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"["):
        return "lines"
    first, _, rest = stripped.partition(b"\n")
    first = first.strip()
    single_line = whole_file and not rest.strip()
    return "array" if first == b"[" or first.endswith(b",") or single_line else "lines"


def check_file(info: FileInfo) -> CheckedFile:
    """Classify one file: readable or not, JSON layout, first line."""
    head = read_head(info.uri, SNIFF_BYTES)
    compressed = _is_gzip(info, head)
    if info.size == 0:
        return CheckedFile(info, compressed, "empty", "the file is empty", "lines", None)
    if compressed:
        problem = _gzip_problem(info)
        if problem:
            return CheckedFile(info, True, "truncated_gzip", problem, "lines", None)
        head = _decompressed_head(info)
        if not head:
            return CheckedFile(info, True, "empty", "the file is empty once decompressed", "lines", None)
    if looks_binary(head):
        return CheckedFile(info, compressed, "binary", "the file is binary, not text", "lines", None)
    layout = json_layout(head, whole_file=len(head) < SNIFF_BYTES)
    return CheckedFile(info, compressed, "ok", "", layout, _first_line(head))


def check_files(files: list[FileInfo]) -> list[CheckedFile]:
    return [check_file(f) for f in files]
