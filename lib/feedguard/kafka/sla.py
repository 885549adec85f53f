"""The SLA ledger ``<lake>/_kafka_sla``: one row per broker outage, and one per retention loss.

The columns are :data:`SLA_LEDGER_DDL` (an :class:`SlaLedgerRow`, one per
:class:`~feedguard.kafka.outage.Outage`) followed by ``kind`` (``broker_unreachable`` or
``retention_loss``), ``lost_ranges`` (JSON), the number of failed ``attempts`` and the broker call that
failed (``failed_call``).

A retention loss is the consumer's absence rather than a broker outage: its row runs from the last commit
(when this consumer last read the topic) to the run that noticed the loss.

Example::

    entries = sla_entries(topic, guard.outages, run_id=run_id, lost_ranges=plan.lost_ranges,
                          consumer_lag_at_recovery=lag, away_since=state.last_committed_at, detected_at=now)
    append_sla_entries(spark, sla_path, entries)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from feedguard.kafka.offsets import OffsetRange
from feedguard.kafka.outage import Outage
from feedguard.records import Int32, as_row, spark_schema

BROKER_UNREACHABLE = "broker_unreachable"
RETENTION_LOSS = "retention_loss"


@dataclass(frozen=True)
class SlaLedgerRow:
    """One row of ``<lake>/_kafka_sla`` (its columns: :data:`SLA_LEDGER_DDL`)."""

    topic: str
    outage_start: dt.datetime
    outage_end: dt.datetime
    duration_seconds: float
    detected_by_run_id: str
    messages_lost: int
    consumer_lag_at_recovery: int | None
    in_maintenance_window: bool

    @classmethod
    def from_outage(
        cls,
        topic: str,
        outage: Outage,
        *,
        run_id: str,
        messages_lost: int = 0,
        consumer_lag_at_recovery: int | None = None,
    ) -> SlaLedgerRow:
        """The ledger row for an outage this run saw (lag: total over partitions, once reachable)."""
        return cls(
            topic,
            outage.started_at,
            outage.ended_at,
            outage.duration_seconds,
            run_id,
            messages_lost,
            consumer_lag_at_recovery,
            outage.in_maintenance_window,
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The outage columns of ``<lake>/_kafka_sla`` as Spark DDL (the whole table: :data:`SLA_SCHEMA`).
SLA_LEDGER_DDL = ", ".join(
    f"{f.name} {f.dataType.simpleString().upper()}" for f in spark_schema(SlaLedgerRow)
)


@dataclass(frozen=True)
class SlaTableRow:
    """One row of ``<lake>/_kafka_sla``: the outage (an :class:`SlaLedgerRow`'s columns), then its kind,
    the offset ranges lost (JSON), the failed attempts and the broker call that failed."""

    topic: str
    outage_start: dt.datetime | None
    outage_end: dt.datetime | None
    duration_seconds: float | None
    detected_by_run_id: str
    messages_lost: int
    consumer_lag_at_recovery: int | None
    in_maintenance_window: bool
    kind: str
    lost_ranges: str
    attempts: Int32
    failed_call: str | None


SLA_SCHEMA = spark_schema(SlaTableRow)


@dataclass(frozen=True)
class SlaEntry:
    """A ledger row plus what kind of event it records."""

    row: SlaLedgerRow
    kind: str
    lost_ranges: tuple[OffsetRange, ...] = ()
    attempts: int = 0
    failed_call: str | None = None

    def as_tuple(self) -> tuple[Any, ...]:
        row = SlaTableRow(
            **dataclasses.asdict(self.row),
            kind=self.kind,
            lost_ranges=ranges_json(self.lost_ranges),
            attempts=self.attempts,
            failed_call=self.failed_call,
        )
        return as_row(row)


def ranges_json(ranges: Sequence[OffsetRange]) -> str:
    """``[{"partition": 0, "start": 1, "end": 5, "count": 4}]`` (``end`` exclusive)."""
    return json.dumps([{**dataclasses.asdict(r), "count": r.count} for r in ranges], separators=(",", ":"))


def sla_entries(
    topic: str,
    outages: Sequence[Outage],
    *,
    run_id: str,
    lost_ranges: Sequence[OffsetRange] = (),
    consumer_lag_at_recovery: int | None = None,
    away_since: dt.datetime | None = None,
    detected_at: dt.datetime,
) -> list[SlaEntry]:
    """The ledger rows of one run: its outages (lag at recovery on recovered ones) and any retention loss."""
    entries = [
        SlaEntry(
            SlaLedgerRow.from_outage(
                topic,
                outage,
                run_id=run_id,
                consumer_lag_at_recovery=consumer_lag_at_recovery if outage.recovered else None,
            ),
            BROKER_UNREACHABLE,
            attempts=len(outage.attempts),
            failed_call=outage.what,
        )
        for outage in outages
    ]
    lost = sum(r.count for r in lost_ranges)
    if lost:
        start = away_since or detected_at
        row = SlaLedgerRow(
            topic,
            start,
            detected_at,
            (detected_at - start).total_seconds(),
            run_id,
            lost,
            consumer_lag_at_recovery,
            False,
        )
        entries.append(SlaEntry(row, RETENTION_LOSS, tuple(lost_ranges)))
    return entries


def append_sla_entries(spark: SparkSession, path: str, entries: Sequence[SlaEntry]) -> None:
    """Append the entries to ``<lake>/_kafka_sla`` (Delta) in one commit."""
    if entries:
        frame = spark.createDataFrame([e.as_tuple() for e in entries], SLA_SCHEMA)
        frame.write.format("delta").mode("append").save(path)
