"""The run's caches: uncompressed column batches.

A run caches its parsed records once and reads them a few times (the counts, the quality gate, the
writes), then drops them. Spark compresses every cached column batch by default, trying encodings per
column; for these rows that costs more than it saves. Measured on 1M QuickBite records (the parsed and
flagged rows of ``feedguard.parse.measure``, ``local[2]``, three runs each): persist and the counting pass
20.6 / 20.6 / 21.5 s compressed, 14.4 / 13.9 / 12.4 s uncompressed, for a cache of 109 MB against 118 MB
(docs/benchmarks.md).

Spark takes the setting from the session when ``persist()`` is called (it plans the cache then), so
:func:`persist_uncompressed` sets it for that call only and restores the session's own value: the rest of
the session (a user's own caches) keeps the user's setting.
"""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame

COMPRESSED = "spark.sql.inMemoryColumnarStorage.compressed"


def persist_uncompressed(df: DataFrame, level: StorageLevel = StorageLevel.MEMORY_AND_DISK) -> DataFrame:
    """``df.persist(level)``, its column batches uncompressed; the session's setting is left as it was."""
    conf = df.sparkSession.conf
    before = conf.get(COMPRESSED, None)
    conf.set(COMPRESSED, "false")
    try:
        return df.persist(level)
    finally:
        if before is None:
            conf.unset(COMPRESSED)
        else:
            conf.set(COMPRESSED, before)


__all__ = ["COMPRESSED", "persist_uncompressed"]
