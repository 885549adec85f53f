"""Platform monitoring: the figures AWS does not publish, and the proof that the dashboard's metrics exist.

Owns the ``feedguard monitoring collect`` step (``collect``: AWS Batch job counts per queue and state, the age
of the oldest job in each state, compute-environment vCPU and memory in use against the maximum, how long each
DAG's ingest has been running, from the Batch, ECS and Glue APIs), the Airflow callback counts (``airflow``:
DAG runs, task successes, failures, retries and SLA misses per DAG and task), and reading metric references
out of a CloudWatch dashboard or alarm, ``SEARCH`` and metric math included, to check them against the metric
catalogue (``references``). Everything is published with the ``feedguard.metrics`` publishers, in the
project's namespace. Clients and clocks are parameters: nothing here reads the environment.

Example::

    config = CollectConfig(environment="prod", queues=("feedguard",))
    metrics = collect(CollectClients(batch, ecs, glue), config)
    publisher.publish(metrics)
"""

from feedguard.monitoring.airflow import CALLBACK_EVENTS, callback_metrics
from feedguard.monitoring.batch import ACTIVE_STATES, FINISHED_STATES
from feedguard.monitoring.collect import CollectClients, CollectConfig, IngestJob, collect, ingest_job
from feedguard.monitoring.references import MetricRef, alarm_refs, expression_refs, widget_refs

__all__ = [
    "ACTIVE_STATES",
    "CALLBACK_EVENTS",
    "FINISHED_STATES",
    "CollectClients",
    "CollectConfig",
    "IngestJob",
    "MetricRef",
    "alarm_refs",
    "callback_metrics",
    "collect",
    "expression_refs",
    "ingest_job",
    "widget_refs",
]
