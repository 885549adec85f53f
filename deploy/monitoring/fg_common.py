"""Shared pieces of the monitoring generator: the feeds, CloudFormation helpers, widgets as data.

Everything here is plain data: a widget is the dict CloudWatch expects, a ``Section`` is a list of widgets
shown only when its CloudFormation condition holds (``None``: always). ``generate.py`` joins the sections into
the dashboard body; tests read the same structures back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from feedguard.kafka.config import default_consumer_group
from feedguard.metrics.model import DEFAULT_NAMESPACE

NAMESPACE = DEFAULT_NAMESPACE
DAY = 86400
HOUR = 3600
FIVE_MINUTES = 300
# The Airflow task ids of deploy/airflow/feedguard_feeds.py (TASK_IDS); ingest tasks carry the SLA.
TASK_IDS = ("choose_runner", "ingest_glue", "ingest_batch", "verify_run")
INGEST_TASKS = ("ingest_glue", "ingest_batch")
BATCH_WAIT_STATES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING")
MAX_MSK_BROKERS = 6  # broker ids 1..6 are watched; MskBrokerCount says how many should be up


@dataclass(frozen=True)
class Feed:
    source: str
    dataset: str
    kind: str  # "daily" file feed or "kafka" stream drained in batches
    duration_param: str

    @property
    def job(self) -> str:
        """The Job dimension: the Glue job / Batch job definition name (deploy/glue, deploy/batch)."""
        return f"feedguard-{self.source}-{self.dataset.replace('_', '-')}"

    @property
    def logical(self) -> str:
        """CloudFormation logical-id prefix: QuickbiteOrders, FoodnowOrderEvents."""
        return "".join(part.capitalize() for part in f"{self.source}_{self.dataset}".split("_"))

    @property
    def slug(self) -> str:
        return f"{self.source}-{self.dataset.replace('_', '-')}"

    @property
    def dag_id(self) -> str:
        return f"feedguard_{self.source}_{self.dataset}"


FEEDS = (
    Feed("quickbite", "orders", "daily", "FileJobMaxDurationSeconds"),
    Feed("mealdash", "orders", "daily", "FileJobMaxDurationSeconds"),
    Feed("foodnow", "order_events", "kafka", "KafkaJobMaxDurationSeconds"),
)
KAFKA_FEED = FEEDS[2]
# The group the Kafka job commits to: the job's own default (feedguard.kafka.config), which deploy/glue and
# deploy/batch also pass explicitly as --consumer_group.
CONSUMER_GROUP = default_consumer_group(KAFKA_FEED.source, KAFKA_FEED.dataset)


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


@dataclass
class Section:
    """Widgets drawn only when ``condition`` holds (a component that is not configured is left out)."""

    name: str
    condition: str | None
    widgets: list[dict[str, Any]] = field(default_factory=list)


def widget(
    title: str,
    metrics: list[list[Any]],
    *,
    stat: str = "Sum",
    period: int = HOUR,
    width: int = 8,
    view: str = "timeSeries",
    **extra: Any,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "region": "${AWS::Region}",
        "view": view,
        "stat": stat,
        "period": period,
        "metrics": metrics,
    }
    return {"type": "metric", "width": width, "height": 6, "properties": properties | extra}


def text_widget(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": 24, "height": 2, "properties": {"markdown": markdown}}


def log_widget(title: str, log_group: str, query: str) -> dict[str, Any]:
    """A Logs Insights widget (``log_group`` may hold ${Parameter} references)."""
    return {
        "type": "log",
        "width": 24,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "table",
            "query": f"SOURCE '{log_group}' | {query}",
        },
    }


def line(namespace: str, name: str, dims: list[tuple[str, str]], **options: Any) -> list[Any]:
    """A dashboard metric line: namespace, name, dimension name/value pairs, options."""
    flat: list[Any] = [namespace, name]
    for key, value in dims:
        flat += [key, value]
    return [*flat, options] if options else flat


def expr(expression: str, label: str, expression_id: str, **options: Any) -> list[Any]:
    return [{"expression": expression, "label": label, "id": expression_id} | options]


def search(namespace: str, dims: list[str], filters: dict[str, str], metric: str, stat: str) -> str:
    """``SEARCH('{NS,"Dim"...} "Dim"="value" MetricName="X"', stat, 300)`` (brokers and tasks come and go)."""
    schema = ",".join([namespace, *(f'"{d}"' for d in dims)])
    where = " ".join(f'"{k}"="{v}"' for k, v in filters.items())
    return f"SEARCH('{{{schema}}} {where} MetricName=\"{metric}\"', '{stat}', {FIVE_MINUTES})"
