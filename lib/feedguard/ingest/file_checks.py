"""Look at each input file before Spark reads it: compression, size caps, encoding, layout, header.

Cheap checks in the driver that Spark cannot make without failing the whole job: a truncated
gzip (Spark throws ``EOFException`` mid-job) or one that expands past the caps of
:mod:`feedguard.ingest.limits` (a decompression bomb), the text encoding (byte-order marks, UTF-16/32
without one, against the contract's ``encoding``), binary garbage, a JSON array document versus
JSON Lines, and the CSV header line.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import IO, Literal

from feedguard.contracts.contract import Contract
from feedguard.contracts.contract_options import Limits
from feedguard.ingest.limits import RATIO_CHECK_AFTER_BYTES, describe_bytes
from feedguard.lake.storage import FileInfo, iter_chunks, open_binary, read_head
from feedguard.summary import Evidence

SNIFF_BYTES = 64 * 1024
BINARY_CONTROL_SHARE = 0.30
WIDE_SNIFF_BYTES = 4096  # bytes looked at to spot UTF-16/32 without a byte-order mark
WIDE_NUL_SHARE = 0.9  # share of NUL bytes in the high positions of UTF-16/32 code units
_TEXT_CONTROLS = {9, 10, 12, 13}
TRUNCATED = "compressed data ended before the end-of-stream marker"

Readability = Literal["ok", "empty", "truncated_gzip", "binary", "wrong_encoding", "too_large"]
Layout = Literal["lines", "array"]


@dataclass(frozen=True)
class TextEncoding:
    """A text encoding the readers decode exactly."""

    name: str  # how verdicts, contracts and dead letters name it
    java: str  # the charset of Spark's ``decode``
    python: str  # the Python codec
    unit: int  # bytes per code unit
    bom: bytes = b""  # its byte-order mark

    @property
    def newline(self) -> bytes:
        return "\n".encode(self.python)


ENCODINGS: dict[str, TextEncoding] = {
    e.name: e
    for e in (
        TextEncoding("utf-8", "UTF-8", "utf-8", 1, b"\xef\xbb\xbf"),
        TextEncoding("us-ascii", "US-ASCII", "ascii", 1),
        TextEncoding("iso-8859-1", "ISO-8859-1", "latin-1", 1),
        TextEncoding("windows-1252", "windows-1252", "cp1252", 1),
        TextEncoding("utf-16le", "UTF-16LE", "utf-16-le", 2, b"\xff\xfe"),
        TextEncoding("utf-16be", "UTF-16BE", "utf-16-be", 2, b"\xfe\xff"),
        TextEncoding("utf-32le", "UTF-32LE", "utf-32-le", 4, b"\xff\xfe\x00\x00"),
        TextEncoding("utf-32be", "UTF-32BE", "utf-32-be", 4, b"\x00\x00\xfe\xff"),
    )
}
UTF8 = ENCODINGS["utf-8"]
# A declared ``utf-16``/``utf-32`` takes either byte order; without a mark, big-endian (RFC 2781).
BYTE_ORDER_FAMILIES = {"utf-16": ("utf-16be", "utf-16le"), "utf-32": ("utf-32be", "utf-32le")}
_BOM_ORDER = ("utf-32le", "utf-32be", "utf-8", "utf-16le", "utf-16be")  # FF FE 00 00 before FF FE


@dataclass(frozen=True)
class CheckedFile:
    """An input file and what the driver learned about it."""

    info: FileInfo
    compressed: bool
    readability: Readability
    detail: str
    layout: Layout
    first_line: str | None
    encoding: TextEncoding = UTF8

    @property
    def readable(self) -> bool:
        return self.readability in ("ok", "empty")

    @property
    def evidence(self) -> Evidence:
        """Why an unreadable file is unreadable, for its verdict (with the encoding that was found)."""
        if self.readability == "wrong_encoding":
            return {"reason": self.detail, "encoding_detected": self.encoding.name}
        return {"reason": self.detail}


def _is_gzip(info: FileInfo, head: bytes) -> bool:
    return info.uri.endswith((".gz", ".gzip")) or head[:2] == b"\x1f\x8b"


class _CountingReader:
    """A file object that counts the compressed bytes the gzip reader consumed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _over_cap(expanded: int, compressed: int, limits: Limits) -> str | None:
    if expanded > limits.max_decompressed_bytes:
        return (
            f"decompression stopped after {describe_bytes(expanded)}: the file expands past the cap of "
            f"{describe_bytes(limits.max_decompressed_bytes)} per file (limits.max_decompressed_bytes)"
        )
    if expanded >= RATIO_CHECK_AFTER_BYTES and expanded > limits.max_compression_ratio * max(compressed, 1):
        return (
            f"decompression stopped after {describe_bytes(expanded)} from {describe_bytes(compressed)}: "
            f"the file expands more than {limits.max_compression_ratio:g} times "
            "(limits.max_compression_ratio), as a decompression bomb does"
        )
    return None


def _gzip_problem(info: FileInfo, limits: Limits) -> tuple[Readability, str] | None:
    """Decompress the whole stream, within the caps; describe the problem if there is one."""
    try:
        with open_binary(info.uri) as raw:
            counting = _CountingReader(raw)
            with gzip.GzipFile(fileobj=counting) as stream:  # type: ignore[call-overload]
                expanded = 0
                for chunk in iter_chunks(stream):
                    expanded += len(chunk)
                    problem = _over_cap(expanded, counting.count, limits)
                    if problem:
                        return "too_large", problem
    except EOFError:
        return "truncated_gzip", f"gzip stream is truncated ({TRUNCATED})"
    except (OSError, zlib.error) as exc:
        return "truncated_gzip", f"gzip stream is corrupt: {exc}"
    return None


def _decompressed_head(info: FileInfo) -> bytes:
    with open_binary(info.uri) as raw, gzip.GzipFile(fileobj=raw) as stream:
        try:
            return stream.read(SNIFF_BYTES)
        except (EOFError, OSError, zlib.error):
            return b""


def sniff_bom(head: bytes) -> TextEncoding | None:
    """The encoding whose byte-order mark starts ``head``, if any."""
    for name in _BOM_ORDER:
        if head.startswith(ENCODINGS[name].bom):
            return ENCODINGS[name]
    return None


def sniff_wide(head: bytes) -> TextEncoding | None:
    """UTF-32 or UTF-16 without a byte-order mark: mostly-ASCII text has NUL in the high bytes."""
    for unit, little, big in ((4, "utf-32le", "utf-32be"), (2, "utf-16le", "utf-16be")):
        sample = head[:WIDE_SNIFF_BYTES]
        sample = sample[: len(sample) - len(sample) % unit]
        units = len(sample) // unit
        if units < 8:
            continue
        for name, low_at in ((little, 0), (big, unit - 1)):
            nul_share = [sample[j::unit].count(0) / units for j in range(unit)]
            if nul_share[low_at] <= 1 - WIDE_NUL_SHARE and all(
                share >= WIDE_NUL_SHARE for j, share in enumerate(nul_share) if j != low_at
            ):
                return ENCODINGS[name]
    return None


def declared_encoding(contract: Contract) -> str:
    """The contract's text encoding (the older ``csv.encoding`` when ``encoding`` is left at utf-8)."""
    return contract.encoding if contract.encoding != "utf-8" else contract.csv.encoding


def resolve_encoding(declared: str, head: bytes) -> tuple[TextEncoding, str | None]:
    """The encoding to read a file with, and a problem when the file is not in the declared one."""
    allowed = BYTE_ORDER_FAMILIES.get(declared, (declared,))
    marked = sniff_bom(head)
    if marked is not None:
        if marked.name in allowed:
            return marked, None
        return marked, (
            f"the file is {marked.name} (it starts with the byte-order mark {marked.bom.hex(' ').upper()}) "
            f"but the contract declares encoding {declared}"
        )
    wide = sniff_wide(head)
    if wide is not None and wide.name not in allowed:
        nth = "second" if wide.unit == 2 else "fourth"
        return wide, (
            f"the file looks like {wide.name} without a byte-order mark (NUL bytes in all but every "
            f"{nth} position) but the contract declares encoding {declared}"
        )
    if wide is not None:
        return wide, None
    return ENCODINGS[allowed[0]], None


def decode_head(head: bytes, encoding: TextEncoding) -> str:
    """The start of a file as text (byte-order mark dropped, a cut last character replaced)."""
    body = head.removeprefix(encoding.bom)
    body = body[: len(body) - len(body) % encoding.unit]
    return body.decode(encoding.python, errors="replace")


def looks_binary(head: bytes, encoding: TextEncoding = UTF8) -> bool:
    """True when a large share of the characters are control characters or undecodable bytes."""
    if not head:
        return False
    text = decode_head(head, encoding)
    if not text:
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ord(ch) not in _TEXT_CONTROLS))
    return bad / len(text) > BINARY_CONTROL_SHARE


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r").removeprefix("\ufeff")


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


def check_file(info: FileInfo, *, declared: str = "utf-8", limits: Limits | None = None) -> CheckedFile:
    """Classify one file: readable or not (and why), its encoding, JSON layout, first line."""
    limits = limits or Limits()
    head = read_head(info.uri, SNIFF_BYTES)
    compressed = _is_gzip(info, head)
    if info.size == 0:
        return CheckedFile(info, compressed, "empty", "the file is empty", "lines", None)
    if compressed:
        problem = _gzip_problem(info, limits)
        if problem:
            return CheckedFile(info, True, problem[0], problem[1], "lines", None)
        head = _decompressed_head(info)
        if not head:
            return CheckedFile(info, True, "empty", "the file is empty once decompressed", "lines", None)
    encoding, mismatch = resolve_encoding(declared, head)
    if mismatch:
        return CheckedFile(info, compressed, "wrong_encoding", mismatch, "lines", None, encoding)
    if looks_binary(head, encoding):
        detail = f"the file is binary, not {encoding.name} text"
        return CheckedFile(info, compressed, "binary", detail, "lines", None, encoding)
    text = decode_head(head, encoding)
    as_utf8 = head if encoding is UTF8 else text.encode("utf-8")
    layout = json_layout(as_utf8, whole_file=len(head) < SNIFF_BYTES)
    return CheckedFile(info, compressed, "ok", "", layout, _first_line(text), encoding)


def check_files(files: list[FileInfo], contract: Contract | None = None) -> list[CheckedFile]:
    """:func:`check_file` for each file, against the contract's encoding and limits."""
    if contract is None:
        return [check_file(f) for f in files]
    declared = declared_encoding(contract)
    return [check_file(f, declared=declared, limits=contract.limits) for f in files]
