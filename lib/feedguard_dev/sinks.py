"""Local alert sinks for ``make run``: a Slack-compatible webhook receiver and an SNS email sink.

Both are small HTTP servers on 127.0.0.1 that save every message they receive as a file, so a run's
alerts can be read without Slack or AWS:

- :func:`slack_sink`: answers Slack incoming-webhook posts (``{"text": ...}``) with ``ok`` and saves the
  JSON body as ``<folder>/NNN-slack.json``; point ``FEEDGUARD_SLACK_WEBHOOK_URL`` at :attr:`Sink.url`.
- :func:`email_sink`: answers SNS ``Publish`` calls (the query protocol boto3 speaks) like SNS does, and
  saves each as an e-mail, ``<folder>/NNN-email.eml`` (Subject, the attributes as headers, the text);
  point ``FEEDGUARD_SNS_ENDPOINT`` at :attr:`Sink.url`.

Example::

    with slack_sink(Path("lake/_alerts/sinks/slack")) as slack:
        os.environ["FEEDGUARD_SLACK_WEBHOOK_URL"] = slack.url + "/services/T0/B0/local"
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"


@dataclass
class Sink:
    """A running sink: its base URL, the folder it saves to, and the files saved so far."""

    url: str
    folder: Path
    saved: list[Path] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, suffix: str, text: str) -> Path:
        with self.lock:
            path = self.folder / f"{len(self.saved) + 1:03d}-{suffix}"
            path.write_text(text, encoding="utf-8")
            self.saved.append(path)
            return path


Answer = tuple[int, str, bytes]  # status, content type, body


@contextmanager
def _serve(folder: Path, handle: Callable[[Sink, str, str, bytes], Answer]) -> Iterator[Sink]:
    folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    sink = Sink(f"http://127.0.0.1:{server.server_address[1]}", folder)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, ctype, answer = handle(sink, self.path, self.headers.get("Content-Type", ""), body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


def _slack(sink: Sink, path: str, ctype: str, body: bytes) -> Answer:
    try:
        payload = json.loads(body)
    except ValueError:
        return 400, "text/plain", b"invalid_payload"
    sink.save("slack.json", json.dumps({"path": path, "payload": payload}, indent=2) + "\n")
    return 200, "text/plain", b"ok"


def slack_sink(folder: Path) -> Any:
    """A Slack-compatible incoming-webhook receiver that saves each post (a context manager)."""
    return _serve(folder, _slack)


def _attributes(form: dict[str, list[str]]) -> dict[str, str]:
    out = {}
    for key, values in form.items():
        if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
            prefix = key[: -len("Name")]
            out[values[0]] = form.get(prefix + "Value.StringValue", [""])[0]
    return out


def _email(sink: Sink, path: str, ctype: str, body: bytes) -> Answer:
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if form.get("Action", [""])[0] != "Publish":
        return 400, "text/xml", b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>"
    headers = [f"To: {form.get('TopicArn', [''])[0]}", f"Subject: {form.get('Subject', [''])[0]}"]
    headers += [f"X-Feedguard-{name.title()}: {value}" for name, value in _attributes(form).items()]
    sink.save("email.eml", "\n".join(headers) + "\n\n" + form.get("Message", [""])[0] + "\n")
    message_id = uuid.uuid4()
    answer = (
        f'<PublishResponse xmlns="{SNS_NS}"><PublishResult><MessageId>{message_id}</MessageId>'
        f"</PublishResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</PublishResponse>"
    )
    return 200, "text/xml", answer.encode("utf-8")


def email_sink(folder: Path) -> Any:
    """An SNS ``Publish`` endpoint that saves each message as an e-mail file (a context manager)."""
    return _serve(folder, _email)
