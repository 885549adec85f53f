"""Amazon S3 storage (``s3://``, ``s3a://``, ``s3n://``) through boto3: a ``storage.Storage``.

Keys are taken literally (``#`` and ``?`` are key characters, not a fragment or a query). A path names
what it names on a local disk: the object with exactly that key, or the "folder" of the keys below
``<key>/``, never the other keys that merely start with the same letters (``a.json`` is not ``a.jsonl``,
``in`` is not ``in-other/``, run ``r1`` is not run ``r10``). The client honours ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL`` (a moto server in tests).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlparse

from feedguard.lake.files import FileInfo, is_hidden

S3_SCHEMES = ("s3", "s3a", "s3n")
# The environment variables a default boto3 S3 client depends on; a client is kept per combination.
CLIENT_SETTINGS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
)
NOT_FOUND = ("404", "NoSuchKey", "NotFound")  # what HEAD of a missing key answers
_CLIENTS: dict[tuple[str | None, ...], Any] = {}


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A key glob as the local file system reads it: ``*`` and ``?`` stop at ``/``, ``**`` crosses folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def folder_prefix(key: str) -> str:
    """The prefix of the keys inside the folder ``key``: ``in`` or ``in/`` -> ``in/``; the root -> ``""``."""
    stem = key.strip("/")
    return f"{stem}/" if stem else ""


def is_at_or_below(name: str, key: str) -> bool:
    """Whether the object ``name`` is the file ``key`` itself or inside the folder ``key``."""
    stem = key.rstrip("/")
    return name == stem or name.startswith(folder_prefix(stem))


def split_s3(uri: str) -> tuple[str, str]:
    """Bucket and key, taken literally: ``#`` and ``?`` belong to an S3 key (no fragment, no query)."""
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key.lstrip("/")


class S3Storage:
    """Objects in S3 buckets; ``client`` is a boto3 S3 client (built on first use when not given)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The given client, else one for the current AWS settings (a new one when they change)."""
        if self._client is not None:
            return self._client
        settings = tuple(os.environ.get(name) for name in CLIENT_SETTINGS)
        if settings not in _CLIENTS:
            import boto3

            _CLIENTS[settings] = boto3.client("s3")
        return _CLIENTS[settings]

    def _objects(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def list_files(self, path: str) -> list[FileInfo]:
        bucket, key = split_s3(path)
        has_magic = glob.has_magic(key)
        prefix = key.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0] if has_magic else key
        scheme = urlparse(path).scheme
        pattern = glob_regex(key)
        found: list[FileInfo] = []
        for obj in self._objects(bucket, prefix):
            name = obj["Key"]
            if name.endswith("/") or is_hidden(name.rsplit("/", 1)[-1]):
                continue
            if pattern.match(name) if has_magic else is_at_or_below(name, key):
                uri = f"{scheme}://{bucket}/{name}"
                found.append(FileInfo(uri, obj["Size"], obj["LastModified"].timestamp()))
        return found

    def open_binary(self, uri: str) -> IO[bytes]:
        bucket, key = split_s3(uri)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        return body  # type: ignore[no-any-return]  # botocore's StreamingBody: read(n) to the end, close()

    def read_head(self, uri: str, size: int) -> bytes:
        bucket, key = split_s3(uri)
        obj = self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max(size - 1, 0)}")
        data: bytes = obj["Body"].read()
        return data

    def write_stream(self, target: str, source: IO[bytes]) -> None:
        bucket, key = split_s3(target)
        self.client.upload_fileobj(source, bucket, key)

    def write_text(self, target: str, text: str) -> None:
        bucket, key = split_s3(target)
        self.client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))

    def read_text(self, target: str) -> str:
        bucket, key = split_s3(target)
        body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body.decode("utf-8")

    def join(self, base: str, *parts: str) -> str:
        return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])

    def remove(self, target: str) -> None:
        bucket, key = split_s3(target)
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", []) if is_at_or_below(o["Key"], key)]
            if keys:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": keys})

    def list_names(self, folder: str) -> list[str]:
        bucket, key = split_s3(folder)
        prefix = folder_prefix(key)
        inside = (o["Key"][len(prefix) :] for o in self._objects(bucket, prefix))
        return sorted(name for name in inside if "/" not in name)

    def list_folders(self, folder: str) -> list[str]:
        bucket, key = split_s3(folder)
        prefix = folder_prefix(key)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        )
        found = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        return sorted(name[len(prefix) :].rstrip("/") for name in found)

    def exists(self, target: str) -> bool:
        """The object with exactly this key, or a folder (any key below ``<key>/``), as a local path."""
        bucket, key = split_s3(target)
        stem = key.rstrip("/")
        if stem and self._has_object(bucket, stem):
            return True
        found = self.client.list_objects_v2(Bucket=bucket, Prefix=folder_prefix(stem), MaxKeys=1)
        return bool(found.get("Contents"))

    def _has_object(self, bucket: str, key: str) -> bool:
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND:
                return False
            raise
        return True
