"""The write-ahead batch plan in ``<lake>/_kafka_offsets``: exactly once across runs.

One row per (topic, partition, batch_seq). A run appends its batch as ``planned`` *before* it reads,
writes the data with Delta idempotent writes keyed by ``batch_seq``, then appends the same ranges as
``committed``. The next run first looks for a planned batch that was never committed and re-executes
exactly that range with the same ``batch_seq`` (the idempotent writes skip what already landed);
otherwise it plans a new batch from the committed next offsets.

Example::

    state = read_batch_state(spark, offsets_path, topic)
    batch = choose_batch(state, topic, earliest, latest, max_per_partition=500_000)
    append_offset_rows(spark, offsets_path, offset_rows(batch, "planned", run_id, now))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.kafka.offsets import BatchPlan, OffsetRange, PartitionPlan, plan_batch
from feedguard.records import Int32, spark_schema

PLANNED = "planned"
COMMITTED = "committed"


@dataclass(frozen=True)
class OffsetRow:
    """One row of ``_kafka_offsets`` (its schema, :data:`OFFSETS_SCHEMA`, is derived from it)."""

    topic: str
    partition: Int32
    batch_seq: int
    status: str
    start_offset: int
    end_offset: int
    expected_offset: int | None
    earliest_offset: int
    latest_offset: int
    lost_start: int | None
    lost_end: int | None
    run_id: str
    planned_at: dt.datetime
    committed_at: dt.datetime | None = None

    def as_tuple(self) -> tuple[Any, ...]:
        return dataclasses.astuple(self)

    def partition_plan(self) -> PartitionPlan:
        lost = None
        if self.lost_start is not None and self.lost_end is not None:
            lost = OffsetRange(self.partition, self.lost_start, self.lost_end)
        return PartitionPlan(
            self.partition,
            self.expected_offset,
            self.earliest_offset,
            self.latest_offset,
            self.start_offset,
            self.end_offset,
            lost,
        )


OFFSETS_SCHEMA = spark_schema(OffsetRow)


@dataclass(frozen=True)
class BatchState:
    """What ``_kafka_offsets`` says about a topic before this run."""

    committed: dict[int, int]  # next offset per partition, from committed batches
    last_seq: int  # highest batch_seq ever planned (0: none)
    last_committed_at: dt.datetime | None
    pending_seq: int | None = None  # a planned batch that was never committed
    pending: tuple[OffsetRow, ...] = ()
    last_batch: tuple[OffsetRow, ...] = ()  # the committed rows of the last committed batch


@dataclass(frozen=True)
class Batch:
    """The batch this run executes: its sequence number and plan; ``resumed`` = planned by an earlier run."""

    seq: int
    plan: BatchPlan
    resumed: bool = False
    replanned: bool = False  # resumed, but retention removed part of it since: new planned rows needed

    @property
    def needs_run(self) -> bool:
        """True when there is something to read or a loss to record."""
        return self.plan.messages_planned > 0 or bool(self.plan.lost_ranges)

    @property
    def read_ranges(self) -> tuple[OffsetRange, ...]:
        return tuple(OffsetRange(p.partition, p.start, p.end) for p in self.plan.partitions)


def aware(ts: dt.datetime) -> dt.datetime:
    """UTC-aware: PySpark collects timestamps as naive *local* times (and takes naive ones as local)."""
    return ts.astimezone(dt.UTC)


def batch_state(rows: Iterable[OffsetRow]) -> BatchState:
    """Fold the topic's rows (at least the last committed batch and anything after it) into a state."""
    rows = list(rows)
    committed_rows = [r for r in rows if r.status == COMMITTED]
    committed: dict[int, int] = {}
    for r in committed_rows:
        committed[r.partition] = max(committed.get(r.partition, 0), r.end_offset)
    last_committed_seq = max((r.batch_seq for r in committed_rows), default=0)
    last_at = max((aware(r.committed_at) for r in committed_rows if r.committed_at), default=None)
    pending_rows = [r for r in rows if r.status == PLANNED and r.batch_seq > last_committed_seq]
    last_batch = tuple(sorted((r for r in committed_rows if r.batch_seq == last_committed_seq),
                              key=lambda r: r.partition))  # fmt: skip
    state = BatchState(committed, max((r.batch_seq for r in rows), default=0), last_at, last_batch=last_batch)
    if not pending_rows:
        return state
    seq = min(r.batch_seq for r in pending_rows)
    latest: dict[int, OffsetRow] = {}
    for r in sorted((r for r in pending_rows if r.batch_seq == seq), key=lambda r: aware(r.planned_at)):
        latest[r.partition] = r  # a re-planned batch: its newest rows win
    return dataclasses.replace(state, pending_seq=seq, pending=tuple(latest[p] for p in sorted(latest)))


def _without_expired(p: PartitionPlan, earliest: int) -> PartitionPlan:
    """``p`` with the offsets retention removed since it was planned counted as lost."""
    if earliest <= p.start:
        return p
    start = min(earliest, p.end)
    lost_from = p.lost.start if p.lost is not None else p.start
    return dataclasses.replace(p, start=start, lost=OffsetRange(p.partition, lost_from, start))


def choose_batch(
    state: BatchState,
    topic: str,
    earliest: Mapping[int, int],
    latest: Mapping[int, int],
    max_per_partition: int | None = None,
) -> Batch:
    """The pending batch again (exactly its range), else a new one from the committed next offsets.

    >>> state = batch_state([])
    >>> batch = choose_batch(state, "t", {0: 0}, {0: 5})
    >>> batch.seq, batch.plan.ending_offsets_json, batch.resumed
    (1, '{"t":{"0":5}}', False)
    """
    if state.pending_seq is not None:
        planned = tuple(r.partition_plan() for r in state.pending)
        missing = [p.partition for p in planned if p.partition not in earliest]
        if missing:
            raise ValueError(f"partitions {missing} of pending batch {state.pending_seq} left {topic}")
        adjusted = tuple(_without_expired(p, earliest[p.partition]) for p in planned)
        return Batch(state.pending_seq, BatchPlan(topic, adjusted), True, adjusted != planned)
    plan = plan_batch(topic, state.committed, earliest, latest, max_per_partition=max_per_partition)
    return Batch(state.last_seq + 1, plan)


def committed_batch(rows: Sequence[OffsetRow]) -> Batch:
    """The batch that ``rows`` (the committed rows of one batch) record, as it was planned."""
    return Batch(rows[0].batch_seq, BatchPlan(rows[0].topic, tuple(r.partition_plan() for r in rows)))


def offset_rows(batch: Batch, status: str, run_id: str, at: dt.datetime) -> list[OffsetRow]:
    """The batch's rows with ``status`` (``planned_at``/``committed_at`` = ``at``, timezone-aware)."""
    at = aware(at)
    return [
        OffsetRow(
            batch.plan.topic,
            p.partition,
            batch.seq,
            status,
            p.start,
            p.end,
            p.expected,
            p.earliest,
            p.latest,
            p.lost.start if p.lost else None,
            p.lost.end if p.lost else None,
            run_id,
            at,
            at if status == COMMITTED else None,
        )
        for p in batch.plan.partitions
    ]


def read_batch_state(spark: SparkSession, path: str, topic: str) -> BatchState:
    """The state of ``topic``: rows of its last committed batch and of anything planned after it."""
    if not DeltaTable.isDeltaTable(spark, path):
        return batch_state([])
    rows = spark.read.format("delta").load(path).where(F.col("topic") == topic)
    last = rows.where(F.col("status") == COMMITTED).agg(F.max("batch_seq")).first()
    since = int(last[0]) if last is not None and last[0] is not None else 0
    recent = rows.where(F.col("batch_seq") >= since).collect()
    return batch_state(OffsetRow(**r.asDict()) for r in recent)


def append_offset_rows(spark: SparkSession, path: str, rows: list[OffsetRow]) -> None:
    """Append rows to ``_kafka_offsets`` (one Delta commit: all partitions of a batch or none)."""
    if rows:
        frame = spark.createDataFrame([r.as_tuple() for r in rows], OFFSETS_SCHEMA)
        frame.write.format("delta").mode("append").save(path)
