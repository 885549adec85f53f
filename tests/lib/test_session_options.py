"""The local driver's JVM options (class archive) and Delta's snapshot size, on the suite's real session."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from feedguard.runtime.session import (
    class_archive_options,
    class_archive_path,
    local_conf,
    size_delta_snapshots,
    snapshot_partitions,
)

QUIET = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"


def test_an_existing_archive_is_mapped_quietly(tmp_path: Path) -> None:
    archive = tmp_path / "driver.jsa"
    archive.write_bytes(b"x")
    assert class_archive_options(archive, None) == f"-XX:SharedArchiveFile={archive} {QUIET}"


def test_a_missing_archive_adds_no_option(tmp_path: Path) -> None:
    assert class_archive_options(tmp_path / "absent.jsa", None) == ""


def test_the_training_run_dumps_instead_of_mapping(tmp_path: Path) -> None:
    archive = tmp_path / "driver.jsa"
    archive.write_bytes(b"x")
    assert class_archive_options(archive, "/tmp/out.jsa") == f"-XX:ArchiveClassesAtExit=/tmp/out.jsa {QUIET}"


def test_only_local_masters_get_driver_options() -> None:
    assert local_conf("yarn") == {}
    options = local_conf("local[2]")["spark.driver.extraJavaOptions"]
    assert options.startswith("-Dlog4j2.configurationFile=file:") and "-XX:+UseParallelGC" in options


@pytest.mark.jvm
def test_make_setup_wrote_the_archive_and_the_driver_maps_it(spark: SparkSession) -> None:
    archive = class_archive_path()
    assert archive.is_file() and archive.stat().st_size > 10 * (1 << 20)
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments
    # The JVM maps it (a mismatched archive is skipped silently): the mapped size holds the JDK's own
    # base archive (about 13 MB) plus ours.
    pid = jvm.java.lang.ProcessHandle.current().pid()
    info = subprocess.run(["jcmd", str(pid), "VM.info"], capture_output=True, text=True, check=True).stdout
    mapped = re.search(r"CDS archive\(s\) mapped at: .*, size (\d+),", info)
    assert mapped is not None, info[:2000]
    assert int(mapped.group(1)) > archive.stat().st_size


@pytest.mark.jvm
def test_delta_snapshots_keep_a_setting_made_before_the_session(spark: SparkSession) -> None:
    key = "spark.databricks.delta.snapshotPartitions"
    assert spark.sparkContext.getConf().get(key) == "2"  # TEST_CONF, given to the builder
    size_delta_snapshots(spark)
    assert spark.conf.get(key) == "2"


def test_snapshot_partitions_follow_the_cores_up_to_deltas_default() -> None:
    assert [snapshot_partitions(n) for n in (0, 1, 2, 8, 50, 400)] == [1, 1, 2, 8, 50, 50]


@pytest.mark.jvm
def test_a_job_session_sizes_delta_snapshots_when_nobody_did(tmp_path: Path) -> None:
    """A plain job process (no conf of its own) on ``local[3]``: three snapshot partitions."""
    script = (
        "from feedguard.runtime.session import build_session\n"
        "spark = build_session('snapshot-size', master='local[3]')\n"
        "print(spark.conf.get('spark.databricks.delta.snapshotPartitions'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "3"
