"""Publish metrics with ``put_metric_data``; spool them to a local file when CloudWatch is out of reach.

Retries (exponential backoff with jitter, throttling-aware) are botocore's *standard* retry mode,
configured on the client by :func:`cloudwatch_client`. When every retry failed, the metrics are
appended to a JSON-lines spool file and the next ``publish`` sends the spool first.

Example::

    client = cloudwatch_client(region_name="eu-west-1")
    publisher = CloudWatchPublisher(client, spool_path=Path("/tmp/feedguard-metrics.spool.jsonl"))
    result = publisher.publish(metrics_from_summary(summary, "prod", "ingest_files"))
    summary.update(result.summary_fields())
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from feedguard.metrics.base import MetricsPublishError, PublishResult
from feedguard.metrics.model import DEFAULT_NAMESPACE, Metric

log = logging.getLogger(__name__)

MAX_METRICS_PER_REQUEST: Final = 1000
MAX_REQUEST_BYTES: Final = 1_000_000  # the API allows 1 MB per request; keep room for the envelope
_ENVELOPE_BYTES: Final = 512
MAX_METRIC_AGE: Final = timedelta(days=14) - timedelta(hours=1)  # CloudWatch rejects older points

# Errors that will never succeed on a retry: the batch is dropped instead of spooled.
_REJECTING_CODES: Final = frozenset(
    {"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "InvalidFormat"}
)


def cloudwatch_client(
    *,
    session: boto3.Session | None = None,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = 5,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
) -> Any:
    """A CloudWatch client with botocore's standard retries (backoff, throttling aware), short timeouts."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return (session or boto3.Session()).client(
        "cloudwatch", region_name=region_name, endpoint_url=endpoint_url, config=config
    )


def metric_datum(metric: Metric) -> dict[str, Any]:
    """The ``MetricData`` element for one metric."""
    return {
        "MetricName": metric.name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
        "Timestamp": metric.timestamp,
        "Value": metric.value,
        "Unit": metric.unit,
    }


def datum_size(datum: dict[str, Any]) -> int:
    """Bytes one datum adds to a request: its JSON length as botocore writes it, with the timestamp as
    an ISO string (longer than the epoch number on the wire); also an upper bound of the CBOR size."""
    return len(json.dumps(datum, default=str).encode("utf-8")) + 2


def batches(
    data: Sequence[dict[str, Any]],
    *,
    max_count: int = MAX_METRICS_PER_REQUEST,
    max_bytes: int = MAX_REQUEST_BYTES,
) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` slices of ``data`` with at most ``max_count`` items and ``max_bytes`` each."""
    start, size = 0, _ENVELOPE_BYTES
    for i, datum in enumerate(data):
        item = datum_size(datum)
        if _ENVELOPE_BYTES + item > max_bytes:
            raise ValueError(f"metric {datum.get('MetricName')!r} alone exceeds {max_bytes} bytes")
        if i > start and (i - start >= max_count or size + item > max_bytes):
            yield start, i
            start, size = i, _ENVELOPE_BYTES
        size += item
    if start < len(data):
        yield start, len(data)


@dataclass(frozen=True)
class _Pending:
    namespace: str
    metric: Metric
    from_spool: bool


@dataclass
class _Tally:
    sent: int = 0
    flushed: int = 0
    dropped: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None

    def count_sent(self, items: Sequence[_Pending]) -> None:
        self.flushed += sum(1 for p in items if p.from_spool)
        self.sent += sum(1 for p in items if not p.from_spool)


class CloudWatchPublisher:
    """``put_metric_data`` in batches within the API limits, with a local spool for outages.

    ``strict=True`` raises :class:`MetricsPublishError` instead of spooling this run's metrics
    (metrics already in the spool stay there).
    """

    def __init__(
        self,
        client: Any,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        spool_path: Path | str,
        strict: bool = False,
        max_batch_metrics: int = MAX_METRICS_PER_REQUEST,
        max_batch_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.spool_path = Path(spool_path)
        self.strict = strict
        self.max_batch_metrics = max_batch_metrics
        self.max_batch_bytes = max_batch_bytes

    def publish(self, metrics: Sequence[Metric]) -> PublishResult:
        old, unreadable = self._read_spool()
        tally = _Tally(dropped=unreadable)
        pending = self._drop_expired(old, tally)
        pending += [_Pending(self.namespace, m, from_spool=False) for m in metrics]
        left = self._send_all(pending, tally)
        if left and self.strict:
            self._write_spool([p for p in left if p.from_spool])
            raise MetricsPublishError(f"{len(left)} metrics not sent to CloudWatch: {tally.error}")
        self._write_spool(left)
        if left:
            log.warning(
                "CloudWatch unreachable (%s): %d metrics spooled to %s",
                tally.error,
                len(left),
                self.spool_path,
            )
        return PublishResult(
            destination="cloudwatch",
            sent=tally.sent,
            spooled=len(left),
            flushed=tally.flushed,
            dropped=tally.dropped,
            requests=tally.requests,
            retries=tally.retries,
            error=tally.error,
            spool_path=str(self.spool_path) if left else None,
        )

    def _send_all(self, pending: list[_Pending], tally: _Tally) -> list[_Pending]:
        """Send in order, one namespace at a time; return what is left once CloudWatch proves unreachable."""
        done: set[int] = set()
        for namespace in dict.fromkeys(p.namespace for p in pending):
            group = [p for p in pending if p.namespace == namespace]
            data = [metric_datum(p.metric) for p in group]
            slices = batches(data, max_count=self.max_batch_metrics, max_bytes=self.max_batch_bytes)
            for start, stop in slices:
                outcome = self._put(namespace, data[start:stop], tally)
                if outcome == "unreachable":
                    return [p for p in pending if id(p) not in done]
                if outcome == "sent":
                    tally.count_sent(group[start:stop])
                else:
                    tally.dropped += stop - start
                done.update(id(p) for p in group[start:stop])
        return []

    def _put(self, namespace: str, data: list[dict[str, Any]], tally: _Tally) -> str:
        tally.requests += 1
        try:
            response = self.client.put_metric_data(Namespace=namespace, MetricData=data)
        except ClientError as exc:
            tally.retries += int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            tally.error = f"ClientError {code}"
            if code in _REJECTING_CODES:
                log.error("CloudWatch rejected %d metrics (%s); dropped", len(data), code)
                if self.strict:
                    raise MetricsPublishError(f"CloudWatch rejected metrics: {code}") from exc
                return "rejected"
            return "unreachable"
        except BotoCoreError as exc:
            tally.error = type(exc).__name__
            return "unreachable"
        tally.retries += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        return "sent"

    def _drop_expired(self, old: list[_Pending], tally: _Tally) -> list[_Pending]:
        cutoff = datetime.now(UTC) - MAX_METRIC_AGE
        kept = [p for p in old if p.metric.timestamp >= cutoff]
        if len(kept) < len(old):
            log.warning("dropped %d spooled metrics older than CloudWatch accepts", len(old) - len(kept))
            tally.dropped += len(old) - len(kept)
        return kept

    def _read_spool(self) -> tuple[list[_Pending], int]:
        if not self.spool_path.exists():
            return [], 0
        pending: list[_Pending] = []
        unreadable = 0
        for line in self.spool_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                pending.append(_Pending(str(data["namespace"]), Metric.from_json(data), from_spool=True))
            except (ValueError, KeyError, TypeError, AttributeError):
                unreadable += 1
        if unreadable:
            log.warning("%d unreadable lines in metrics spool %s were dropped", unreadable, self.spool_path)
        return pending, unreadable

    def _write_spool(self, left: Sequence[_Pending]) -> None:
        """Replace the spool with ``left`` atomically (remove it when empty)."""
        if not left:
            self.spool_path.unlink(missing_ok=True)
            return
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.spool_path.with_name(self.spool_path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for p in left:
                out.write(json.dumps({"namespace": p.namespace, **p.metric.to_json()}) + "\n")
        os.replace(tmp, self.spool_path)
