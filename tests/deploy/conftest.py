"""Fixtures for the deployment tests: a real moto server and fake AWS credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deploy_helpers import free_port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on 127.0.0.1 (no in-process patching); boto3 clients use its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
