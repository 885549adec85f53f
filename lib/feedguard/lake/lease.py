"""A lease per feed in the lake: one run of a source/dataset at a time, crashed holders taken over safely.

``<lake>/_leases/<source>/<dataset>.json`` names its holder (run id, host, process), when it was taken
and when it expires. The holder renews it from a background thread (a heartbeat) and checks that it
still holds it before each commit. Another run finds the lease held and waits (``--lease_wait_seconds``)
or stops with exit 75 (retry later); a lease whose heartbeat stopped (the holder died) expires and is
taken over, and only then does the new holder undo the dead run's partial output.

Taking a lease is a compare-and-swap on the lease file: under an exclusive ``flock`` on a local disk, S3
conditional writes (``If-None-Match`` / ``If-Match``) on ``s3://``.

Example::

    with hold_lease(lake.lease("quickbite", "orders"), run_id, ttl_seconds=600) as lease:
        ...  # recover, ingest; lease.check() before each commit
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from feedguard.errors import LeaseHeldError, LeaseLostError
from feedguard.lake.storage import S3Storage, is_s3, local_path
from feedguard.lake.storage_s3 import split_s3

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600.0
HEARTBEATS_PER_TTL = 4
WAIT_POLL_SECONDS = 2.0


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


class Lease:
    """A held lease: renewed in the background, checked before commits, released at the end."""

    def __init__(
        self, store: LeaseStore, record: LeaseRecord, version: str, ttl: float, clock: Callable[[], float]
    ) -> None:
        self.store, self.record, self.version, self.ttl, self.clock = store, record, version, ttl, clock
        self.lost: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def renew(self) -> None:
        """Push the expiry forward; note the loss if another run took the lease."""
        with self._lock:
            if self.lost:
                return
            current = self.store.read()
            if current is None or current[0].token != self.record.token:
                holder = current[0].run_id if current else "nobody"
                self.lost = f"the lease was taken over (now held by {holder})"
                return
            now = self.clock()
            renewed = LeaseRecord(
                **{**asdict(self.record), "heartbeat_at": now, "expires_at": now + self.ttl}
            )
            if self.store.replace(renewed, current[1]):
                after = self.store.read()
                self.record, self.version = renewed, after[1] if after else renewed.to_text()
            else:
                self.lost = "the lease changed under its holder"

    def check(self) -> None:
        """Raise :class:`LeaseLostError` when this run no longer holds its lease (before a commit)."""
        if self.lost is None and self.clock() > self.record.expires_at:
            self.renew()
        if self.lost:
            raise LeaseLostError(f"run {self.record.run_id} lost its lease: {self.lost}; it stops here")

    def start_heartbeat(self) -> None:
        interval = self.ttl / HEARTBEATS_PER_TTL

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    self.renew()
                except Exception:  # a failed heartbeat is retried; check() decides at the next commit
                    log.warning("lease heartbeat failed", exc_info=True)

        self._thread = threading.Thread(target=beat, name="feedguard-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if not self.lost:
                self.store.delete(self.version)


def _describe(record: LeaseRecord, now: float) -> str:
    return (
        f"run {record.run_id} (host {record.host}, pid {record.pid}, "
        f"heartbeat {max(0.0, now - record.heartbeat_at):.0f} s ago, expires in "
        f"{max(0.0, record.expires_at - now):.0f} s)"
    )


def acquire_lease(
    store: LeaseStore,
    run_id: str,
    *,
    feed: str,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = 0.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Lease:
    """Take the feed's lease (or an expired one); wait up to ``wait_seconds``, else raise LeaseHeldError."""
    deadline = clock() + wait_seconds
    while True:
        now = clock()
        record = LeaseRecord(
            run_id, uuid.uuid4().hex, socket.gethostname(), os.getpid(), now, now, now + ttl_seconds
        )
        current = store.read()
        if current is None:
            taken = store.create(record)
        elif current[0].expires_at < now:
            log.warning("the lease of %s expired (%s): taking it over", feed, _describe(current[0], now))
            taken = store.replace(record, current[1])
        else:
            taken = False
        if taken:
            after = store.read()
            if after is not None and after[0].token == record.token:
                return Lease(store, record, after[1], ttl_seconds, clock)
        if clock() >= deadline:
            holder = store.read()
            who = _describe(holder[0], clock()) if holder else "another run"
            raise LeaseHeldError(
                f"{feed} is being ingested by {who}; this run did nothing. Retry later, "
                "or wait for it with --lease_wait_seconds N"
            )
        sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - clock())))


@contextmanager
def hold_lease(
    path: str,
    run_id: str,
    *,
    feed: str,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = 0.0,
    heartbeat: bool = True,
) -> Iterator[Lease]:
    """Hold the lease at ``path`` for the duration of the block."""
    lease = acquire_lease(
        lease_store(path), run_id, feed=feed, ttl_seconds=ttl_seconds, wait_seconds=wait_seconds
    )
    if heartbeat:
        lease.start_heartbeat()
    try:
        yield lease
    finally:
        lease.release()
