"""Shared fixtures: one SparkSession (Delta + Kafka source) for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from feedguard.session import TEST_CONF, build_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = build_session("feedguard-tests", master="local[2]", kafka=True, conf=TEST_CONF)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
