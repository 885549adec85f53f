"""After the data is committed: publish metrics, keep them in the lake, send alerts.

The publisher and the notifiers are passed in (built by the job from its arguments), so tests
hand in real local endpoints and production hands in CloudWatch, Slack and SNS.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.alerts import (
    AlertThresholds,
    Notifier,
    SlackWebhookNotifier,
    SnsEmailNotifier,
    alerts_for_run,
    deliver,
    format_alert,
    load_alert_state,
    save_alert_state,
    slack_webhook_url,
    sns_client,
)
from feedguard.alerts.message import DeadLetterSample
from feedguard.contracts.contract import Contract
from feedguard.errors import UsageError
from feedguard.lake.layout import Lake
from feedguard.metrics import (
    MetricsConfigError,
    MetricsPublisher,
    NullPublisher,
    metrics_from_summary,
    metrics_rows,
    publisher_from_args,
    write_metrics_table,
)
from feedguard.summary import RunSummary

log = logging.getLogger(__name__)
SAMPLE_DEAD_LETTERS = 5


@dataclass
class Reporters:
    """Where a run reports to."""

    publisher: MetricsPublisher = field(default_factory=NullPublisher)
    notifiers: Sequence[Notifier] = ()
    environment: str = "local"


def reporters_from_args(opts: Mapping[str, Any], lake: Lake, environ: Mapping[str, str]) -> Reporters:
    """Build the publisher and notifiers a job's arguments ask for."""
    try:
        publisher = publisher_from_args(
            opts.get("metrics") or "none",
            namespace=opts.get("metrics_namespace") or "Feedguard/DataQuality",
            spool_path=lake.metrics_spool(opts["source"], opts["dataset"]),
            strict=bool(opts.get("strict_metrics")),
            endpoint_url=environ.get("FEEDGUARD_CLOUDWATCH_ENDPOINT"),
        )
    except MetricsConfigError as exc:
        raise UsageError(f"bad --metrics: {exc}") from None
    notifiers: list[Notifier] = []
    channels = {
        c.strip() for c in (opts.get("alerts") or "none").split(",") if c.strip() and c.strip() != "none"
    }
    unknown = channels - {"slack", "email"}
    if unknown:
        raise UsageError(f"bad --alerts: unknown channel(s) {', '.join(sorted(unknown))} (use slack, email)")
    if "slack" in channels:
        secret_id = opts.get("slack_secret_id")
        secrets = (
            _secrets_client(environ) if secret_id and not environ.get("FEEDGUARD_SLACK_WEBHOOK_URL") else None
        )
        url = slack_webhook_url(environ, secrets_client=secrets, secret_id=secret_id)
        if not url:
            raise UsageError("--alerts slack needs FEEDGUARD_SLACK_WEBHOOK_URL or --slack_secret_id")
        notifiers.append(SlackWebhookNotifier(url))
    if "email" in channels:
        topic = opts.get("sns_topic_arn") or environ.get("FEEDGUARD_SNS_TOPIC_ARN")
        if not topic:
            raise UsageError("--alerts email needs --sns_topic_arn or FEEDGUARD_SNS_TOPIC_ARN")
        notifiers.append(
            SnsEmailNotifier(sns_client(endpoint_url=environ.get("FEEDGUARD_SNS_ENDPOINT")), topic)
        )
    return Reporters(publisher, notifiers, opts.get("environment") or "local")


def _secrets_client(environ: Mapping[str, str]) -> Any:
    import boto3

    return boto3.client("secretsmanager", endpoint_url=environ.get("FEEDGUARD_SECRETS_ENDPOINT"))


def dead_letter_samples(spark: SparkSession, lake: Lake, run_id: str) -> list[DeadLetterSample]:
    """The first few dead letters of the run, for alert messages (masked by the formatter)."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, lake.dead_letter):
        return []
    rows = (
        spark.read.format("delta")
        .load(lake.dead_letter)
        .where(F.col("run_id") == run_id)
        .orderBy("source_file", "source_line")
        .select("error_type", "error_detail", "source_file", "source_line", "raw_text")
        .limit(SAMPLE_DEAD_LETTERS)
        .collect()
    )
    return [
        {
            "error_type": r["error_type"],
            "error_detail": r["error_detail"],
            "source_file": r["source_file"],
            "source_line": r["source_line"],
            "raw_text": r["raw_text"],
        }
        for r in rows
    ]


def report_run(
    spark: SparkSession,
    summary: RunSummary,
    contract: Contract,
    lake: Lake,
    reporters: Reporters,
) -> RunSummary:
    """Publish the run's metrics, keep them in ``<lake>/_metrics``, send alerts; return the summary."""
    job = str(summary.get("job_name") or "feedguard")
    metrics = metrics_from_summary(summary, environment=reporters.environment, job=job)
    result = reporters.publisher.publish(metrics)
    summary.update(result.summary_fields())
    write_metrics_table(
        spark,
        lake.root,
        metrics_rows(
            metrics,
            run_id=summary["run_id"],
            namespace=reporters.publisher.namespace,
            contract_version=str(contract.version),
            destination=result.destination,
        ),
    )
    state = load_alert_state(lake.root)
    thresholds = AlertThresholds(contract.thresholds.warning_ratio, contract.owner.email)
    alerts, state = alerts_for_run(summary, state, thresholds)
    samples = dead_letter_samples(spark, lake, summary["run_id"]) if alerts else []
    messages = [
        format_alert(
            alert,
            summary,
            samples=samples,
            pii_fields=contract.pii_fields,
            csv_columns=contract.field_names if contract.format == "csv" else None,
            csv_delimiter=contract.csv.delimiter,
        )
        for alert in alerts
    ]
    report = deliver(messages, reporters.notifiers)
    summary["alerts"] = [a.kind for a in alerts]
    summary.update(report.summary_fields())
    save_alert_state(
        lake.root, state.mark_unnotified(summary["source"], summary["dataset"], report.undelivered_kinds)
    )
    for message in messages:
        log.warning("alert: %s", message.subject)
    return summary
