"""Shared fixtures: one SparkSession (Delta + Kafka source) for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from feedguard.runtime.session import TEST_CONF, build_session

# Fixtures that start a JVM (Spark, the Kafka broker) or a browser: a test using one is marked ``jvm``,
# so ``make test-fast`` (``-m "not jvm"``) runs the rest in seconds.
JVM_FIXTURES = frozenset({"spark", "kafka_broker", "moto_endpoint"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & JVM_FIXTURES or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.jvm)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = build_session("feedguard-tests", master="local[2]", kafka=True, conf=TEST_CONF)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
