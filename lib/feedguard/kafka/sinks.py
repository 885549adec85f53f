"""Sink: a Delta append that happens at most once per (application id, version).

Delta's idempotent writes (``txnAppId`` + ``txnVersion``) skip a write whose version the table has
already recorded for that application id, without running the query. A batch re-executed after a crash
therefore writes nothing twice: what landed before the crash is skipped, the rest is written.

Example::

    written = append_once(valid, table, app_id="feedguard-kafka:orders:valid", version=7,
                          commit_tag=f"{run_id}:valid:7", partition_by=("ingest_date",))
    if written is None:
        ...  # batch 7 was written by an earlier run: count its rows in the table instead
"""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

HISTORY_DEPTH = 50  # commits searched for our tag (other jobs may append to a shared table meanwhile)


def app_id(topic: str, table: str) -> str:
    """The ``txnAppId`` of one topic's writes into one table (``valid`` or ``dead_letter``)."""
    return f"feedguard-kafka:{topic}:{table}"


def append_once(
    df: DataFrame,
    path: str,
    *,
    app_id: str,
    version: int,
    commit_tag: str,
    partition_by: tuple[str, ...] = (),
    merge_schema: bool = False,
) -> int | None:
    """Append ``df`` unless ``(app_id, version)`` was written already; rows written, or None if skipped.

    ``commit_tag`` must be unique to this attempt: the commit is tagged with it (``userMetadata``) and
    its ``numOutputRows`` read back from the table history, so the count comes from Delta's log.
    """
    writer = (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", str(version))
        .option("userMetadata", commit_tag)
    )
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)
    rows = (
        DeltaTable.forPath(df.sparkSession, path)
        .history(HISTORY_DEPTH)
        .where(F.col("userMetadata") == commit_tag)
        .select("operationMetrics")
        .collect()
    )
    if not rows:
        return None
    return sum(int((r["operationMetrics"] or {}).get("numOutputRows", "0")) for r in rows)
