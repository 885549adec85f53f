"""The Kafka service's health: what it is doing, when it last got somewhere, and ``/healthz`` over HTTP.

:class:`ServiceHealth` is updated by the service loop (:mod:`feedguard.kafka.service`) and read by a small
stdlib HTTP server on a daemon thread (:func:`serve_health`), which the container health check asks.

``GET /healthz`` answers 200 while the service is healthy and 503 when it is not, with a JSON body::

    {"status": "healthy", "state": "idle", "last_success_at": "2026-12-02T10:00:00Z",
     "seconds_since_progress": 12.5, "broker_reachable": true, "consumer_lag": 0, ...}

``GET /`` shows the same as a small HTML page (the local health page). *Progress* is a batch committed, a
poll that found the consumer caught up, or a write stage of the running batch; the service is unhealthy
when nothing progressed for ``unhealthy_after`` seconds (outside a declared maintenance window), e.g.
when the broker stayed away past the outage window and the consumer restarts kept failing: the
orchestrator then replaces the task.

Example::

    health = ServiceHealth(unhealthy_after=2100)
    with serve_health(health, ("127.0.0.1", 8080)) as (host, port):
        health.batch_done(summary)   # after each batch
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from feedguard.errors import UsageError
from feedguard.summary import RunSummary

log = logging.getLogger(__name__)

STARTING = "starting"  # JVM starting, waiting for the feed's lease
INGESTING = "ingesting"  # a batch is running
IDLE = "idle"  # caught up, waiting for the next poll
WAITING_FOR_BROKER = "waiting_for_broker"  # inside the outage window, backing off
RESTARTING = "restarting_consumer"  # the broker stayed away past the window: a fresh consumer after a backoff
STOPPING = "stopping"  # a stop signal arrived: finishing (or abandoning) the current batch
STOPPED = "stopped"
HEALTHY, UNHEALTHY = "healthy", "unhealthy"
HTTP_OK, HTTP_UNAVAILABLE, HTTP_NOT_FOUND = 200, 503, 404


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class ServiceHealth:
    """Thread-safe state of the service; :meth:`snapshot` is what ``/healthz`` returns."""

    def __init__(
        self,
        *,
        unhealthy_after: float,
        clock: Callable[[], float] = time.time,
        in_maintenance_window: Callable[[float], bool] = lambda now: False,
    ) -> None:
        self.unhealthy_after = unhealthy_after
        self.clock = clock
        self.in_maintenance_window = in_maintenance_window
        self._lock = threading.Lock()
        now = clock()
        self._fields: dict[str, Any] = {
            "state": STARTING,
            "started_at": now,
            "last_progress_at": now,
            "last_success_at": None,
            "broker_reachable": None,
            "consumer_lag": None,
            "last_run_id": None,
            "last_status": None,
            "last_error": None,
            "batches": 0,
            "restarts": 0,
        }

    def _set(self, **fields: Any) -> None:
        with self._lock:
            if self._fields["state"] in (STOPPING, STOPPED) and fields.get("state") not in (None, STOPPED):
                fields["state"] = self._fields["state"]  # once stopping, only "stopped" follows
            self._fields.update(fields)

    def set_state(self, state: str) -> None:
        self._set(state=state)

    def ingesting(self) -> None:
        self.set_state(INGESTING)

    def idle(self) -> None:
        self.set_state(IDLE)

    def stopping(self) -> None:
        self.set_state(STOPPING)

    def stopped(self) -> None:
        self.set_state(STOPPED)

    def progressed(self) -> None:
        """Something moved (a write stage of the running batch)."""
        self._set(last_progress_at=self.clock())

    def caught_up(self, lag: int = 0) -> None:
        """A poll found nothing new: the consumer is caught up and the broker answers."""
        now = self.clock()
        self._set(last_progress_at=now, last_success_at=now, broker_reachable=True, consumer_lag=lag)

    def broker_unreachable(self, error: str) -> None:
        """A broker call failed (the outage guard is backing off)."""
        self._set(state=WAITING_FOR_BROKER, broker_reachable=False, last_error=error[:300])

    def restarting(self, error: str) -> None:
        """The batch gave up on the broker (past the window): the consumer restarts after a backoff."""
        self._set(state=RESTARTING, broker_reachable=False, last_error=error[:300])
        with self._lock:
            self._fields["restarts"] += 1

    def batch_done(self, summary: RunSummary) -> None:
        """Record a finished run of the loop (a batch, or a run that found nothing new)."""
        now = self.clock()
        with self._lock:
            self._fields.update(last_run_id=summary.get("run_id"), last_status=summary.get("status"))
            if summary.get("exit_code"):
                return
            lag = summary.get("consumer_lag_after_run") or {}
            self._fields.update(
                last_progress_at=now,
                last_success_at=now,
                broker_reachable=True,
                consumer_lag=sum(int(n) for n in lag.values()),
                last_error=None,
            )
            if summary.get("batch_seq") is not None:
                self._fields["batches"] += 1

    def snapshot(self) -> dict[str, Any]:
        """The JSON ``/healthz`` returns; ``status`` is healthy or unhealthy."""
        now = self.clock()
        with self._lock:
            fields = dict(self._fields)
        since = now - fields["last_progress_at"]
        stale = since > self.unhealthy_after and not self.in_maintenance_window(now)
        healthy = fields["state"] != STOPPED and not stale
        return {
            "status": HEALTHY if healthy else UNHEALTHY,
            "state": fields["state"],
            "started_at": _iso(fields["started_at"]),
            "last_success_at": _iso(fields["last_success_at"]),
            "last_progress_at": _iso(fields["last_progress_at"]),
            "seconds_since_progress": round(since, 3),
            "unhealthy_after_seconds": self.unhealthy_after,
            "broker_reachable": fields["broker_reachable"],
            "consumer_lag": fields["consumer_lag"],
            "last_run_id": fields["last_run_id"],
            "last_status": fields["last_status"],
            "last_error": fields["last_error"],
            "batches": fields["batches"],
            "restarts": fields["restarts"],
        }


def health_address(text: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (port 0: any free port) -> (host, port); ``none`` or empty: no endpoint."""
    value = (text or "").strip()
    if value.lower() in ("", "none"):
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65_535:
        raise UsageError(f"--health_address expects HOST:PORT (e.g. 0.0.0.0:8080) or none, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def health_page(snapshot: Mapping[str, Any]) -> str:
    """The snapshot as a small HTML table (every value escaped)."""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in snapshot.items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>feedguard service health</title></head>"
        f"<body><h1>feedguard service: {html.escape(str(snapshot['status']))}</h1><table>{rows}</table>"
        "</body></html>"
    )


def _handler(health: ServiceHealth) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            path = self.path.split("?", 1)[0]
            if path not in ("/healthz", "/"):
                self._send(HTTP_NOT_FOUND, "text/plain", b"not found: try /healthz\n")
                return
            snapshot = health.snapshot()
            code = HTTP_OK if snapshot["status"] == HEALTHY else HTTP_UNAVAILABLE
            if path == "/healthz":
                self._send(code, "application/json", json.dumps(snapshot).encode("utf-8"))
            else:
                self._send(code, "text/html; charset=utf-8", health_page(snapshot).encode("utf-8"))

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("health endpoint: " + format, *args)

    return HealthHandler


@contextmanager
def serve_health(health: ServiceHealth, address: tuple[str, int] | None) -> Iterator[tuple[str, int] | None]:
    """Serve ``health`` at ``address`` (port 0: any free port) on a daemon thread; yield the bound address.

    ``address`` None serves nothing (yields None).
    """
    if address is None:
        yield None
        return
    try:
        server = ThreadingHTTPServer(address, _handler(health))
    except OSError as exc:
        raise UsageError(f"--health_address {address[0]}:{address[1]}: cannot listen there: {exc}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="feedguard-health", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    log.info("health endpoint on http://%s:%d/healthz", host, port)
    try:
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
