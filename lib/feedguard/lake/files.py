"""One listed input file (URI, size, modification time), and which names are never input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileInfo:
    """One input file as listed: its URI (as Spark reports it), size and modification time."""

    uri: str
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


def is_hidden(name: str) -> bool:
    """Hidden files and ``_``-prefixed ones (``_SUCCESS``, ``.crc``, editor files) are never input."""
    return name.startswith((".", "_"))
