"""Ask the FoodNow consumer service for its ``/healthz`` answer (state, last success, broker, lag).

The service (``ingest_kafka.py --continuous --health_address HOST:PORT``) answers 200 while healthy and 503
with the same JSON body when not; both are an answer. A service that does not answer in
``TIMEOUT_SECONDS``, or answers something else, is a :class:`ServiceStatus` with ``reachable=False`` and the
reason, never an error: the site is built anyway.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from feedguard.health.model import ServiceStatus

TIMEOUT_SECONDS: Final = 3.0
HEALTH_PATH: Final = "/healthz"
MAX_BODY_BYTES: Final = 64 * 1024


class NotAHealthAnswer(ValueError):
    """The URL answered, but not with the service's ``/healthz`` JSON."""


def healthz_url(url: str) -> str:
    """``http://host:8080`` -> ``http://host:8080/healthz``; a URL with a path is kept as given."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotAHealthAnswer(f"not an http(s) URL: {url!r}")
    path = parts.path if parts.path not in ("", "/") else HEALTH_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _read(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status), answer.read(MAX_BODY_BYTES)
    except urllib.error.HTTPError as exc:  # 503: unhealthy, the body is still the snapshot
        with exc:
            return int(exc.code), exc.read(MAX_BODY_BYTES)


def _snapshot(code: int, body: bytes) -> dict[str, Any]:
    try:
        snapshot = json.loads(body.decode("utf-8"))
    except ValueError:
        snapshot = None
    if not isinstance(snapshot, dict) or "status" not in snapshot:
        raise NotAHealthAnswer(f"HTTP {code}, but not the service's /healthz JSON: {body[:80]!r}")
    return snapshot


def service_status(url: str, timeout: float = TIMEOUT_SECONDS) -> ServiceStatus:
    """The service's health at ``url`` (never raises for a service that is down or not a service)."""
    try:
        target = healthz_url(url)
        code, body = _read(target, timeout)
        snapshot = _snapshot(code, body)
    except urllib.error.URLError as exc:
        return ServiceStatus(url, False, f"{type(exc).__name__}: {exc.reason}")
    except (
        OSError,
        http.client.HTTPException,
        NotAHealthAnswer,
    ) as exc:  # timeouts, resets, another server's answer
        return ServiceStatus(url, False, f"{type(exc).__name__}: {exc}")
    return ServiceStatus(target, True, http_status=code, snapshot=snapshot)
