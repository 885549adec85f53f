"""Alert channels behind one interface: a Slack incoming webhook and email through an SNS topic.

Delivery never raises: a channel that fails (after retries) returns a :class:`DeliveryResult`
with ``delivered=False``, which the job records in the run summary. The webhook URL is a secret:
it is never logged, never put in an exception or a result, and hidden from ``repr``.

Example::

    url = slack_webhook_url(os.environ, secrets_client=sm, secret_id="feedguard/slack")
    notifiers = [SlackWebhookNotifier(url), SnsEmailNotifier(sns_client(), topic_arn)]
    report = deliver(messages, notifiers)
    summary.update(report.summary_fields())
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_exponential

from feedguard.alerts.message import AlertMessage
from feedguard.summary import AlertDelivery, RunSummary

log = logging.getLogger(__name__)

SLACK_URL_ENV: Final = "FEEDGUARD_SLACK_WEBHOOK_URL"
SECRET_URL_KEYS: Final = ("webhook_url", "url", "slack_webhook_url")


class AlertConfigError(ValueError):
    """A channel cannot be set up (missing or malformed webhook secret, bad URL)."""


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of sending one message on one channel."""

    channel: str
    kind: str
    delivered: bool
    attempts: int = 1
    status_code: int | None = None
    error: str | None = None

    def to_json(self) -> AlertDelivery:
        return {
            "channel": self.channel,
            "kind": self.kind,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "error": self.error,
        }


class Notifier(Protocol):
    """Sends one rendered alert; returns what happened and never raises for a delivery failure."""

    channel: str

    def send(self, message: AlertMessage) -> DeliveryResult: ...


def slack_webhook_url(
    environ: Mapping[str, str],
    *,
    secrets_client: Any = None,
    secret_id: str | None = None,
) -> str | None:
    """The webhook URL from ``FEEDGUARD_SLACK_WEBHOOK_URL`` in ``environ``, else from Secrets Manager.

    The secret may hold the bare URL or JSON with a ``webhook_url`` (or ``url``) key. Returns None
    when neither is configured. Errors name the secret id, never its value.
    """
    url = environ.get(SLACK_URL_ENV, "").strip()
    if url:
        return url
    if secret_id is None:
        return None
    if secrets_client is None:
        raise AlertConfigError(f"secret {secret_id!r} given without a Secrets Manager client")
    try:
        value = str(secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]).strip()
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise AlertConfigError(
            f"cannot read the Slack webhook secret {secret_id!r}: {type(exc).__name__}"
        ) from None
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            raise AlertConfigError(f"secret {secret_id!r} is neither a URL nor JSON") from None
        value = next((str(data[k]) for k in SECRET_URL_KEYS if data.get(k)), "")
    if not value.startswith(("https://", "http://")):
        raise AlertConfigError(f"secret {secret_id!r} does not hold an http(s) webhook URL")
    return value


@dataclass(frozen=True)
class _Attempt:
    status_code: int | None
    error: str | None

    @property
    def retryable(self) -> bool:
        if self.error is None:
            return False
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500


class SlackWebhookNotifier:
    """Posts ``{"text": ...}`` to a Slack incoming webhook; retries 5xx, 429 and network errors."""

    channel = "slack"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise AlertConfigError("the Slack webhook URL must be http(s)")
        self._url = url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds

    def __repr__(self) -> str:
        return "SlackWebhookNotifier(url='***')"

    def payload(self, message: AlertMessage) -> dict[str, Any]:
        """The JSON body posted for ``message``."""
        icon = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":white_check_mark:"}
        return {"text": f"{icon[message.severity]} *{message.subject}*\n{message.text}"}

    def send(self, message: AlertMessage) -> DeliveryResult:
        body = json.dumps(self.payload(message)).encode("utf-8")
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=self.max_backoff_seconds),
            retry=retry_if_result(lambda attempt: attempt.retryable),
            retry_error_callback=_last_result,
            before_sleep=_log_retry,
        )
        attempt: _Attempt = retrying(self._post, body)
        tries = int(retrying.statistics.get("attempt_number", 1))
        if attempt.error is not None:
            log.warning(
                "Slack alert %s not delivered after %d attempt(s): %s", message.kind, tries, attempt.error
            )
        return DeliveryResult(
            channel=self.channel,
            kind=message.kind,
            delivered=attempt.error is None,
            attempts=tries,
            status_code=attempt.status_code,
            error=attempt.error,
        )

    def _post(self, body: bytes) -> _Attempt:
        request = urllib.request.Request(
            self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _Attempt(int(response.status), None)
        except urllib.error.HTTPError as exc:
            return _Attempt(exc.code, f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            return _Attempt(None, f"{type(exc).__name__}: {type(reason).__name__}")


def _last_result(state: RetryCallState) -> _Attempt:
    assert state.outcome is not None
    result: _Attempt = state.outcome.result()
    return result


def _log_retry(state: RetryCallState) -> None:
    result = state.outcome.result() if state.outcome is not None else None
    error = result.error if isinstance(result, _Attempt) else "?"
    log.info("Slack webhook attempt %d failed (%s); retrying", state.attempt_number, error)


def sns_client(
    *,
    session: boto3.Session | None = None,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = 5,
) -> Any:
    """An SNS client with botocore's standard retry mode and short timeouts."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts}, connect_timeout=5, read_timeout=10
    )
    return (session or boto3.Session()).client(
        "sns", region_name=region_name, endpoint_url=endpoint_url, config=config
    )


class SnsEmailNotifier:
    """Publishes to an SNS topic whose email subscriptions deliver the alert.

    Message attributes ``kind``, ``severity``, ``source``, ``dataset`` and ``audience`` (a list such as
    ``["oncall", "owner:team@example.com"]``) let subscription filter policies route the mail, e.g.
    structural changes to the contract owner.
    """

    channel = "sns-email"

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self.sns = sns
        self.topic_arn = topic_arn

    def send(self, message: AlertMessage) -> DeliveryResult:
        attributes = {
            "kind": {"DataType": "String", "StringValue": message.kind},
            "severity": {"DataType": "String", "StringValue": message.severity},
            "source": {"DataType": "String", "StringValue": message.source},
            "dataset": {"DataType": "String", "StringValue": message.dataset},
            "audience": {"DataType": "String.Array", "StringValue": json.dumps(list(message.recipients))},
        }
        try:
            response = self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=message.subject,
                Message=message.text,
                MessageAttributes=attributes,
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            log.warning("SNS alert %s not delivered: %s", message.kind, code)
            return DeliveryResult(self.channel, message.kind, False, error=f"ClientError {code}")
        except BotoCoreError as exc:
            log.warning("SNS alert %s not delivered: %s", message.kind, type(exc).__name__)
            return DeliveryResult(self.channel, message.kind, False, error=type(exc).__name__)
        retries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        return DeliveryResult(self.channel, message.kind, True, attempts=retries + 1, status_code=200)


@dataclass(frozen=True)
class DeliveryReport:
    """Every delivery of one run's alerts."""

    results: tuple[DeliveryResult, ...]

    @property
    def undelivered_kinds(self) -> list[str]:
        """Alert kinds that reached no channel at all (to flag in the alert state)."""
        kinds = dict.fromkeys(r.kind for r in self.results)
        return [k for k in kinds if not any(r.delivered for r in self.results if r.kind == k)]

    def summary_fields(self) -> RunSummary:
        """Flat keys for the run summary."""
        return {
            "alerts_sent": [r.to_json() for r in self.results if r.delivered],
            "alerts_failed": [r.to_json() for r in self.results if not r.delivered],
        }


def deliver(messages: Sequence[AlertMessage], notifiers: Sequence[Notifier]) -> DeliveryReport:
    """Send every message on every channel; never raises for a delivery failure."""
    return DeliveryReport(tuple(n.send(m) for m in messages for n in notifiers))
