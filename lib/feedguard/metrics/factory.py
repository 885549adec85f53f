"""Choose the metrics publisher from the job's ``--metrics none|cloudwatch|emf`` argument."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TextIO

import boto3

from feedguard.metrics.base import MetricsConfigError, MetricsPublisher, NullPublisher
from feedguard.metrics.cloudwatch import CloudWatchPublisher, cloudwatch_client
from feedguard.metrics.emf import EmfPublisher
from feedguard.metrics.model import DEFAULT_NAMESPACE

PublisherKind = Literal["none", "cloudwatch", "emf"]
PUBLISHER_KINDS: tuple[PublisherKind, ...] = ("none", "cloudwatch", "emf")


def publisher_from_args(
    kind: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    spool_path: Path | str | None = None,
    strict: bool = False,
    stream: TextIO | None = None,
    client: Any = None,
    session: boto3.Session | None = None,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> MetricsPublisher:
    """The publisher for ``kind``.

    ``cloudwatch`` needs ``spool_path``; it uses ``client`` when given, else builds one with
    :func:`cloudwatch_client` (standard retries). ``emf`` writes to ``stream`` (default stdout).
    Raises :class:`MetricsConfigError` for an unknown kind or a missing spool path.

    >>> publisher_from_args("none").publish([]).destination
    'none'
    """
    if kind == "none":
        return NullPublisher(namespace)
    if kind == "emf":
        return EmfPublisher(stream or sys.stdout, namespace, properties=properties)
    if kind == "cloudwatch":
        if spool_path is None:
            raise MetricsConfigError("--metrics cloudwatch needs a spool path for unsent metrics")
        if client is None:
            client = cloudwatch_client(session=session, region_name=region_name, endpoint_url=endpoint_url)
        return CloudWatchPublisher(client, namespace, spool_path=spool_path, strict=strict)
    expected = ", ".join(PUBLISHER_KINDS)
    raise MetricsConfigError(f"unknown metrics publisher {kind!r}; expected one of {expected}")
