"""``feedguard monitoring collect``: build the clients, run one collection pass, publish it.

    feedguard monitoring collect --environment prod --queues feedguard --compute-environments feedguard-ec2 \
        --feeds quickbite/orders,mealdash/orders,foodnow/order_events --metrics cloudwatch
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from feedguard.metrics import PublishResult, publisher_from_args
from feedguard.metrics.model import DEFAULT_NAMESPACE
from feedguard.monitoring.collect import CollectClients, CollectConfig, IngestJob, collect, ingest_job

DEFAULT_FEEDS = "quickbite/orders,mealdash/orders,foodnow/order_events"


class FeedSpecError(ValueError):
    """A ``--feeds`` item that is not ``source/dataset``."""


def names(text: str | None) -> tuple[str, ...]:
    """Comma-separated names, blanks dropped."""
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def feeds(text: str | None) -> tuple[IngestJob, ...]:
    """``source/dataset,...`` -> the feeds' Glue/Batch job names and DAG ids."""
    jobs = []
    for item in names(text):
        source, _, dataset = item.partition("/")
        if not source or not dataset:
            raise FeedSpecError(f"--feeds: {item!r} is not source/dataset")
        jobs.append(ingest_job(source, dataset))
    return tuple(jobs)


@dataclass(frozen=True)
class Endpoint:
    """Where the AWS clients go (``endpoint_url`` only for a local emulator such as moto)."""

    region_name: str | None = None
    endpoint_url: str | None = None

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        return (session or boto3.Session()).client(
            service, region_name=self.region_name, endpoint_url=self.endpoint_url
        )


def run_collect(
    config: CollectConfig,
    *,
    publisher_kind: str = "cloudwatch",
    namespace: str = DEFAULT_NAMESPACE,
    spool_path: str | None = None,
    endpoint: Endpoint = Endpoint(),
    session: boto3.Session | None = None,
) -> PublishResult:
    """One collection pass published with the project's publisher (spooled when CloudWatch is down)."""
    clients = CollectClients(
        batch=endpoint.client("batch", session),
        ecs=endpoint.client("ecs", session),
        glue=endpoint.client("glue", session),
    )
    publisher = publisher_from_args(
        publisher_kind,
        namespace=namespace,
        spool_path=spool_path,
        client=endpoint.client("cloudwatch", session) if publisher_kind == "cloudwatch" else None,
    )
    return publisher.publish(collect(clients, config))


def config_from(
    environment: str, queues: str, compute_environments: str, feed_list: str, window: int
) -> CollectConfig:
    return CollectConfig(
        environment=environment,
        queues=names(queues),
        compute_environments=names(compute_environments),
        ingest_jobs=feeds(feed_list),
        window_seconds=window,
    )


__all__: Sequence[str] = ("DEFAULT_FEEDS", "Endpoint", "FeedSpecError", "config_from", "feeds", "run_collect")
