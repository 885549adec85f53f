"""Alarms: per-feed pipeline alarms and the platform alarms of the six panels (Airflow, Batch, Fargate, MSK).

Every alarm notifies both topics (e-mail and Slack) on ALARM and on OK. Alarms over several series use metric
math (``Metrics``), never ``SEARCH`` (CloudWatch alarms cannot use it).
"""

from __future__ import annotations

from typing import Any

from fg_common import (
    DAY,
    FIVE_MINUTES,
    HOUR,
    NAMESPACE,
    Feed,
    ref,
    sub,
)

ACTIONS = [ref("AlertsTopic"), ref("ChatTopic")]


def dims(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": name, "Value": value} for name, value in pairs]


def alarm(name: str, description: str, condition: str | None = None, **props: Any) -> dict[str, Any]:
    """An alarm on one metric (``MetricName`` ...) or on metric math (``Metrics``)."""
    periods = props.pop("periods", 1)
    base = {
        "AlarmName": sub(f"feedguard-${{Environment}}-{name}"),
        "AlarmDescription": f"{description} Runbook: docs/operations.md",
    }
    if "Metrics" not in props:
        base |= {"Period": props.pop("Period", HOUR)}
    resource: dict[str, Any] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": base
        | props
        | {
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "TreatMissingData": props.get("TreatMissingData", "notBreaching"),
            "AlarmActions": ACTIONS,
            "OKActions": ACTIONS,
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def stat(
    query_id: str,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, Any]],
    statistic: str,
    period: int = FIVE_MINUTES,
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": statistic,
        },
    }


def math(expression: str | dict[str, Any], label: str) -> dict[str, Any]:
    return {"Id": "e", "Expression": expression, "Label": label, "ReturnData": True}


def feed_dimensions(feed: Feed) -> list[dict[str, Any]]:
    return dims(
        ("Source", feed.source),
        ("Dataset", feed.dataset),
        ("Job", feed.job),
        ("Environment", ref("Environment")),
    )


def feed_alarm(
    feed: Feed,
    suffix: str,
    description: str,
    metric: str,
    statistic: str,
    operator: str,
    threshold: Any,
    **extra: Any,
) -> dict[str, Any]:
    return alarm(
        f"{feed.slug}-{suffix}",
        f"{feed.source}/{feed.dataset}: {description}",
        Namespace=NAMESPACE,
        MetricName=metric,
        Dimensions=feed_dimensions(feed),
        Statistic=statistic,
        ComparisonOperator=operator,
        Threshold=threshold,
        **extra,
    )


def feed_alarms(feed: Feed) -> dict[str, Any]:
    gt, ge, lt = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"
    alarms = {
        "CorruptRatio": feed_alarm(
            feed,
            "corrupt-ratio",
            "a run's corrupt-record ratio is above the threshold.",
            "CorruptRatio",
            "Maximum",
            gt,
            ref("CorruptRatioThresholdPct"),
        ),
        "DeadLetters": feed_alarm(
            feed,
            "dead-letters",
            "records were dead-lettered (see the error zone).",
            "RecordsDeadLettered",
            "Sum",
            gt,
            ref("DeadLetterThreshold"),
        ),
        "SchemaDrift": feed_alarm(
            feed,
            "schema-drift",
            "structural change, file(s) quarantined.",
            "SchemaDriftDetected",
            "Maximum",
            ge,
            1,
        ),
        "DQFailed": feed_alarm(
            feed,
            "dq-failed",
            "a critical expectation failed; nothing was published.",
            "DQSuccess",
            "Minimum",
            lt,
            1,
        ),
        "JobDuration": feed_alarm(
            feed,
            "job-duration",
            "a run took longer than expected.",
            "JobDurationSeconds",
            "Maximum",
            gt,
            ref(feed.duration_param),
        ),
        # Missing data is breaching: no run at all must alarm, not stay green.
        "NoData": feed_alarm(
            feed,
            "no-data",
            "no records received" + (" in 24 hours." if feed.kind == "daily" else " for 3 hours."),
            "RecordsRead",
            "Sum",
            lt,
            1,
            TreatMissingData="breaching",
            Period=DAY if feed.kind == "daily" else HOUR,
            periods=1 if feed.kind == "daily" else 3,
        ),
    }
    if feed.kind == "kafka":
        alarms |= {
            "Downtime": feed_alarm(
                feed,
                "broker-downtime",
                "the broker was down longer than the window.",
                "DowntimeSeconds",
                "Maximum",
                gt,
                ref("KafkaDowntimeThresholdSeconds"),
            ),
            "MessagesLost": feed_alarm(
                feed, "messages-lost", "messages expired before they were read.", "MessagesLost", "Sum", gt, 0
            ),
            "ConsumerLag": feed_alarm(
                feed,
                "consumer-lag",
                "the job's consumer lag is high.",
                "ConsumerLag",
                "Maximum",
                gt,
                ref("KafkaConsumerLagThreshold"),
            ),
        }
    return {f"{feed.logical}{name}Alarm": resource for name, resource in alarms.items()}


def env_dim() -> tuple[str, Any]:
    return ("Environment", ref("Environment"))
