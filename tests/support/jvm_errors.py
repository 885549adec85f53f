"""Real exceptions thrown by the test session's JVM, for code that classifies errors from Spark and py4j."""

from __future__ import annotations

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession


def thrown_by_jvm(spark: SparkSession, java_class: str, message: str) -> Py4JJavaError:
    """The ``Py4JJavaError`` py4j raises when a JVM call fails with ``java_class(message)`` as its cause."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    cause = jvm.__getattr__(java_class.split(".")[0])
    for part in java_class.split(".")[1:]:
        cause = getattr(cause, part)
    future = jvm.java.util.concurrent.CompletableFuture.failedFuture(cause(message))
    try:
        future.get()
    except Py4JJavaError as error:
        return error
    raise AssertionError(f"the JVM did not throw {java_class}")
