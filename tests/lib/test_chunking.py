"""How a run cuts its input files into Spark partitions (``feedguard.ingest.sources``): every core gets the
same work, never two files or chunks in one partition, and the line numbers stay exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.ingest.file_checks import check_file
from feedguard.ingest.sources import MIN_CHUNK_BYTES, chunk_bytes, read_lines
from feedguard.lake.storage import list_files

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("total", "cores", "cap", "chunk"),
    [
        (346 * MB, 2, 128 * MB, 173 * MB // 2),  # 4 chunks of 86.5 MB, not 128 + 128 + 90
        (256 * MB, 2, 128 * MB, 128 * MB),  # already even
        (600 * MB, 2, 128 * MB, 100 * MB),  # 6 chunks: three rounds of two
        (346 * MB, 4, 128 * MB, 346 * MB // 4),  # one round of four
        (20 * MB, 2, 128 * MB, MIN_CHUNK_BYTES),  # small inputs are not cut finer than 16 MB
        (10 * MB, 2, 4 * MB, 4 * MB),  # nor ever above the user's maxPartitionBytes
        (0, 2, 128 * MB, 128 * MB),  # nothing splittable (gzip only): Spark's own size
    ],
)
def test_chunks_give_every_core_the_same_work(total: int, cores: int, cap: int, chunk: int) -> None:
    assert chunk_bytes(total, cores, cap) == chunk
    assert chunk <= cap


def test_a_file_cut_into_balanced_chunks_keeps_exact_lines(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40,000 bytes under a 16,384-byte cap on 2 cores: 4 chunks of 10,000 (not 16,384 + 16,384 + 7,232),
    one per partition, and every line once in order."""
    monkeypatch.setattr("feedguard.ingest.sources.MIN_CHUNK_BYTES", 0)
    lines = [f"line {n:05d} " + "x" * 28 for n in range(1, 1001)]  # 40 bytes each with the newline
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n")
    files = [check_file(info) for info in list_files(str(tmp_path))]
    assert files[0].info.size == 40_000
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16384")
    try:
        df = read_lines(spark, files)
        per_partition = (
            df.groupBy(F.spark_partition_id().alias("p"))
            .agg(F.countDistinct("_block_start").alias("chunks"), F.min("_block_start").alias("start"))
            .collect()
        )
        rows = df.select("_block_start", "_row_in_block", "_raw").collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert df.rdd.getNumPartitions() == 4
    assert sorted(r["start"] for r in per_partition) == [0, 10_000, 20_000, 30_000]
    assert all(r["chunks"] == 1 for r in per_partition)
    ordered = sorted(rows, key=lambda r: (r["_block_start"], r["_row_in_block"]))
    assert [r["_raw"] for r in ordered] == lines
