"""The Kafka job's settings, unpacked from its arguments into plain values (bad values: exit 2).

Example::

    opts = resolve_args(argv, KAFKA_JOB_ARGS)
    feed = kafka_feed(opts)
    policy = outage_policy(opts["expected_downtime_minutes"], opts["maintenance_windows"])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from feedguard.errors import UsageError
from feedguard.kafka.credentials import secret_reader
from feedguard.kafka.outage import MaintenanceWindow, OutagePolicy
from feedguard.kafka.security import NO_SECURITY, KafkaSecurity, kafka_security
from feedguard.kafka.source import DEFAULT_TIMEOUT_MS

# One bootstrap server: host name or IPv4 address, or an IPv6 address in brackets; then the port.
BOOTSTRAP_SERVER = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?):([0-9]{1,5})"
)
MAX_PORT = 65_535


def bootstrap_servers(text: str) -> str:
    """``host:port[,host:port...]`` checked and normalised (no spaces), else a usage error naming it.

    >>> bootstrap_servers("b-1.msk:9092, b-2.msk:9092")
    'b-1.msk:9092,b-2.msk:9092'
    """
    servers = [item.strip() for item in text.split(",")]
    for server in servers:
        match = BOOTSTRAP_SERVER.fullmatch(server)
        if match is None or not 1 <= int(match.group(1)) <= MAX_PORT:
            raise UsageError(
                f"--bootstrap_servers {text!r}: {server!r} is not host:port (port 1 to {MAX_PORT}); "
                "give a comma-separated list such as b-1.kafka.example:9092,b-2.kafka.example:9092"
            )
    return ",".join(servers)


@dataclass(frozen=True)
class KafkaFeed:
    """Where one feed's messages come from and the consumer group that reports its progress."""

    bootstrap: str
    topic: str
    consumer_group: str
    max_offsets_per_partition: int | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    security: KafkaSecurity = NO_SECURITY  # PLAINTEXT; its repr never shows the credentials


def default_consumer_group(source: str, dataset: str) -> str:
    """``feedguard-<source>-<dataset>``."""
    return f"feedguard-{source}-{dataset}"


def positive_int(name: str, value: str | None) -> int | None:
    """``None`` for an absent value, else a positive integer."""
    if value is None or not str(value).strip():
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"--{name} expects a positive integer, got {value!r}") from None
    if number < 1:
        raise UsageError(f"--{name} expects a positive integer, got {value!r}")
    return number


def maintenance_windows(text: str | None) -> tuple[MaintenanceWindow, ...]:
    """``"2025-06-01T02:00Z/2025-06-01T04:00Z,..."`` -> windows (timezone-aware ISO-8601 intervals).

    >>> [w.start.hour for w in maintenance_windows("2025-06-01T02:00:00Z/2025-06-01T04:00:00Z")]
    [2]
    """
    windows = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        try:
            windows.append(MaintenanceWindow.parse(item.strip()))
        except ValueError as exc:
            raise UsageError(
                f"--maintenance_windows: {item.strip()!r} is not a START/END interval with time zones "
                f"(e.g. 2025-06-01T02:00:00Z/2025-06-01T04:00:00Z): {exc}"
            ) from None
    return tuple(windows)


def outage_policy(expected_downtime_minutes: str | None, windows: str | None) -> OutagePolicy:
    """The retry policy: wait up to the expected downtime (minutes, decimals allowed), longer in a window."""
    text = str(expected_downtime_minutes or "30").strip()
    try:
        minutes = float(text)
    except ValueError:
        raise UsageError(f"--expected_downtime_minutes expects minutes, got {text!r}") from None
    if not minutes > 0:
        raise UsageError(f"--expected_downtime_minutes must be above 0, got {text!r}")
    return OutagePolicy(
        expected_downtime=timedelta(minutes=minutes), maintenance_windows=maintenance_windows(windows)
    )


def feed_security(
    opts: Mapping[str, Any], environ: Mapping[str, str], read_secret: Callable[[str], str] | None = None
) -> KafkaSecurity:
    """The brokers' security of resolved job arguments; credentials from ``environ`` or Secrets Manager."""
    return kafka_security(
        opts.get("kafka_security_protocol"),
        opts.get("kafka_sasl_mechanism"),
        environ=environ,
        secret_id=opts.get("kafka_secret_id") or None,
        read_secret=read_secret or secret_reader(environ),
    )


def kafka_feed(opts: Mapping[str, Any], security: KafkaSecurity | None = None) -> KafkaFeed:
    """The feed of resolved job arguments (``KAFKA_JOB_ARGS``) and the brokers' security (PLAINTEXT)."""
    return KafkaFeed(
        bootstrap=bootstrap_servers(str(opts["bootstrap_servers"])),
        topic=str(opts["topic"]),
        consumer_group=opts.get("consumer_group") or default_consumer_group(opts["source"], opts["dataset"]),
        max_offsets_per_partition=positive_int(
            "max_offsets_per_partition", opts.get("max_offsets_per_partition")
        ),
        security=security or NO_SECURITY,
    )
