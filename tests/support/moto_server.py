"""A moto server on 127.0.0.1 (real HTTP, no patching of boto3) and a proxy that throttles it.

Example::

    with running_moto_server() as moto:
        cloudwatch = moto.client("cloudwatch")
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # moto's default account


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_endpoint() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


def dummy_session() -> boto3.Session:
    """A boto3 session with dummy credentials, set on the session (the process environment is untouched)."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@dataclass
class MotoEndpoint:
    url: str
    session: boto3.Session = field(default_factory=dummy_session)

    def client(self, service: str, url: str | None = None) -> Any:
        return self.session.client(service, endpoint_url=url or self.url)

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10
        )

    def data(self) -> dict[str, Any]:
        """moto's own inspection of every backend (``/moto-api/data.json``)."""
        with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=10) as response:
            loaded: dict[str, Any] = json.load(response)
            return loaded

    def sns_notifications(self, topic_arn: str) -> list[list[Any]]:
        """``[message_id, message, subject, attributes, group_id]`` per publish to the topic."""
        topics = self.data()["sns"]["Topic"]
        return next(list(t["sent_notifications"]) for t in topics if t["arn"] == topic_arn)


@contextmanager
def running_moto_server() -> Iterator[MotoEndpoint]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoEndpoint(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    raise ValueError("text too long for this tiny encoder")


def cbor_error_body(error_type: str, message: str) -> bytes:
    """The Smithy RPC v2 CBOR error document ``{"__type": ..., "message": ...}``."""
    return (
        bytes([0xA2])
        + _cbor_text("__type")
        + _cbor_text(error_type)
        + _cbor_text("message")
        + _cbor_text(message)
    )


@dataclass
class ThrottlingProxy:
    """Forwards to moto, answering the first ``throttle`` PutMetricData calls with a Throttling error.

    ``request_sizes`` records the uncompressed body size of every PutMetricData request
    (botocore gzips large CloudWatch requests).
    """

    url: str
    throttle: int = 0
    error: str = "Throttling"
    put_requests: int = 0
    request_sizes: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def throttling_proxy(target: str, throttle: int, error: str = "Throttling") -> Iterator[ThrottlingProxy]:
    """A local HTTP proxy to ``target``; its first ``throttle`` PutMetricData requests fail with ``error``."""
    port = free_port()
    proxy = ThrottlingProxy(f"http://127.0.0.1:{port}", throttle=throttle, error=error)
    upstream = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            if target.endswith(".PutMetricData") or self.path.endswith("/operation/PutMetricData"):
                with proxy.lock:
                    proxy.put_requests += 1
                    gzipped = self.headers.get("Content-Encoding", "") == "gzip"
                    proxy.request_sizes.append(len(gzip.decompress(body) if gzipped else body))
                    throttled = proxy.put_requests <= proxy.throttle
                if throttled:
                    self._throttle(cbor=not target)
                    return
            conn = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request("POST", self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            skip = ("transfer-encoding", "connection", "content-length", "server", "date")
            passed = {k: v for k, v in response.getheaders() if k.lower() not in skip}
            conn.close()
            self._answer(response.status, passed, payload)

        def _throttle(self, cbor: bool) -> None:
            """CloudWatch's error in the protocol of the request (AWS JSON 1.0 or RPC v2 CBOR)."""
            error_type, message = f"com.amazonaws.cloudwatch#{proxy.error}", "injected by the test proxy"
            headers = {"x-amzn-query-error": f"{proxy.error};Sender"}
            if cbor:
                headers.update({"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"})
                body = cbor_error_body(error_type, message)
            else:
                headers["Content-Type"] = "application/x-amz-json-1.0"
                body = json.dumps({"__type": error_type, "message": message}).encode()
            self._answer(400, headers, body)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
