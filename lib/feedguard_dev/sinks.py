"""Local alert sinks for `make run` and the tests: a Slack-compatible webhook receiver, an SNS email sink.

Both are small HTTP servers on 127.0.0.1 that keep every message they receive (``Sink.posts``) and, given a
folder, save it as a file, so a run's alerts can be read without Slack or AWS:

- :func:`webhook_receiver` / :func:`slack_sink`: answer Slack incoming-webhook posts (``{"text": ...}``)
  with ``ok`` (or, for tests, with the next of the given ``statuses``); :func:`slack_sink` saves each JSON
  body as ``<folder>/NNN-slack.json``. Point ``FEEDGUARD_SLACK_WEBHOOK_URL`` at :meth:`Sink.endpoint`.
- :func:`email_sink`: answers SNS ``Publish`` calls (the query protocol boto3 speaks) like SNS does, and
  saves each as an e-mail, ``<folder>/NNN-email.eml`` (Subject, the attributes as headers, the text);
  point ``FEEDGUARD_SNS_ENDPOINT`` at :attr:`Sink.url`.

Example::

    with slack_sink(Path("lake/_alerts/sinks/slack")) as slack:
        os.environ["FEEDGUARD_SLACK_WEBHOOK_URL"] = slack.endpoint("/services/T0/B0/local")
    with webhook_receiver(statuses=[500]) as hook:  # the first post fails, the next ones succeed
        ...  # post to hook.endpoint(); then read hook.posts[0].json
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
WEBHOOK_PATH = "/services/T000/B000/XXXX"  # the shape of a Slack incoming-webhook path


@dataclass(frozen=True)
class Post:
    """One request a sink received."""

    path: str
    content_type: str
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    """A running sink: its base URL, what it received, and the files it saved (with a ``folder``)."""

    url: str
    folder: Path | None = None
    statuses: list[int] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoint(self, path: str = WEBHOOK_PATH) -> str:
        """The URL of ``path`` on this sink (by default a Slack-like webhook path)."""
        return f"{self.url}{path}"

    def receive(self, post: Post) -> int:
        """Keep ``post``; the status to answer: the next of ``statuses``, then 200."""
        with self.lock:
            self.posts.append(post)
            return self.statuses.pop(0) if self.statuses else HTTPStatus.OK

    def save(self, suffix: str, text: str) -> Path | None:
        """Save one accepted message as ``<folder>/NNN-<suffix>`` (nothing without a folder)."""
        if self.folder is None:
            return None
        with self.lock:
            path = self.folder / f"{len(self.saved) + 1:03d}-{suffix}"
            path.write_text(text, encoding="utf-8")
            self.saved.append(path)
            return path


Answer = tuple[int, str, bytes]  # status, content type, body
Handle = Callable[[Sink, Post], Answer]


@contextmanager
def _serve(handle: Handle, folder: Path | None, statuses: Sequence[int] = ()) -> Iterator[Sink]:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    sink = Sink(f"http://127.0.0.1:{server.server_address[1]}", folder, list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, ctype, answer = handle(sink, Post(self.path, self.headers.get("Content-Type", ""), body))
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


def _slack(sink: Sink, post: Post) -> Answer:
    try:
        payload = post.json
    except ValueError:
        return HTTPStatus.BAD_REQUEST, "text/plain", b"invalid_payload"
    status = sink.receive(post)
    if status != HTTPStatus.OK:
        return status, "text/plain", b"server_error"
    sink.save("slack.json", json.dumps({"path": post.path, "payload": payload}, indent=2) + "\n")
    return status, "text/plain", b"ok"


def webhook_receiver(
    statuses: Sequence[int] = (), folder: Path | None = None
) -> AbstractContextManager[Sink]:
    """A Slack-compatible incoming-webhook receiver: answers each post with the next of ``statuses``
    (then 200, ``ok``) and keeps it in ``posts``; with a ``folder``, saves each accepted post there."""
    return _serve(_slack, folder, statuses)


def slack_sink(folder: Path) -> AbstractContextManager[Sink]:
    """A Slack-compatible incoming-webhook receiver that saves each post under ``folder``."""
    return webhook_receiver(folder=folder)


def _attributes(form: dict[str, list[str]]) -> dict[str, str]:
    out = {}
    for key, values in form.items():
        if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
            prefix = key[: -len("Name")]
            out[values[0]] = form.get(prefix + "Value.StringValue", [""])[0]
    return out


def _email(sink: Sink, post: Post) -> Answer:
    form = parse_qs(post.body.decode("utf-8"), keep_blank_values=True)
    if form.get("Action", [""])[0] != "Publish":
        return 400, "text/xml", b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>"
    sink.receive(post)
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


def email_sink(folder: Path) -> AbstractContextManager[Sink]:
    """An SNS ``Publish`` endpoint that saves each message as an e-mail file under ``folder``."""
    return _serve(_email, folder)
