"""The run's caches are uncompressed (``feedguard.lake.cache``), and the session keeps its own setting."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feedguard.lake.cache import COMPRESSED, persist_uncompressed


def cached_rdds(spark: SparkSession) -> dict[int, int]:
    """The cached RDDs of the session (Delta caches its tables' states too): id -> bytes in memory."""
    return {
        int(i.id()): int(i.memSize())
        for i in spark.sparkContext._jsc.sc().getRDDStorageInfo()
        if i.isCached()
    }


def two_texts(spark: SparkSession) -> DataFrame:
    """100,000 rows of two 101-character strings: a column Spark's cache compresses to almost nothing."""
    text = F.concat(F.lit("x" * 100), (F.col("id") % 2).cast("string"))
    return spark.range(100_000).select(text.alias("text"), F.col("id"))


def filled_size(spark: SparkSession, df: DataFrame) -> int:
    """Fill the cache of ``df``, check its rows, return its size, drop it."""
    before = cached_rdds(spark)
    try:
        row = df.agg(F.sum(F.length("text")), F.sum("id")).first()
        assert row is not None and tuple(row) == (10_100_000, sum(range(100_000)))
        filled = {rdd: size for rdd, size in cached_rdds(spark).items() if rdd not in before}
        assert len(filled) == 1
        return next(iter(filled.values()))
    finally:
        df.unpersist(blocking=True)


def test_the_run_cache_is_uncompressed_and_the_session_keeps_spark_s_default(spark: SparkSession) -> None:
    spark.conf.unset(COMPRESSED)
    default = filled_size(spark, two_texts(spark).persist(StorageLevel.MEMORY_ONLY))
    assert spark.conf.get(COMPRESSED, None) is None
    uncompressed = filled_size(spark, persist_uncompressed(two_texts(spark), StorageLevel.MEMORY_ONLY))
    assert spark.conf.get(COMPRESSED, None) is None  # unset again: Spark's default for the user's caches
    assert uncompressed > 100 * default


def test_a_value_the_user_set_is_kept(spark: SparkSession) -> None:
    spark.conf.set(COMPRESSED, "true")
    try:
        uncompressed = filled_size(spark, persist_uncompressed(two_texts(spark), StorageLevel.MEMORY_ONLY))
        assert spark.conf.get(COMPRESSED) == "true"
        compressed = filled_size(spark, two_texts(spark).persist(StorageLevel.MEMORY_ONLY))
        assert uncompressed > 100 * compressed
    finally:
        spark.conf.unset(COMPRESSED)
