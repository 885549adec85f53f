"""The ingest job reports to real local endpoints: CloudWatch and SNS on moto, Slack on a local receiver."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feedguard_dev.sinks import webhook_receiver
from jobs.ingest_files import main
from support.moto_server import REGION, running_moto_server

GOOD = json.dumps(
    {"order_id": "QB-00000001", "customer_id": "C000001", "customer_email": "ann@mail.example",
     "restaurant_id": "R1", "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "tip": 0.0,
     "total": 1.0, "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z"}
)  # fmt: skip
BAD = GOOD.replace('"total": 1.0', '"total": "one"')


def feed_file(first: int) -> str:
    """Four good orders and a bad one: 20% bad, at the threshold (above it the file is quarantined whole)."""
    lines = [GOOD.replace("QB-00000001", f"QB-{first + n:08d}") for n in range(4)]
    return "\n".join([*lines, BAD.replace("QB-00000001", f"QB-{first + 4:08d}")]) + "\n"


def test_job_publishes_metrics_and_alerts_once_per_change(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "in"
    feed.mkdir()
    (feed / "a.jsonl").write_text(feed_file(1))
    (feed / "b.jsonl").write_text(feed_file(6))
    with running_moto_server() as moto, webhook_receiver() as slack:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
            "FEEDGUARD_CLOUDWATCH_ENDPOINT": moto.url, "FEEDGUARD_SNS_ENDPOINT": moto.url,
            "FEEDGUARD_SLACK_WEBHOOK_URL": slack.endpoint(),
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        topic = moto.client("sns").create_topic(Name="feedguard-alerts")["TopicArn"]
        argv = ["ingest_files.py", "--JOB_NAME", "ingest-quickbite", "--source", "quickbite",
                "--dataset", "orders", "--lake_path", str(tmp_path / "lake"), "--metrics", "cloudwatch",
                "--environment", "test", "--alerts", "slack,email", "--sns_topic_arn", topic]  # fmt: skip
        assert main([*argv, "--input_path", str(feed / "a.jsonl")]) == 0
        assert main([*argv, "--input_path", str(feed / "b.jsonl")]) == 0  # still corrupt: no second alert

        cloudwatch = moto.client("cloudwatch")
        names = {
            m["MetricName"] for m in cloudwatch.list_metrics(Namespace="Feedguard/DataQuality")["Metrics"]
        }
        assert {"RecordsRead", "RecordsValid", "RecordsDeadLettered", "CorruptRatio", "DQSuccess"} <= names
        dims = [
            {"Name": "Source", "Value": "quickbite"},
            {"Name": "Dataset", "Value": "orders"},
            {"Name": "Job", "Value": "ingest-quickbite"},
            {"Name": "Environment", "Value": "test"},
        ]
        now = dt.datetime.now(dt.UTC)
        data = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {"Id": "read", "MetricStat": {"Metric": {"Namespace": "Feedguard/DataQuality",
                 "MetricName": "RecordsRead", "Dimensions": dims}, "Period": 60, "Stat": "Sum"}},
                {"Id": "dead", "MetricStat": {"Metric": {"Namespace": "Feedguard/DataQuality",
                 "MetricName": "RecordsDeadLettered", "Dimensions": dims}, "Period": 60, "Stat": "Sum"}},
            ],
            StartTime=now - dt.timedelta(hours=1),
            EndTime=now + dt.timedelta(minutes=5),
        )  # fmt: skip
        totals = {r["Id"]: sum(r["Values"]) for r in data["MetricDataResults"]}
        assert totals == {"read": 10.0, "dead": 2.0}

        assert len(slack.posts) == 1
        text = json.dumps(slack.posts[0].json)
        assert "intermittent corruption" in text and "quickbite/orders" in text
        assert "ann@mail.example" not in text  # the contract's PII field is masked
        notes = moto.sns_notifications(topic)
        assert len(notes) == 1 and "ann@mail.example" not in notes[0][1]

    metrics = spark.read.format("delta").load(str(tmp_path / "lake" / "_metrics"))
    assert metrics.where("metric_name = 'RecordsRead'").count() == 2
