"""Metrics and alerts against real local endpoints: a moto server, a throttling proxy, a webhook receiver.

Nothing is patched: boto3 talks HTTP to moto on 127.0.0.1 (dummy credentials set on the session),
Slack posts go to a local HTTP server. Faults: CloudWatch down, CloudWatch throttling, Slack 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from feedguard.alerts import (
    AlertConfigError,
    AlertState,
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
from feedguard.metrics import (
    CloudWatchPublisher,
    Metric,
    MetricsPublishError,
    cloudwatch_client,
    metrics_from_summary,
)
from feedguard.summary import RunSummary
from feedguard_dev.sinks import webhook_receiver
from support.moto_server import MotoEndpoint, closed_endpoint, running_moto_server, throttling_proxy

pytestmark = pytest.mark.e2e

NAMESPACE = "Feedguard/DataQuality"
SECRET_TOKEN = "xyzSECRETtoken123"
DIMENSIONS = [
    {"Name": "Source", "Value": "quickbite"},
    {"Name": "Dataset", "Value": "orders"},
    {"Name": "Job", "Value": "ingest_files"},
    {"Name": "Environment", "Value": "test"},
]


def summary_at(ended: datetime, **overrides: Any) -> RunSummary:
    summary: dict[str, Any] = {
        "run_id": "r-1",
        "job_name": "ingest_files",
        "source": "quickbite",
        "dataset": "orders",
        "contract_version": "1",
        "status": "succeeded",
        "exit_code": 0,
        "records_read": 200,
        "records_valid": 194,
        "records_dead_lettered": 6,
        "dead_letters_by_type": {"malformed_json": 6},
        "files": [
            {
                "path": "in/a.json",
                "records_read": 200,
                "records_valid": 194,
                "records_dead_lettered": 6,
                "verdict": "intermittent_corruption",
            }
        ],
        "started_at": (ended - timedelta(seconds=42)).isoformat(),
        "ended_at": ended.isoformat(),
        "duration_seconds": 42.0,
        "message": "",
    }
    summary.update(overrides)
    return cast(RunSummary, summary)


def minute(stamp: datetime) -> datetime:
    return stamp.replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoEndpoint]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto(moto_server: MotoEndpoint) -> MotoEndpoint:
    moto_server.reset()
    return moto_server


def datapoints(
    cloudwatch: Any, name: str, start: datetime, stat: str = "Sum"
) -> list[tuple[datetime, float]]:
    """(minute, value) pairs of one metric stream, oldest first."""
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": DIMENSIONS},
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=start - timedelta(minutes=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
    )
    result = response["MetricDataResults"][0]
    return sorted(
        (minute(t.astimezone(UTC)), v) for t, v in zip(result["Timestamps"], result["Values"], strict=True)
    )


# --- CloudWatch ----------------------------------------------------------------------------------


def test_put_metric_data_lands_every_metric_with_its_dimensions(moto: MotoEndpoint, tmp_path: Path) -> None:
    ended = datetime.now(UTC) - timedelta(minutes=3)
    summary = summary_at(ended, dq_success=True, expectations_evaluated=12, expectations_failed=0)
    publisher = CloudWatchPublisher(
        cloudwatch_client(session=moto.session, endpoint_url=moto.url), spool_path=tmp_path / "spool.jsonl"
    )

    result = publisher.publish(metrics_from_summary(summary, "test", "ingest_files"))

    assert (result.sent, result.spooled, result.flushed, result.requests, result.ok) == (10, 0, 0, 1, True)
    cloudwatch = moto.client("cloudwatch")
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == [
        "CorruptRatio",
        "DQSuccess",
        "ExpectationsEvaluated",
        "ExpectationsFailed",
        "FilesQuarantined",
        "JobDurationSeconds",
        "RecordsDeadLettered",
        "RecordsRead",
        "RecordsValid",
        "SchemaDriftDetected",
    ]
    assert {json.dumps(m["Dimensions"]) for m in listed} == {json.dumps(DIMENSIONS)}
    values = {
        name: datapoints(cloudwatch, name, ended) for name in ("RecordsRead", "CorruptRatio", "DQSuccess")
    }
    assert values == {
        "RecordsRead": [(minute(ended), 200.0)],
        "CorruptRatio": [(minute(ended), 3.0)],
        "DQSuccess": [(minute(ended), 1.0)],
    }
    assert not (tmp_path / "spool.jsonl").exists()


def test_2500_metrics_go_in_three_requests_within_the_limits(moto: MotoEndpoint, tmp_path: Path) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    dims = tuple((d["Name"], d["Value"]) for d in DIMENSIONS)
    metrics = [Metric(f"Probe{i:04d}", float(i), "Count", dims, now) for i in range(2500)]

    with throttling_proxy(moto.url, throttle=0) as proxy:
        client = cloudwatch_client(session=moto.session, endpoint_url=proxy.url)
        result = CloudWatchPublisher(client, spool_path=tmp_path / "spool.jsonl").publish(metrics)

    assert (result.sent, result.requests, proxy.put_requests) == (2500, 3, 3)
    assert max(proxy.request_sizes) <= 1_000_000
    paginator = moto.client("cloudwatch").get_paginator("list_metrics")
    names = [m["MetricName"] for page in paginator.paginate(Namespace=NAMESPACE) for m in page["Metrics"]]
    assert sorted(names) == [f"Probe{i:04d}" for i in range(2500)]
    assert datapoints(moto.client("cloudwatch"), "Probe2499", now) == [(minute(now), 2499.0)]


def test_batches_stay_under_the_byte_limit_on_the_wire(moto: MotoEndpoint, tmp_path: Path) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    dims = tuple((d["Name"], d["Value"]) for d in DIMENSIONS)
    metrics = [Metric(f"Probe{i:04d}", float(i), "Count", dims, now) for i in range(400)]

    with throttling_proxy(moto.url, throttle=0) as proxy:
        client = cloudwatch_client(session=moto.session, endpoint_url=proxy.url)
        publisher = CloudWatchPublisher(client, spool_path=tmp_path / "spool.jsonl", max_batch_bytes=20_000)
        result = publisher.publish(metrics)

    assert (result.sent, result.requests, proxy.put_requests) == (400, 7, 7)  # 66 datums of ~291 bytes
    assert max(proxy.request_sizes) <= 20_000
    assert min(proxy.request_sizes[:-1]) > 15_000  # the estimate is not wildly conservative either


def test_unreachable_cloudwatch_spools_then_the_next_run_flushes_first(
    moto: MotoEndpoint, tmp_path: Path
) -> None:
    spool = tmp_path / "metrics.spool.jsonl"
    first_end = datetime.now(UTC) - timedelta(minutes=10)
    second_end = datetime.now(UTC) - timedelta(minutes=2)
    down = cloudwatch_client(session=moto.session, endpoint_url=closed_endpoint(), max_attempts=2)

    first = CloudWatchPublisher(down, spool_path=spool).publish(
        metrics_from_summary(summary_at(first_end, run_id="r-1"), "test", "ingest_files")
    )

    assert (first.sent, first.spooled, first.flushed, first.ok) == (0, 7, 0, False)
    assert (first.error, first.spool_path) == ("EndpointConnectionError", str(spool))
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert lines[0] == {
        "namespace": NAMESPACE,
        "name": "RecordsRead",
        "value": 200.0,
        "unit": "Count",
        "dimensions": {d["Name"]: d["Value"] for d in DIMENSIONS},
        "timestamp": first_end.isoformat(),
    }
    assert [line["name"] for line in lines] == [
        "RecordsRead",
        "RecordsValid",
        "RecordsDeadLettered",
        "CorruptRatio",
        "FilesQuarantined",
        "SchemaDriftDetected",
        "JobDurationSeconds",
    ]

    up = cloudwatch_client(session=moto.session, endpoint_url=moto.url)
    second = CloudWatchPublisher(up, spool_path=spool).publish(
        metrics_from_summary(
            summary_at(second_end, run_id="r-2", records_read=50, records_valid=50, records_dead_lettered=0),
            "test",
            "ingest_files",
        )
    )

    assert (second.sent, second.spooled, second.flushed, second.requests, second.ok) == (7, 0, 7, 1, True)
    assert not spool.exists()
    cloudwatch = moto.client("cloudwatch")
    assert datapoints(cloudwatch, "RecordsRead", first_end) == [
        (minute(first_end), 200.0),
        (minute(second_end), 50.0),
    ]
    assert datapoints(cloudwatch, "CorruptRatio", first_end) == [
        (minute(first_end), 3.0),
        (minute(second_end), 0.0),
    ]


def test_spooled_metrics_too_old_for_cloudwatch_or_unreadable_are_dropped(
    moto: MotoEndpoint, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.jsonl"
    dims = tuple((d["Name"], d["Value"]) for d in DIMENSIONS)
    recent = datetime.now(UTC) - timedelta(days=1)
    lines = [
        {"namespace": NAMESPACE, **Metric("RecordsRead", 5.0, "Count", dims, recent).to_json()},
        {
            "namespace": NAMESPACE,
            **Metric("RecordsRead", 9.0, "Count", dims, recent - timedelta(days=14)).to_json(),
        },
    ]
    spool.write_text("\n".join(json.dumps(line) for line in lines) + "\n{torn line\n")
    client = cloudwatch_client(session=moto.session, endpoint_url=moto.url)

    result = CloudWatchPublisher(client, spool_path=spool).publish([])

    assert (result.sent, result.flushed, result.dropped, result.spooled, result.ok) == (0, 1, 2, 0, False)
    assert datapoints(moto.client("cloudwatch"), "RecordsRead", recent) == [(minute(recent), 5.0)]
    assert not spool.exists()


def test_metrics_cloudwatch_rejects_are_dropped_not_spooled(moto: MotoEndpoint, tmp_path: Path) -> None:
    with throttling_proxy(moto.url, throttle=1, error="InvalidParameterValue") as proxy:
        client = cloudwatch_client(session=moto.session, endpoint_url=proxy.url, max_attempts=3)
        result = CloudWatchPublisher(client, spool_path=tmp_path / "spool.jsonl").publish(
            metrics_from_summary(summary_at(datetime.now(UTC)), "test", "ingest_files")
        )

    assert (result.sent, result.dropped, result.spooled, result.error, proxy.put_requests) == (
        0,
        7,
        0,
        "ClientError InvalidParameterValue",
        1,
    )
    assert not (tmp_path / "spool.jsonl").exists()


def test_strict_publisher_raises_and_spools_nothing(moto: MotoEndpoint, tmp_path: Path) -> None:
    down = cloudwatch_client(session=moto.session, endpoint_url=closed_endpoint(), max_attempts=1)
    publisher = CloudWatchPublisher(down, spool_path=tmp_path / "spool.jsonl", strict=True)

    with pytest.raises(
        MetricsPublishError, match="7 metrics not sent to CloudWatch: EndpointConnectionError"
    ):
        publisher.publish(metrics_from_summary(summary_at(datetime.now(UTC)), "test", "ingest_files"))
    assert not (tmp_path / "spool.jsonl").exists()


def test_throttling_is_retried_with_backoff_until_it_succeeds(moto: MotoEndpoint, tmp_path: Path) -> None:
    ended = datetime.now(UTC) - timedelta(minutes=1)

    with throttling_proxy(moto.url, throttle=2) as proxy:
        client = cloudwatch_client(session=moto.session, endpoint_url=proxy.url, max_attempts=3)
        result = CloudWatchPublisher(client, spool_path=tmp_path / "spool.jsonl").publish(
            metrics_from_summary(summary_at(ended), "test", "ingest_files")
        )

    assert (result.sent, result.spooled, result.requests, result.retries, proxy.put_requests) == (
        7,
        0,
        1,
        2,
        3,
    )
    assert datapoints(moto.client("cloudwatch"), "RecordsDeadLettered", ended) == [(minute(ended), 6.0)]


def test_throttling_past_the_retry_budget_spools(moto: MotoEndpoint, tmp_path: Path) -> None:
    with throttling_proxy(moto.url, throttle=10) as proxy:
        client = cloudwatch_client(session=moto.session, endpoint_url=proxy.url, max_attempts=2)
        result = CloudWatchPublisher(client, spool_path=tmp_path / "spool.jsonl").publish(
            metrics_from_summary(summary_at(datetime.now(UTC)), "test", "ingest_files")
        )

    assert (result.sent, result.spooled, result.retries, result.error, proxy.put_requests) == (
        0,
        7,
        1,
        "ClientError Throttling",
        2,
    )
    assert len((tmp_path / "spool.jsonl").read_text().splitlines()) == 7


# --- Slack ---------------------------------------------------------------------------------------


def failed_run_message(run_id: str = "r-9") -> Any:
    summary = summary_at(
        datetime.now(UTC), run_id=run_id, status="failed", exit_code=1, message="KeyError: 'x'"
    )
    alerts, _ = alerts_for_run(summary, AlertState(), AlertThresholds(warning_ratio=0.5))
    return format_alert(alerts[0], summary)


def test_slack_webhook_receives_the_alert_json() -> None:
    message = failed_run_message()
    with webhook_receiver() as hook:
        result = SlackWebhookNotifier(hook.endpoint(f"/services/T0/B0/{SECRET_TOKEN}")).send(message)

    assert (result.delivered, result.attempts, result.status_code, result.error) == (True, 1, 200, None)
    assert [(p.path, p.content_type) for p in hook.posts] == [
        (f"/services/T0/B0/{SECRET_TOKEN}", "application/json")
    ]
    assert hook.posts[0].json == {
        "text": ":rotating_light: *[feedguard] CRITICAL quickbite/orders: run failed (run r-9)*\n"
        + message.text
    }
    assert message.text.splitlines()[0] == (
        "Run r-9 of quickbite/orders failed with exit code 1 (unexpected internal error). KeyError: 'x'"
    )


def test_slack_500_is_retried_then_the_notifier_gives_up_without_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with webhook_receiver(statuses=[500] * 10) as hook:
        notifier = SlackWebhookNotifier(
            hook.endpoint(f"/hooks/{SECRET_TOKEN}"), max_attempts=3, backoff_seconds=0.01
        )
        report = deliver([failed_run_message()], [notifier])

    assert len(hook.posts) == 3
    assert report.summary_fields() == {
        "alerts_sent": [],
        "alerts_failed": [
            {
                "channel": "slack",
                "kind": "run_failed",
                "delivered": False,
                "attempts": 3,
                "status_code": 500,
                "error": "HTTP 500",
            }
        ],
    }
    assert "Slack alert run_failed not delivered after 3 attempt(s): HTTP 500" in caplog.text
    assert SECRET_TOKEN not in caplog.text + repr(report) + repr(notifier)


def test_slack_recovers_when_the_server_comes_back() -> None:
    with webhook_receiver(statuses=[500, 503]) as hook:
        result = SlackWebhookNotifier(hook.endpoint(), max_attempts=4, backoff_seconds=0.01).send(
            failed_run_message()
        )

    assert (result.delivered, result.attempts, len(hook.posts)) == (True, 3, 3)


def test_slack_4xx_is_not_retried() -> None:
    with webhook_receiver(statuses=[404]) as hook:
        result = SlackWebhookNotifier(hook.endpoint(), backoff_seconds=0.01).send(failed_run_message())

    assert (result.delivered, result.attempts, result.error, len(hook.posts)) == (False, 1, "HTTP 404", 1)


def test_webhook_url_from_secrets_manager(moto: MotoEndpoint) -> None:
    secrets = moto.client("secretsmanager")
    secrets.create_secret(
        Name="feedguard/slack", SecretString=json.dumps({"webhook_url": "https://h.example/x"})
    )
    secrets.create_secret(Name="feedguard/bad", SecretString="not-a-url-but-secret-value")

    assert slack_webhook_url({}, secrets_client=secrets, secret_id="feedguard/slack") == "https://h.example/x"
    with pytest.raises(AlertConfigError, match="does not hold an http") as bad:
        slack_webhook_url({}, secrets_client=secrets, secret_id="feedguard/bad")
    with pytest.raises(AlertConfigError, match="secret 'missing': ResourceNotFoundException"):
        slack_webhook_url({}, secrets_client=secrets, secret_id="missing")
    assert "not-a-url-but-secret-value" not in str(bad.value)


# --- SNS email and the whole flow -----------------------------------------------------------------


def test_failure_alerts_once_on_both_channels_then_one_resolved(moto: MotoEndpoint, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    sns = sns_client(session=moto.session, endpoint_url=moto.url)
    topic = sns.create_topic(Name="feedguard-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@feedguard.example")
    thresholds = AlertThresholds(warning_ratio=0.05, owner="orders-team@quickbite.example")
    now = datetime.now(UTC)
    runs = [
        summary_at(
            now,
            run_id="r-1",
            status="structural_change",
            exit_code=4,
            verdicts={"in/a.json": "structural_change"},
        ),
        summary_at(
            now,
            run_id="r-2",
            status="structural_change",
            exit_code=4,
            verdicts={"in/a.json": "structural_change"},
        ),
        summary_at(now, run_id="r-3"),
    ]
    with webhook_receiver() as hook:
        notifiers: list[Notifier] = [SlackWebhookNotifier(hook.endpoint()), SnsEmailNotifier(sns, topic)]
        for summary in runs:
            alerts, state = alerts_for_run(summary, load_alert_state(lake), thresholds)
            report = deliver([format_alert(a, summary) for a in alerts], notifiers)
            save_alert_state(lake, state.mark_unnotified("quickbite", "orders", report.undelivered_kinds))

    sent = moto.sns_notifications(topic)
    assert [(n[2], json.loads(n[3]["audience"]["Value"])) for n in sent] == [
        (
            "[feedguard] CRITICAL quickbite/orders: structural change (run r-1)",
            ["oncall", "owner:orders-team@quickbite.example"],
        ),
        (
            "[feedguard] INFO quickbite/orders: resolved (run r-3)",
            ["oncall", "owner:orders-team@quickbite.example"],
        ),
    ]
    assert {k: v["Value"] for k, v in sent[0][3].items()} == {
        "kind": "structural_change",
        "severity": "critical",
        "source": "quickbite",
        "dataset": "orders",
        "audience": '["oncall", "owner:orders-team@quickbite.example"]',
    }
    assert sent[1][1].splitlines()[0] == (
        "Resolved: quickbite/orders is healthy again after run r-3. Cleared: structural change "
        "(open since run r-1)."
    )
    assert [p.json["text"].splitlines()[0] for p in hook.posts] == [
        ":rotating_light: *[feedguard] CRITICAL quickbite/orders: structural change (run r-1)*",
        ":white_check_mark: *[feedguard] INFO quickbite/orders: resolved (run r-3)*",
    ]
    assert hook.posts[0].json["text"].split("\n", 1)[1] == sent[0][1]
    assert load_alert_state(lake) == AlertState({})


def test_sns_unreachable_is_a_failed_delivery_not_an_error(moto: MotoEndpoint) -> None:
    sns = sns_client(session=moto.session, endpoint_url=closed_endpoint(), max_attempts=1)

    result = SnsEmailNotifier(sns, "arn:aws:sns:eu-west-1:123456789012:nope").send(failed_run_message())

    assert (result.channel, result.delivered, result.error) == ("sns-email", False, "EndpointConnectionError")


def test_alert_state_in_s3(moto: MotoEndpoint) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="lake-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    summary = summary_at(datetime.now(UTC), exit_code=1, status="failed")
    _, state = alerts_for_run(summary, AlertState(), AlertThresholds())

    assert load_alert_state("s3://lake-bucket/lake", s3_client=s3) == AlertState()
    assert (
        save_alert_state("s3://lake-bucket/lake", state, s3_client=s3)
        == "s3://lake-bucket/lake/_alerts/state.json"
    )
    assert load_alert_state("s3://lake-bucket/lake", s3_client=s3) == state
    body = s3.get_object(Bucket="lake-bucket", Key="lake/_alerts/state.json")["Body"].read()
    assert sorted(json.loads(body)["open"]["quickbite/orders"]) == ["run_failed"]
