"""One SparkSession factory, composed of "builder in, builder out" helpers.

Spark configuration is data: :data:`BASE_CONF` and the helpers below return builders, so jobs,
tests and benchmarks build the same session. Jars are taken from the local cache that
``make setup`` fills (``.cache/jars/spark``); on AWS Glue, Delta comes from
``--datalake-formats delta`` and the cache is absent, which is fine.

Example::

    spark = build_session("feedguard-ingest", kafka=True)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import SparkSession

from feedguard.errors import UsageError

DELTA_JARS = ("delta-spark_2.12-", "delta-storage-")
# jvm/ (built by ``make setup``): the JSON flag's one-pass form; without it the SQL form is used.
FEEDGUARD_JARS = ("feedguard-jvm-",)
KAFKA_JARS = (
    "spark-sql-kafka-0-10_2.12-",
    "spark-token-provider-kafka-0-10_2.12-",
    "kafka-clients-",
    "commons-pool2-",
)

BASE_CONF: Mapping[str, str] = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "UTC",
    # A timestamp only Spark 2's parser would read is a bad value (try_to_timestamp -> NULL ->
    # type_mismatch), not SparkUpgradeException failing the whole run.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.databricks.delta.schema.autoMerge.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

# Fast settings for tests: tiny shuffles, no UI, no Delta housekeeping.
TEST_CONF: Mapping[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.stalenessLimit": "0",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.memory": "4g",  # one session runs the whole suite, 50 MB lines included
}


def _submitted_master() -> str | None:
    """The master ``spark-submit`` (or Glue) started the driver with, or None under plain ``python``."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    from pyspark import SparkConf

    return SparkConf().get("spark.master", None)


def jar_cache_dir() -> Path:
    """The folder ``make setup`` fills with jars (override with ``FEEDGUARD_JARS_DIR``)."""
    override = os.environ.get("FEEDGUARD_JARS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / ".cache" / "jars" / "spark"  # <repo>/lib/feedguard/runtime/


def cached_jars(prefixes: tuple[str, ...], folder: Path | None = None) -> list[str]:
    """Paths of the cached jars whose file names start with one of ``prefixes``."""
    folder = folder or jar_cache_dir()
    if not folder.is_dir():
        return []
    return sorted(
        str(p) for p in folder.glob("*.jar") if any(p.name.startswith(prefix) for prefix in prefixes)
    )


def with_jars(builder: SparkSession.Builder, jars: list[str]) -> SparkSession.Builder:
    """Add local jars to the builder (no network resolution at run time)."""
    return builder.config("spark.jars", ",".join(jars)) if jars else builder


def with_conf(builder: SparkSession.Builder, conf: Mapping[str, str]) -> SparkSession.Builder:
    """Apply a configuration mapping to the builder."""
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")


# The driver's class archive (Java's class data sharing), written by ``make setup``
# (``feedguard_dev.class_archive``): the classes a run loads, already parsed and verified. A local run's
# driver maps it instead of loading thousands of classes from jars: seconds of every process start.
CLASS_ARCHIVE_NAME = "driver-classes.jsa"
# Set by the archive's training run: the driver writes the classes it loaded to this path when it exits.
CLASS_ARCHIVE_DUMP_ENV = "FEEDGUARD_CLASS_ARCHIVE_DUMP"


def class_archive_path() -> Path:
    return jar_cache_dir().parent / CLASS_ARCHIVE_NAME


def class_archive_options(archive: Path, dump_to: str | None) -> str:
    """The driver JVM's class-sharing options: dump to ``dump_to``, else use ``archive`` when it exists.

    An archive of another JDK or class path is ignored by the JVM (``-Xshare:auto``); its warning is
    turned off, as the driver's output is the job's.
    """
    quiet = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
    if dump_to:
        return f"-XX:ArchiveClassesAtExit={dump_to} {quiet}"
    if archive.is_file():
        return f"-XX:SharedArchiveFile={archive} {quiet}"
    return ""


def local_conf(master: str) -> dict[str, str]:
    """Settings for local mode only: stay on loopback, quiet logging, a sane JVM, the class archive."""
    if not master.startswith("local"):
        return {}
    sharing = class_archive_options(class_archive_path(), os.environ.get(CLASS_ARCHIVE_DUMP_ENV))
    return {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.extraJavaOptions": (
            f"-Dlog4j2.configurationFile=file:{LOG4J2_CONFIG} -XX:+UseParallelGC {sharing}".strip()
        ),
    }


def build_session(
    app_name: str,
    *,
    master: str | None = None,
    kafka: bool = False,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Build (or reuse) the SparkSession for a job, with Delta and optionally the Kafka source."""
    builder = SparkSession.builder.appName(app_name)
    submitted = _submitted_master()
    chosen = master or submitted or os.environ.get("FEEDGUARD_SPARK_MASTER") or "local[*]"
    if chosen != submitted:
        builder = builder.master(chosen)
    builder = with_conf(builder, local_conf(chosen))
    prefixes = DELTA_JARS + FEEDGUARD_JARS + (KAFKA_JARS if kafka else ())
    builder = with_jars(builder, cached_jars(prefixes))
    # Python workers run the driver's interpreter (the venv), unless the platform says otherwise.
    if not os.environ.get("PYSPARK_PYTHON"):
        builder = builder.config("spark.pyspark.python", sys.executable)
    builder = with_conf(builder, BASE_CONF)
    builder = with_conf(builder, conf or {})
    spark = builder.getOrCreate()
    if not os.environ.get("PYSPARK_PYTHON"):
        # The conf above reaches workers only through spark-submit's launcher; under plain ``python``
        # PySpark takes the workers' interpreter from here (else ``python3`` on the PATH).
        spark.sparkContext.pythonExec = sys.executable
    require_delta(spark)
    size_delta_snapshots(spark)
    return spark


# Delta rebuilds a table's file list (its snapshot) in this many tasks: its default, 50, is fifty tasks for a
# few KB of log on tables of our size (2.4 s of a 350-record run went to reading the dead-letter table's 50
# snapshot partitions back for an alert). One task per core (at most Delta's 50) still holds tens of thousands
# of files per task.
MAX_SNAPSHOT_PARTITIONS = 50


def snapshot_partitions(cores: int) -> int:
    """One snapshot partition per core, at least 1 and at most :data:`MAX_SNAPSHOT_PARTITIONS`."""
    return max(1, min(MAX_SNAPSHOT_PARTITIONS, cores))


def size_delta_snapshots(spark: SparkSession) -> None:
    """Set Delta's snapshot partitions to one per core unless the platform or the user set them."""
    key = "spark.databricks.delta.snapshotPartitions"
    if spark.sparkContext.getConf().get(key) is None:
        spark.conf.set(key, str(snapshot_partitions(spark.sparkContext.defaultParallelism)))


def require_delta(spark: SparkSession) -> None:
    """Fail with a clear message when Delta Lake's classes are not on the driver's classpath."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    try:
        # Spark's own class loading (it sees --jars and spark.jars, which Class.forName does not).
        jvm.org.apache.spark.util.Utils.classForName("io.delta.sql.DeltaSparkSessionExtension", True, False)
    except Exception:
        raise UsageError(
            "Delta Lake is not on the driver classpath. Locally: run 'make setup', then start jobs with "
            "'scripts/submit jobs/<job>.py ...' or plain 'python jobs/<job>.py ...'; with spark-submit pass "
            "--jars (the delta-spark_2.12 and delta-storage 3.3.2 jars); on Glue: --datalake-formats delta."
        ) from None
