"""SLA ledger rows: one per outage seen by a run, one per retention loss."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from feedguard.kafka.offsets import OffsetRange
from feedguard.kafka.outage import Attempt, Outage
from feedguard.kafka.sla import (
    BROKER_UNREACHABLE,
    RETENTION_LOSS,
    SLA_LEDGER_DDL,
    SLA_SCHEMA,
    SlaLedgerRow,
    sla_entries,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def outage(seconds: float, *, recovered: bool, in_window: bool = False) -> Outage:
    end = T0 + timedelta(seconds=seconds)
    return Outage(
        "fetch offsets",
        T0,
        [Attempt(1, T0, "NoBrokersAvailable"), Attempt(2, end - timedelta(seconds=1), "NoBrokersAvailable")],
        recovered_at=end if recovered else None,
        gave_up_at=None if recovered else end,
        in_maintenance_window=in_window,
    )


def test_the_ledger_schema_extends_the_outage_ledger_columns() -> None:
    base = [column.split()[0] for column in SLA_LEDGER_DDL.split(", ")]

    assert SLA_SCHEMA.fieldNames() == [*base, "kind", "lost_ranges", "attempts", "failed_call"]


def test_each_outage_is_a_row_and_only_a_recovered_one_has_a_lag_at_recovery() -> None:
    entries = sla_entries(
        "t",
        [outage(90, recovered=False, in_window=True), outage(40, recovered=True)],
        run_id="r",
        consumer_lag_at_recovery=123,
        detected_at=T0 + timedelta(minutes=5),
    )

    assert [e.as_tuple() for e in entries] == [
        ("t", T0, T0 + timedelta(seconds=90), 90.0, "r", 0, None, True, BROKER_UNREACHABLE, "[]", 2,
         "fetch offsets"),
        ("t", T0, T0 + timedelta(seconds=40), 40.0, "r", 0, 123, False, BROKER_UNREACHABLE, "[]", 2,
         "fetch offsets"),
    ]  # fmt: skip


def test_a_retention_loss_runs_from_the_last_commit_to_its_detection() -> None:
    away = T0 - timedelta(days=8)
    lost = (OffsetRange(0, 10, 14), OffsetRange(2, 0, 3))

    (entry,) = sla_entries(
        "t", [], run_id="r", lost_ranges=lost, consumer_lag_at_recovery=50, away_since=away, detected_at=T0
    )

    assert entry.row == SlaLedgerRow("t", away, T0, 8 * 86400.0, "r", 7, 50, False)
    assert (entry.kind, entry.attempts, entry.failed_call) == (RETENTION_LOSS, 0, None)
    assert json.loads(entry.as_tuple()[9]) == [
        {"partition": 0, "start": 10, "end": 14, "count": 4},
        {"partition": 2, "start": 0, "end": 3, "count": 3},
    ]


def test_nothing_to_record_without_outages_or_loss() -> None:
    assert sla_entries("t", [], run_id="r", lost_ranges=(OffsetRange(0, 4, 4),), detected_at=T0) == []
