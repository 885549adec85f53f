"""A local HTTP server that receives webhook posts (Slack's incoming-webhook stand-in).

Example::

    with webhook_receiver(statuses=[500, 200]) as hook:
        ...  # post to hook.url("/services/T0/B0/secret")
        hook.posts[0].json
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Post:
    path: str
    content_type: str
    json: Any


@dataclass
class WebhookReceiver:
    base: str
    statuses: list[int]
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/services/T000/B000/XXXX") -> str:
        return f"{self.base}{path}"


@contextmanager
def webhook_receiver(statuses: Sequence[int] = ()) -> Iterator[WebhookReceiver]:
    """Answers each post with the next status from ``statuses`` (then 200) and records its JSON."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}", list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.posts.append(Post(self.path, self.headers.get("Content-Type", ""), json.loads(body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            answer = b"ok" if status == 200 else b"server_error"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
