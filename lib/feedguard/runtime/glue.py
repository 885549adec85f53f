"""The one adapter between a job and its platform: AWS Glue when present, plain Spark elsewhere.

On Glue (``awsglue`` importable *and* Glue's JVM classes present) the job gets a ``GlueContext``
and runs inside ``Job.init`` / ``Job.commit``; elsewhere a plain SparkSession from
:func:`feedguard.runtime.session.build_session`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pyspark.sql import SparkSession

from feedguard.runtime.session import build_session


def glue_runtime_available(spark: SparkSession) -> bool:
    """True when Glue's JVM classes are on the classpath (i.e. running on AWS Glue)."""
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        jvm.java.lang.Class.forName("com.amazonaws.services.glue.GlueContext")
    except Exception:
        return False
    return True


@contextmanager
def job_session(
    job_name: str, args: Mapping[str, Any], *, kafka: bool = False, conf: Mapping[str, str] | None = None
) -> Iterator[SparkSession]:
    """A SparkSession for one job run; on Glue wrapped in ``Job.init`` / ``Job.commit``."""
    spark = build_session(job_name, kafka=kafka, conf=conf)
    if not glue_runtime_available(spark):
        yield spark
        return
    from awsglue.context import GlueContext
    from awsglue.job import Job

    glue_context = GlueContext(spark.sparkContext)
    job = Job(glue_context)
    job.init(job_name, dict(args))
    yield glue_context.spark_session
    job.commit()
