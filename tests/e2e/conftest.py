"""Fixtures for runs against real local services: one Kafka broker (KRaft) per test session.

Tests that stop, kill or restart the broker must leave it running when they end (``broker.start()`` is a
no-op when it already runs). Each test uses its own topic (``new_topic``) so tests stay independent.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping

import pytest

from feedguard_dev.kafka_broker import KafkaBroker, KafkaJarsMissingError

_topic_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A real single-node broker on free ports in a temporary folder, stopped at the end of the session."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except KafkaJarsMissingError as exc:
        pytest.fail(f"{exc}\nThe Kafka e2e tests need the broker jars: run `make setup`.", pytrace=False)
    yield broker
    broker.stop()


@pytest.fixture
def kafka(kafka_broker: KafkaBroker) -> KafkaBroker:
    """The session broker, (re)started if an earlier test left it down."""
    kafka_broker.start()
    return kafka_broker


@pytest.fixture
def new_topic(kafka: KafkaBroker, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Create a fresh topic named after the test: ``new_topic(partitions=1, config={...}) -> name``."""

    def create(partitions: int = 1, config: Mapping[str, str] | None = None) -> str:
        name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{request.node.name[:80]}-{next(_topic_numbers)}")
        kafka.create_topic(name, partitions, config)
        return name

    return create
