"""Compare-and-swap on a lease file: the content of a feed's lease and the stores that hold it.

A :class:`LeaseStore` reads, creates, replaces and deletes one small file, each write only if the file is
still as it was read: :class:`LocalLeaseStore` under an exclusive ``flock`` of a lock file on a local
disk, :class:`S3LeaseStore` with S3 conditional writes (``If-None-Match: *``, ``If-Match: <etag>``).
Holding, renewing and taking over a lease is :mod:`feedguard.lake.lease`.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from feedguard.lake.storage import S3Storage, is_s3, local_path
from feedguard.lake.storage_s3 import split_s3


@dataclass(frozen=True)
class LeaseRecord:
    """The content of a lease file."""

    run_id: str
    token: str
    host: str
    pid: int
    acquired_at: float
    heartbeat_at: float
    expires_at: float

    def to_text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_text(text: str) -> LeaseRecord:
        return LeaseRecord(**json.loads(text))


class LeaseStore(Protocol):
    """Compare-and-swap on one small file."""

    def read(self) -> tuple[LeaseRecord, str] | None:
        """The lease and an opaque version tag, or None when nobody holds it."""

    def create(self, record: LeaseRecord) -> bool:
        """Write the lease only if there is none; True when written."""

    def replace(self, record: LeaseRecord, version: str) -> bool:
        """Overwrite the lease only if it is still at ``version``; True when written."""

    def delete(self, version: str) -> None:
        """Remove the lease if it is still at ``version``."""


class LocalLeaseStore:
    """A lease file on a local disk; every change happens under an exclusive ``flock`` of a lock file."""

    def __init__(self, path: str) -> None:
        self.path = local_path(path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> tuple[LeaseRecord, str] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return LeaseRecord.from_text(text), text
        except (ValueError, TypeError):
            # A half-written lease (its writer died mid-write) holds nothing: treat it as expired.
            return LeaseRecord("?", "?", "?", 0, 0.0, 0.0, 0.0), text

    def _write(self, record: LeaseRecord) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{record.token}")
        tmp.write_text(record.to_text(), encoding="utf-8")
        os.replace(tmp, self.path)

    def read(self) -> tuple[LeaseRecord, str] | None:
        return self._read()

    def create(self, record: LeaseRecord) -> bool:
        with self._locked():
            if self._read() is not None:
                return False
            self._write(record)
            return True

    def replace(self, record: LeaseRecord, version: str) -> bool:
        with self._locked():
            current = self._read()
            if current is None or current[1] != version:
                return False
            self._write(record)
            return True

    def delete(self, version: str) -> None:
        with self._locked():
            current = self._read()
            if current is not None and current[1] == version:
                self.path.unlink(missing_ok=True)


class S3LeaseStore:
    """A lease object on S3, with conditional writes (``If-None-Match: *``, ``If-Match: <etag>``)."""

    def __init__(self, uri: str, client: Any = None) -> None:
        self.bucket, self.key = split_s3(uri)  # taken literally, as every S3 key here
        self.client = client or S3Storage().client

    def read(self) -> tuple[LeaseRecord, str] | None:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            return None
        return LeaseRecord.from_text(obj["Body"].read().decode("utf-8")), str(obj["ETag"])

    def _put(self, record: LeaseRecord, **condition: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=record.to_text().encode("utf-8"), **condition
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                return False
            raise

    def create(self, record: LeaseRecord) -> bool:
        return self._put(record, IfNoneMatch="*")

    def replace(self, record: LeaseRecord, version: str) -> bool:
        return self._put(record, IfMatch=version)

    def delete(self, version: str) -> None:
        current = self.read()
        if current is not None and current[1] == version:
            self.client.delete_object(Bucket=self.bucket, Key=self.key)


def lease_store(path: str) -> LeaseStore:
    return S3LeaseStore(path) if is_s3(path) else LocalLeaseStore(path)
