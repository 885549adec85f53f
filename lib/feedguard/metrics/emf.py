"""CloudWatch Embedded Metric Format (EMF): one JSON document per line, for stdout on Glue and Batch.

CloudWatch Logs turns each line into metrics; no API call and no credentials are needed.

Example::

    EmfPublisher(sys.stdout, properties={"RunId": run_id}).publish(metrics)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, TextIO

from feedguard.metrics.base import PublishResult
from feedguard.metrics.model import DEFAULT_NAMESPACE, Metric

MAX_METRICS_PER_DOCUMENT: Final = 100  # EMF limit per CloudWatchMetrics directive


def emf_documents(
    metrics: Sequence[Metric],
    namespace: str = DEFAULT_NAMESPACE,
    properties: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """EMF documents for ``metrics``: one per dimension set and timestamp, at most 100 metrics each.

    ``properties`` are extra keys (not dimensions) searchable in CloudWatch Logs Insights.
    """
    groups: dict[tuple[tuple[tuple[str, str], ...], int], list[Metric]] = {}
    for metric in metrics:
        millis = int(metric.timestamp.timestamp() * 1000)
        groups.setdefault((metric.dimensions, millis), []).append(metric)
    documents: list[dict[str, Any]] = []
    for (dimensions, millis), group in groups.items():
        for start in range(0, len(group), MAX_METRICS_PER_DOCUMENT):
            chunk = group[start : start + MAX_METRICS_PER_DOCUMENT]
            taken = {m.name for m in chunk} | {k for k, _ in dimensions}
            doc: dict[str, Any] = {k: v for k, v in (properties or {}).items() if k not in taken}
            doc["_aws"] = {
                "Timestamp": millis,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [[k for k, _ in dimensions]],
                        "Metrics": [{"Name": m.name, "Unit": m.unit} for m in chunk],
                    }
                ],
            }
            doc.update(dict(dimensions))
            doc.update({m.name: m.value for m in chunk})
            documents.append(doc)
    return documents


class EmfPublisher:
    """Writes EMF JSON lines to ``stream`` (stdout on Glue/Batch, whose output goes to CloudWatch Logs)."""

    def __init__(
        self,
        stream: TextIO,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream
        self.namespace = namespace
        self.properties = dict(properties or {})

    def publish(self, metrics: Sequence[Metric]) -> PublishResult:
        documents = emf_documents(metrics, self.namespace, self.properties)
        for doc in documents:
            self.stream.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self.stream.flush()
        return PublishResult(destination="emf", sent=len(metrics), requests=len(documents))
