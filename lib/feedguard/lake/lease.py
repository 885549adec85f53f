"""A lease per feed in the lake: one run of a source/dataset at a time, crashed holders taken over safely.

``<lake>/_leases/<source>/<dataset>.json`` names its holder (run id, host, process), when it was taken
and when it expires. The holder renews it from a background thread (a heartbeat) and checks that it
still holds it before each commit. Another run finds the lease held and waits (``--lease_wait_seconds``)
or stops with exit 75 (retry later); a lease whose heartbeat stopped (the holder died) expires and is
taken over, and only then does the new holder undo the dead run's partial output.

Taking a lease is a compare-and-swap on the lease file (:mod:`feedguard.lake.lease_store`): under an
exclusive ``flock`` on a local disk, S3 conditional writes (``If-None-Match`` / ``If-Match``) on ``s3://``.

Example::

    with hold_lease(lake.lease("quickbite", "orders"), run_id, ttl_seconds=600) as lease:
        ...  # recover, ingest; lease.check() before each commit
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict

from feedguard.errors import LeaseHeldError, LeaseLostError
from feedguard.lake.lease_store import LeaseRecord, LeaseStore, lease_store

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600.0
HEARTBEATS_PER_TTL = 4
WAIT_POLL_SECONDS = 2.0


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
