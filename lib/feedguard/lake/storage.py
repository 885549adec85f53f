"""Small file-system helpers for local paths and ``s3://`` / ``s3a://`` URIs (boto3)."""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass(frozen=True)
class FileInfo:
    """One input file as listed: its URI (as Spark reports it), size and modification time."""

    uri: str
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


def is_s3(path: str) -> bool:
    return urlparse(path).scheme in S3_SCHEMES


def local_path(uri: str) -> Path:
    """``file:///a%20b`` or ``/a b`` to a local Path."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(uri)


def normalise_uri(uri: str) -> str:
    """A comparable form of a file URI (Spark's ``input_file_name`` vs our listing)."""
    if is_s3(uri):
        bucket, key = _split_s3(uri)
        return f"s3://{bucket}/{key}"
    return str(local_path(uri).resolve())


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")


def _split_s3(uri: str) -> tuple[str, str]:
    """Bucket and key, taken literally: ``#`` and ``?`` belong to an S3 key (no fragment, no query)."""
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key.lstrip("/")


def list_files(path: str) -> list[FileInfo]:
    """Files under a file path, folder or glob (hidden files and ``_``-prefixed ones skipped)."""
    if is_s3(path):
        return _list_s3(path)
    matches = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
    found: list[FileInfo] = []
    for match in matches:
        candidate = Path(match)
        if candidate.is_dir():
            files = sorted(p for p in candidate.rglob("*") if p.is_file())
        elif candidate.is_file():
            files = [candidate]
        else:
            files = []
        for file in files:
            if file.name.startswith((".", "_")):
                continue
            stat = file.stat()
            found.append(FileInfo(file.resolve().as_uri(), stat.st_size, stat.st_mtime))
    return sorted(set(found), key=lambda f: f.uri)


def _list_s3(path: str) -> list[FileInfo]:
    bucket, key = _split_s3(path)
    has_magic = glob.has_magic(key)
    prefix = key.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0] if has_magic else key
    client = _s3_client()
    found: list[FileInfo] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            name = obj["Key"]
            if name.endswith("/") or name.rsplit("/", 1)[-1].startswith((".", "_")):
                continue
            if has_magic and not fnmatch.fnmatch(name, key):
                continue
            scheme = urlparse(path).scheme
            found.append(
                FileInfo(f"{scheme}://{bucket}/{name}", obj["Size"], obj["LastModified"].timestamp())
            )
    return found


def open_binary(uri: str) -> IO[bytes]:
    """Open a local or S3 file for streaming reads."""
    if is_s3(uri):
        bucket, key = _split_s3(uri)
        body = _s3_client().get_object(Bucket=bucket, Key=key)["Body"]
        return body  # type: ignore[no-any-return]  # botocore's StreamingBody: read(n) to the end, close()
    return open(local_path(uri), "rb")


def read_head(uri: str, size: int) -> bytes:
    """The first ``size`` bytes of a file."""
    if is_s3(uri):
        bucket, key = _split_s3(uri)
        obj = _s3_client().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max(size - 1, 0)}")
        data: bytes = obj["Body"].read()
        return data
    with open(local_path(uri), "rb") as handle:
        return handle.read(size)


def copy_file(uri: str, target: str) -> None:
    """Copy a file byte for byte to a local or S3 target path."""
    if is_s3(target):
        bucket, key = _split_s3(target)
        with open_binary(uri) as handle:
            _s3_client().upload_fileobj(handle, bucket, key)
        return
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    if is_s3(uri):
        with open_binary(uri) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copyfile(local_path(uri), target)


def write_text(target: str, text: str) -> None:
    """Write a small text file locally or to S3."""
    if is_s3(target):
        bucket, key = _split_s3(target)
        _s3_client().put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))
        return
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{target}.tmp-{os.getpid()}"
    Path(tmp).write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def iter_chunks(handle: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def join(base: str, *parts: str) -> str:
    """Join a local path or URI with more parts."""
    if is_s3(base):
        return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])
    return str(Path(local_path(base), *parts))


def remove_path(target: str) -> None:
    """Delete a file or a whole folder (an S3 prefix) if it exists."""
    if is_s3(target):
        bucket, key = _split_s3(target)
        client = _s3_client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        return
    path = local_path(target)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def list_names(folder: str) -> list[str]:
    """The names of the files directly in a folder (an S3 prefix); empty when it does not exist."""
    if is_s3(folder):
        bucket, key = _split_s3(folder)
        prefix = key.rstrip("/") + "/"
        names: list[str] = []
        for page in _s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            inside = [o["Key"][len(prefix) :] for o in page.get("Contents", [])]
            names += [name for name in inside if "/" not in name]
        return sorted(names)
    path = local_path(folder)
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []


def list_folders(folder: str) -> list[str]:
    """The names of the folders directly in a folder (S3: common prefixes); empty when there is none."""
    if is_s3(folder):
        bucket, key = _split_s3(folder)
        prefix = key.rstrip("/") + "/"
        paginator = _s3_client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        found = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        return sorted(name[len(prefix) :].rstrip("/") for name in found)
    path = local_path(folder)
    return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def read_text(target: str) -> str:
    """Read a small UTF-8 text file, local or on S3."""
    if is_s3(target):
        bucket, key = _split_s3(target)
        body: bytes = _s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body.decode("utf-8")
    return local_path(target).read_text(encoding="utf-8")


_GLOB_CHARS = "\\[]{}*?"


def spark_path(uri: str) -> str:
    """The path to hand Spark for a listed file: decoded (``file:///a%20b`` is ``a b`` on disk, Hadoop
    would look for ``a%20b``) and with glob characters escaped (Spark globs every path it reads)."""
    if not uri.startswith("file:"):
        return uri
    path = str(local_path(uri))
    return "file://" + "".join("\\" + ch if ch in _GLOB_CHARS else ch for ch in path)
