"""The feedguard DAGs' callbacks: alerts (``feedguard.alerts``) and counts (``feedguard.monitoring``).

Every callback counts its event with ``feedguard.monitoring.callback_metrics`` and publishes it with the
project's publisher (``feedguard.metrics``), in the project's namespace, so the dashboard's Airflow panel
reads the same figures on MWAA and on any other Airflow:

* DAG run succeeded / failed: ``AirflowDagRuns`` (DAG, State success | failed);
* task succeeded, failed (after its retries), up for retry: ``AirflowTaskSuccesses``, ``AirflowTaskFailures``,
  ``AirflowTaskRetries`` (DAG, Task);
* SLA missed: ``AirflowSlaMisses`` (DAG, Task), and the log line ``FEEDGUARD_SLA_MISS dag=... tasks=...``
  that the "SLA misses" Logs Insights widget lists (SLA callbacks run in the DAG processor: MWAA's
  ``DAGProcessing`` log group).

A task failure also sends an alert; an SLA miss too. No callback ever raises: a broken notifier or an
unreachable CloudWatch must not hide the task's own outcome. Without the feedguard wheel in the Airflow
environment (MWAA ``requirements.txt``) nothing is sent and the callback says so in the log.

Variables: ``feedguard_environment`` (the metrics' Environment dimension, default prod), ``feedguard_metrics``
(cloudwatch, emf or none; default cloudwatch), and the alert ones of ``feedguard_dag.py``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow.models import Variable
from feedguard_feeds import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_METRICS,
    VAR_ALERTS_TOPIC,
    VAR_ENVIRONMENT,
    VAR_METRICS,
    VAR_SLACK_SECRET,
    Feed,
    alert_text,
    sla_miss_line,
)

log = logging.getLogger(__name__)

# CloudWatch down: the counts wait here until the next callback on the same worker sends them.
SPOOL_PATH = Path(tempfile.gettempdir()) / "feedguard-airflow-metrics.spool.jsonl"

Callback = Callable[[Mapping[str, Any]], None]


# --- counts ---------------------------------------------------------------------------------------------


def publish_counts(event: str, dag_id: str, task_ids: Sequence[str] | None = None) -> None:
    """Publish one count per task (or for the DAG run) of a callback event; never raises."""
    try:
        from feedguard.metrics.factory import publisher_from_args
        from feedguard.monitoring.airflow import callback_metrics
    except ImportError as exc:
        log.warning(
            "feedguard.monitoring cannot be imported in this Airflow environment (%s): count NOT published: "
            "%s %s %s",
            exc,
            event,
            dag_id,
            ",".join(task_ids or ()),
        )
        return
    try:
        environment = Variable.get(VAR_ENVIRONMENT, default_var=DEFAULT_ENVIRONMENT)
        kind = Variable.get(VAR_METRICS, default_var=DEFAULT_METRICS)
        metrics = callback_metrics(event, dag_id, list(task_ids or ()), environment)
        result = publisher_from_args(kind, spool_path=SPOOL_PATH).publish(metrics)
        log.info("counted %s for %s %s: %s", event, dag_id, ",".join(task_ids or ()), result.summary_fields())
    except Exception as exc:  # a count must never fail the task or the DAG run
        log.warning("count NOT published (%s: %s): %s %s", type(exc).__name__, exc, event, dag_id)


def _task_id(context: Mapping[str, Any]) -> str:
    ti = context.get("task_instance") or context.get("ti")
    return str(getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", "?"))


def on_task_event(feed: Feed, event: str) -> Callback:
    """A task callback that counts ``event`` (task_success, task_retry) for the task of the context."""

    def callback(context: Mapping[str, Any]) -> None:
        publish_counts(event, feed.dag_id, [_task_id(context)])

    return callback


def on_dag_run(feed: Feed, event: str) -> Callback:
    """A DAG callback that counts the run (dag_success, dag_failure)."""

    def callback(context: Mapping[str, Any]) -> None:
        publish_counts(event, feed.dag_id)

    return callback


# --- alerts ---------------------------------------------------------------------------------------------


def _notifiers() -> list[Any]:
    """The channels configured by Variables: SNS e-mail, Slack webhook (URL from Secrets Manager)."""
    import boto3

    from feedguard.alerts import SlackWebhookNotifier, SnsEmailNotifier, slack_webhook_url, sns_client

    notifiers: list[Any] = []
    topic = Variable.get(VAR_ALERTS_TOPIC, default_var=None)
    if topic:
        notifiers.append(SnsEmailNotifier(sns_client(), topic))
    secret_id = Variable.get(VAR_SLACK_SECRET, default_var=None)
    url = slack_webhook_url(
        os.environ,
        secrets_client=boto3.client("secretsmanager") if secret_id else None,
        secret_id=secret_id,
    )
    if url:
        notifiers.append(SlackWebhookNotifier(url))
    return notifiers


def send_alert(feed: Feed, event: str, details: Mapping[str, Any]) -> None:
    """Send an orchestration alert through feedguard.alerts; never raises (a callback must not fail)."""
    subject, text = alert_text(event, feed, details)
    try:
        from feedguard.alerts import AlertMessage, deliver
    except ImportError as exc:
        log.warning(
            "feedguard.alerts cannot be imported in this Airflow environment (%s): alert NOT sent: %s | %s",
            exc,
            subject,
            text.replace("\n", " | "),
        )
        return
    try:
        notifiers = _notifiers()
        if not notifiers:
            log.warning(
                "no alert channel configured (%s, %s): alert NOT sent: %s",
                VAR_ALERTS_TOPIC,
                VAR_SLACK_SECRET,
                subject,
            )
            return
        message = AlertMessage(
            kind="run_failed",
            severity="critical",
            source=feed.source,
            dataset=feed.dataset,
            run_id=str(details.get("run_id", "")),
            recipients=("oncall",),
            subject=subject,
            text=text,
        )
        report = deliver([message], notifiers)
        log.info("alert %r delivered: %s", subject, report.summary_fields())
    except Exception as exc:  # a failing notifier must not hide the task's own failure
        log.warning("alert NOT sent (%s: %s): %s", type(exc).__name__, exc, subject)


def on_failure(feed: Feed) -> Callback:
    """A task failed after its retries: count it, alert."""

    def callback(context: Mapping[str, Any]) -> None:
        ti = context.get("task_instance")
        exc = context.get("exception")
        publish_counts("task_failure", feed.dag_id, [_task_id(context)])
        send_alert(
            feed,
            f"task {getattr(ti, 'task_id', '?')} failed",
            {
                "run_id": context.get("run_id"),
                "try": getattr(ti, "try_number", None),
                "error": str(exc)[:500] if exc else None,
                "exit_code": getattr(exc, "feedguard_exit_code", None),
                "log": getattr(ti, "log_url", None),
            },
        )

    return callback


def on_sla_miss(feed: Feed) -> Callable[..., None]:
    """SLA missed: the log line the dashboard lists, one count per late task, an alert."""

    def callback(dag: Any, task_list: str, blocking_task_list: str, slas: Any, blocking_tis: Any) -> None:
        task_ids = [str(s.task_id) for s in slas or ()]
        log.warning(sla_miss_line(feed, task_ids))
        publish_counts("sla_miss", feed.dag_id, task_ids)
        send_alert(
            feed,
            f"SLA of {feed.sla} missed",
            {"late tasks": task_list.replace("\n", " "), "blocked by": blocking_task_list.replace("\n", " ")},
        )

    return callback
