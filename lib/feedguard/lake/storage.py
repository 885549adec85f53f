"""Storage behind one interface: local disk or Amazon S3, chosen by the path's scheme.

:class:`Storage` is what the lake needs of a file system; :class:`LocalStorage` and :class:`S3Storage`
implement it, and :func:`storage_for` picks one for a path. The module functions below are the
interface as the rest of the code calls it (``read_text(uri)``, ``list_files(path)``, ...): they
dispatch on the scheme, so no caller branches on local vs S3. Spark reads and writes the Delta tables
itself (through Hadoop's file systems); this module serves everything else: listing and reading
input files, quarantine copies, run summaries, leases and the Data Docs upload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol
from urllib.parse import urlparse

from feedguard.lake.files import FileInfo, is_hidden
from feedguard.lake.storage_local import LocalStorage, local_path
from feedguard.lake.storage_s3 import S3_SCHEMES, S3Storage, split_s3

__all__ = [
    "FileInfo",
    "LocalStorage",
    "S3Storage",
    "Storage",
    "copy_file",
    "is_hidden",
    "is_s3",
    "iter_chunks",
    "join",
    "list_files",
    "list_folders",
    "list_names",
    "local_path",
    "normalise_uri",
    "open_binary",
    "read_head",
    "read_text",
    "remove_path",
    "spark_path",
    "storage_for",
    "write_text",
]


class Storage(Protocol):
    """What the lake needs of a file system (paths are local paths or URIs of that storage)."""

    def list_files(self, path: str) -> list[FileInfo]:
        """Files under a file path, folder, prefix or glob; hidden and ``_``-prefixed names skipped."""
        ...

    def open_binary(self, uri: str) -> IO[bytes]:
        """A stream of the file's bytes (read to the end, then close)."""
        ...

    def read_head(self, uri: str, size: int) -> bytes:
        """The first ``size`` bytes."""
        ...

    def write_stream(self, target: str, source: IO[bytes]) -> None:
        """Write a file from a stream, byte for byte."""
        ...

    def write_text(self, target: str, text: str) -> None:
        """Write a small UTF-8 text file (replacing it)."""
        ...

    def read_text(self, target: str) -> str:
        """Read a small UTF-8 text file."""
        ...

    def join(self, base: str, *parts: str) -> str:
        """A path below ``base``."""
        ...

    def remove(self, target: str) -> None:
        """Delete a file or a whole folder (prefix) if it exists."""
        ...

    def list_names(self, folder: str) -> list[str]:
        """Names of the files directly in a folder; empty when it does not exist."""
        ...

    def list_folders(self, folder: str) -> list[str]:
        """Names of the folders directly in a folder; empty when there is none."""
        ...

    def exists(self, target: str) -> bool:
        """Whether a file or folder (a non-empty prefix) exists."""
        ...


_LOCAL = LocalStorage()
_S3 = S3Storage()


def is_s3(path: str) -> bool:
    return urlparse(path).scheme in S3_SCHEMES


def storage_for(path: str) -> Storage:
    """The storage a path lives on (S3 for ``s3://``, ``s3a://``, ``s3n://``; else the local disk)."""
    return _S3 if is_s3(path) else _LOCAL


def normalise_uri(uri: str) -> str:
    """A comparable form of a file URI (Spark's ``input_file_name`` vs our listing)."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return f"s3://{bucket}/{key}"
    return str(local_path(uri).resolve())


def list_files(path: str) -> list[FileInfo]:
    """Files under a file path, folder or glob (hidden files and ``_``-prefixed ones skipped)."""
    return storage_for(path).list_files(path)


def open_binary(uri: str) -> IO[bytes]:
    """Open a local or S3 file for streaming reads."""
    return storage_for(uri).open_binary(uri)


def read_head(uri: str, size: int) -> bytes:
    """The first ``size`` bytes of a file."""
    return storage_for(uri).read_head(uri, size)


def copy_file(uri: str, target: str) -> None:
    """Copy a file byte for byte, between any two storages."""
    with open_binary(uri) as source:
        storage_for(target).write_stream(target, source)


def write_text(target: str, text: str) -> None:
    """Write a small text file locally (atomically) or to S3."""
    storage_for(target).write_text(target, text)


def read_text(target: str) -> str:
    """Read a small UTF-8 text file, local or on S3."""
    return storage_for(target).read_text(target)


def iter_chunks(handle: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def join(base: str, *parts: str) -> str:
    """Join a local path or URI with more parts."""
    return storage_for(base).join(base, *parts)


def remove_path(target: str) -> None:
    """Delete a file or a whole folder (an S3 prefix) if it exists."""
    storage_for(target).remove(target)


def list_names(folder: str) -> list[str]:
    """The names of the files directly in a folder (an S3 prefix); empty when it does not exist."""
    return storage_for(folder).list_names(folder)


def list_folders(folder: str) -> list[str]:
    """The names of the folders directly in a folder (S3: common prefixes); empty when there is none."""
    return storage_for(folder).list_folders(folder)


_GLOB_CHARS = "\\[]{}*?"


def spark_path(uri: str) -> str:
    """The path to hand Spark for a listed file: decoded (``file:///a%20b`` is ``a b`` on disk, Hadoop
    would look for ``a%20b``) and with glob characters escaped (Spark globs every path it reads)."""
    if not uri.startswith("file:"):
        return uri
    path = str(local_path(uri))
    return "file://" + "".join("\\" + ch if ch in _GLOB_CHARS else ch for ch in path)
