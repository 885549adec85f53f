"""Data-quality metrics: build them from a run summary, publish them (CloudWatch, EMF, none), keep them.

Example::

    metrics = metrics_from_summary(summary, environment="prod", job="ingest_files")
    publisher = publisher_from_args("cloudwatch", spool_path="/tmp/metrics.spool.jsonl")
    summary.update(publisher.publish(metrics).summary_fields())
"""

from feedguard.metrics.base import (
    MetricsConfigError,
    MetricsPublisher,
    MetricsPublishError,
    NullPublisher,
    PublishResult,
)
from feedguard.metrics.cloudwatch import CloudWatchPublisher, batches, cloudwatch_client, metric_datum
from feedguard.metrics.emf import EmfPublisher, emf_documents
from feedguard.metrics.factory import PUBLISHER_KINDS, publisher_from_args
from feedguard.metrics.model import DEFAULT_NAMESPACE, DIMENSION_NAMES, Metric, metrics_from_summary
from feedguard.metrics.table import METRICS_SCHEMA, metrics_rows, write_metrics_table

__all__ = [
    "DEFAULT_NAMESPACE",
    "DIMENSION_NAMES",
    "METRICS_SCHEMA",
    "PUBLISHER_KINDS",
    "CloudWatchPublisher",
    "EmfPublisher",
    "Metric",
    "MetricsConfigError",
    "MetricsPublishError",
    "MetricsPublisher",
    "NullPublisher",
    "PublishResult",
    "batches",
    "cloudwatch_client",
    "emf_documents",
    "metric_datum",
    "metrics_from_summary",
    "metrics_rows",
    "publisher_from_args",
    "write_metrics_table",
]
