"""The Kafka job's arguments: resolved like Glue does, unpacked into plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedguard.errors import UsageError
from feedguard.kafka.config import (
    KafkaFeed,
    bootstrap_servers,
    kafka_feed,
    maintenance_windows,
    outage_policy,
    positive_int,
)
from feedguard.runtime.args import KAFKA_JOB_ARGS, resolve_args

REQUIRED = ["--source", "foodnow", "--dataset", "order_events", "--bootstrap_servers", "b:9092",
            "--topic", "orders", "--lake_path", "lake"]  # fmt: skip


def test_defaults_and_glue_flags_pass_through() -> None:
    opts = resolve_args(
        ["job.py", *REQUIRED, "--JOB_ID", "j_1", "--job-bookmark-option", "job-bookmark-disable"],
        KAFKA_JOB_ARGS,
    )

    assert (opts["JOB_NAME"], opts["expected_downtime_minutes"], opts["strict_metrics"]) == (
        "feedguard-ingest-kafka", "30", False,
    )  # fmt: skip
    assert kafka_feed(opts) == KafkaFeed("b:9092", "orders", "feedguard-foodnow-order_events", None)


def test_every_option_is_taken() -> None:
    argv = ["job.py", *REQUIRED, "--consumer_group", "g", "--max_offsets_per_partition", "500000",
            "--expected_downtime_minutes", "0.5", "--strict-metrics",
            "--maintenance_windows", "2025-06-01T02:00:00Z/2025-06-01T04:00:00Z"]  # fmt: skip

    opts = resolve_args(argv, KAFKA_JOB_ARGS)
    policy = outage_policy(opts["expected_downtime_minutes"], opts["maintenance_windows"])

    assert kafka_feed(opts) == KafkaFeed("b:9092", "orders", "g", 500_000)
    assert opts["strict_metrics"] is True
    assert policy.expected_downtime == timedelta(seconds=30)
    assert policy.window_at(datetime(2025, 6, 1, 3, 0, tzinfo=UTC)) is not None


def test_a_missing_required_flag_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="topic"):
        resolve_args(["job.py", *REQUIRED[:6], *REQUIRED[8:]], KAFKA_JOB_ARGS)


def test_several_maintenance_windows_separated_by_commas() -> None:
    text = "2025-06-01T02:00:00Z/2025-06-01T04:00:00Z, 2025-06-08T02:00:00+02:00/2025-06-08T03:00:00+02:00"

    windows = maintenance_windows(text)

    assert [(w.start.isoformat(), (w.end - w.start).total_seconds()) for w in windows] == [
        ("2025-06-01T02:00:00+00:00", 7200.0),
        ("2025-06-08T02:00:00+02:00", 3600.0),
    ]
    assert maintenance_windows(None) == maintenance_windows("") == ()


@pytest.mark.parametrize(
    ("minutes", "windows", "message"),
    [
        ("soon", None, "expects minutes"),
        ("0", None, "must be above 0"),
        ("30", "2025-06-01T02:00:00Z", "not a START/END interval"),
        ("30", "2025-06-01T02:00:00/2025-06-01T04:00:00", "not a START/END interval"),
        ("30", "2025-06-01T04:00:00Z/2025-06-01T02:00:00Z", "not a START/END interval"),
    ],
)
def test_bad_outage_settings_are_usage_errors(minutes: str, windows: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        outage_policy(minutes, windows)


@pytest.mark.parametrize("value", ["0", "-3", "lots"])
def test_max_offsets_must_be_a_positive_integer(value: str) -> None:
    assert positive_int("n", None) is None and positive_int("n", "7") == 7
    with pytest.raises(UsageError, match="--n expects a positive integer"):
        positive_int("n", value)


@pytest.mark.parametrize(
    ("text", "servers"),
    [
        ("b:9092", "b:9092"),
        ("b-1.msk.eu-west-1.amazonaws.com:9094, b-2.msk.eu-west-1.amazonaws.com:9094",
         "b-1.msk.eu-west-1.amazonaws.com:9094,b-2.msk.eu-west-1.amazonaws.com:9094"),
        ("10.0.0.7:9092,[::1]:9092", "10.0.0.7:9092,[::1]:9092"),
    ],
)  # fmt: skip
def test_bootstrap_servers_are_host_port_lists(text: str, servers: str) -> None:
    assert (
        kafka_feed(resolve_args(["job", *REQUIRED[:5], text, *REQUIRED[6:]], KAFKA_JOB_ARGS)).bootstrap
        == servers
    )


@pytest.mark.parametrize("text", ["b", "b:", ":9092", "b:0", "b:65536", "b:x", "b 1:9092", "kafka://b:9092",
                                  "b:9092;c:9092", "b:9092,", "-b:9092"])  # fmt: skip
def test_a_bad_bootstrap_string_is_a_usage_error_naming_the_bad_server(text: str) -> None:
    with pytest.raises(UsageError, match=f"^--bootstrap_servers {text!r}: .* is not host:port"):
        bootstrap_servers(text)
