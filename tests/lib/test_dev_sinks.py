"""The local alert sinks (feedguard_dev.sinks) that `make run` and the alert tests share."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import boto3

from feedguard_dev.sinks import email_sink, webhook_receiver


def post(url: str, payload: object) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_webhook_answers_the_given_statuses_keeps_every_post_and_saves_the_accepted(
    tmp_path: Path,
) -> None:
    with webhook_receiver(statuses=[500], folder=tmp_path / "slack") as hook:
        answers = [post(hook.endpoint("/services/T0/B0/x"), {"text": t}) for t in ("first", "again")]

    assert answers == [(500, b"server_error"), (200, b"ok")]
    assert [(p.path, p.content_type, p.json) for p in hook.posts] == [
        ("/services/T0/B0/x", "application/json", {"text": "first"}),
        ("/services/T0/B0/x", "application/json", {"text": "again"}),
    ]
    (saved,) = hook.saved
    assert saved.name == "001-slack.json"
    assert json.loads(saved.read_text()) == {"path": "/services/T0/B0/x", "payload": {"text": "again"}}


def test_the_email_sink_answers_sns_publish_and_saves_an_email(tmp_path: Path) -> None:
    with email_sink(tmp_path / "email") as sink:
        sns = boto3.client(
            "sns",
            endpoint_url=sink.url,
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        answer = sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:alerts", Subject="run failed", Message="text")

    assert answer["MessageId"]
    assert [p.name for p in sink.saved] == ["001-email.eml"]
    assert sink.saved[0].read_text() == "To: arn:aws:sns:eu-west-1:1:alerts\nSubject: run failed\n\ntext\n"
