"""Local file system storage (paths and ``file://`` URIs): one implementation of ``storage.Storage``."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

from feedguard.lake.files import FileInfo, is_hidden


def local_path(uri: str) -> Path:
    """``file:///a%20b`` or ``/a b`` to a local Path."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(uri)


class LocalStorage:
    """Files on this machine's disk; a text write is atomic (a temporary file, then a rename)."""

    def list_files(self, path: str) -> list[FileInfo]:
        matches = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
        found: list[FileInfo] = []
        for match in matches:
            candidate = Path(match)
            if candidate.is_dir():
                files = sorted(p for p in candidate.rglob("*") if p.is_file())
            else:
                files = [candidate] if candidate.is_file() else []
            for file in files:
                if not is_hidden(file.name):
                    stat = file.stat()
                    found.append(FileInfo(file.resolve().as_uri(), stat.st_size, stat.st_mtime))
        return sorted(set(found), key=lambda f: f.uri)

    def open_binary(self, uri: str) -> IO[bytes]:
        return open(local_path(uri), "rb")

    def read_head(self, uri: str, size: int) -> bytes:
        with open(local_path(uri), "rb") as handle:
            return handle.read(size)

    def write_stream(self, target: str, source: IO[bytes]) -> None:
        path = local_path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            shutil.copyfileobj(source, out)

    def write_text(self, target: str, text: str) -> None:
        path = local_path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def read_text(self, target: str) -> str:
        return local_path(target).read_text(encoding="utf-8")

    def join(self, base: str, *parts: str) -> str:
        return str(Path(local_path(base), *parts))

    def remove(self, target: str) -> None:
        path = local_path(target)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def list_names(self, folder: str) -> list[str]:
        path = local_path(folder)
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def list_folders(self, folder: str) -> list[str]:
        path = local_path(folder)
        return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []

    def exists(self, target: str) -> bool:
        return local_path(target).exists()
