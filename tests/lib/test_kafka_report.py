"""The Kafka run summary: status, lag, loss and outages; the message-loss alert."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedguard.contracts.contract import load_contract
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import KafkaFeed
from feedguard.kafka.offsets import plan_batch
from feedguard.kafka.outage import Attempt, BrokerUnavailableError, Outage, OutageGuard, OutagePolicy
from feedguard.kafka.report import BatchResult, Progress, kafka_summary, message_loss_alert, run_status
from feedguard.kafka.state import Batch, BatchState
from feedguard.summary import RunSummary

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "foodnow" / "order_events.v1.yaml"
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CTX = RunContext("foodnow", "order_events", 1, "run-7", "2025-06-01T12:00:00Z")
FEED = KafkaFeed("b:9092", "orders", "feedguard-foodnow-order_events")


def summary_of(progress: Progress, guard: OutageGuard | None = None) -> RunSummary:
    return kafka_summary(
        CTX, FEED, job_name="j", lake_root="lake", progress=progress, guard=guard or OutageGuard(),
        started=T0, ended=T0 + timedelta(seconds=9),
    )  # fmt: skip


def lossy_progress() -> Progress:
    plan = plan_batch("orders", {0: 3, 1: 0}, earliest={0: 5, 1: 0}, latest={0: 9, 1: 2})
    return Progress(
        earliest={0: 5, 1: 0},
        latest={0: 9, 1: 2},
        state=BatchState({0: 3}, 1, T0 - timedelta(days=8)),
        batch=Batch(2, plan),
        result=BatchResult(5, 1, {"malformed_json": 1}, {1: 1}),
        next_offsets={0: 9, 1: 2},
        group_committed=True,
    )


def test_a_lossy_batch_reports_its_ranges_lag_and_counts() -> None:
    summary = summary_of(lossy_progress())
    by_name: Mapping[str, object] = summary  # the same mapping, indexed by non-literal keys

    assert run_status(lossy_progress()) == ("succeeded_with_message_loss", 0)
    counts = ("records_read", "records_valid", "records_dead_lettered", "batch_seq")
    assert [by_name[k] for k in counts] == [6, 5, 1, 2]
    assert (summary["messages_lost"], summary["lost_ranges"]) == (
        2, [{"partition": 0, "start": 3, "end": 5, "count": 2}],
    )  # fmt: skip
    lags = ("consumer_lag", "consumer_lag_by_partition", "consumer_lag_after_run")
    assert [by_name[k] for k in lags] == [8, {"0": 6, "1": 2}, {"0": 0, "1": 0}]
    assert [p["dead_lettered"] for p in summary["partitions"]] == [0, 1]  # type: ignore[attr-defined]
    assert summary["message"] == (
        "succeeded_with_message_loss: batch 2 of orders: read 6 messages, 5 valid, 1 dead-lettered; "
        "2 message(s) expired before they were read (retention)"
    )


def test_a_broker_away_past_the_window_is_exit_75_with_the_outage_in_the_summary() -> None:
    outage = Outage(
        "fetch offsets", T0, [Attempt(1, T0, "NoBrokersAvailable")], gave_up_at=T0 + timedelta(seconds=4)
    )
    policy = OutagePolicy(expected_downtime=timedelta(seconds=3))
    guard = OutageGuard(policy)
    guard.outages.append(outage)

    summary = summary_of(Progress(failure=BrokerUnavailableError(outage, policy)), guard)

    assert (summary["status"], summary["exit_code"], summary["records_read"], summary["consumer_lag"]) == (
        "broker_unavailable", 75, 0, None,
    )  # fmt: skip
    assert summary["downtime_seconds"] == 4.0
    assert str(summary["message"]).startswith(
        "Kafka broker unreachable for 4.0 s (1 attempts at fetch offsets)"
    )


def test_the_loss_alert_lists_the_ranges_and_reaches_the_contract_owner() -> None:
    summary = summary_of(lossy_progress())

    alert = message_loss_alert(summary, load_contract(CONTRACT))

    assert (alert.kind, alert.severity, alert.recipients) == (
        "message_loss", "critical", ("oncall", "owner:streaming@foodnow.example"),
    )  # fmt: skip
    assert alert.subject == "[feedguard] CRITICAL foodnow/order_events: 2 messages lost to retention"
    assert "- partition 0: 3 to 4 (2)" in alert.text and "re-publish" in alert.text
