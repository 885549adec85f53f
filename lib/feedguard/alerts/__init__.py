"""Alerts: decide on a change of state, render masked messages, deliver to Slack and SNS email.

Example::

    state = load_alert_state(lake_path)
    alerts, state = alerts_for_run(summary, state, AlertThresholds(warning_ratio=0.01, owner=owner_email))
    messages = [format_alert(a, summary, samples=samples, pii_fields=pii) for a in alerts]
    report = deliver(messages, notifiers)
    state = state.mark_unnotified(summary["source"], summary["dataset"], report.undelivered_kinds)
    save_alert_state(lake_path, state)
"""

from feedguard.alerts.masking import MASK, mask_text
from feedguard.alerts.message import AlertMessage, format_alert
from feedguard.alerts.notifiers import (
    SLACK_URL_ENV,
    AlertConfigError,
    DeliveryReport,
    DeliveryResult,
    Notifier,
    SlackWebhookNotifier,
    SnsEmailNotifier,
    deliver,
    slack_webhook_url,
    sns_client,
)
from feedguard.alerts.rules import (
    PROBLEM_KINDS,
    Alert,
    AlertState,
    AlertThresholds,
    OpenProblem,
    alerts_for_run,
    observe,
)
from feedguard.alerts.state import alert_state_path, load_alert_state, save_alert_state

__all__ = [
    "MASK",
    "PROBLEM_KINDS",
    "SLACK_URL_ENV",
    "Alert",
    "AlertConfigError",
    "AlertMessage",
    "AlertState",
    "AlertThresholds",
    "DeliveryReport",
    "DeliveryResult",
    "Notifier",
    "OpenProblem",
    "SlackWebhookNotifier",
    "SnsEmailNotifier",
    "alert_state_path",
    "alerts_for_run",
    "deliver",
    "format_alert",
    "load_alert_state",
    "mask_text",
    "observe",
    "save_alert_state",
    "slack_webhook_url",
    "sns_client",
]
