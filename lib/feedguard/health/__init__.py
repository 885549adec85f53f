"""The health site: what the lake knows about every feed, as static pages next to the Data Docs.

Six panels on the index, as on the CloudWatch dashboard where a local source exists (Overview, Airflow
DAGs, AWS Batch, AWS Fargate, Kafka/MSK, Alerts & Notifications), each saying plainly what only AWS
has; one page per feed (trends over runs, file verdicts and drift reports, a dead-letter browser by
reason, file and line with PII masked); the Kafka SLA ledger, the metrics table and the alerts.
``lake_tables`` and ``broker`` read (Spark, the Kafka admin client), ``aws`` reads CloudWatch, Batch and ECS
and ``service`` the consumer service's ``/healthz`` when they are given; ``panels``, ``aws_panels``,
``kafka_panel``, ``feeds``, ``pages`` and ``html`` render typed records (``model``) to escaped HTML; ``site``
writes it.
Built by ``feedguard docs build`` into ``<lake>/_docs/health/``.
"""

from feedguard.health.model import AwsOptions, HealthData, HealthOptions
from feedguard.health.site import build_health_site, load_health_data, write_pages

__all__ = [
    "AwsOptions",
    "HealthData",
    "HealthOptions",
    "build_health_site",
    "load_health_data",
    "write_pages",
]
