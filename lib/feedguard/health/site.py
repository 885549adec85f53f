"""Build the health site under ``<site>/health/``: the six panels, one page per feed, the ledgers.

Example::

    build_health_site(spark, Path("lake/_docs"), HealthOptions("lake", kafka_bootstrap="127.0.0.1:9092"))
    # lake/_docs/health/index.html, feed-<source>-<dataset>.html, sla.html, metrics.html, alerts.html
"""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from feedguard.health import lake_tables
from feedguard.health.aws import read_aws
from feedguard.health.broker import broker_status
from feedguard.health.feeds import feed_body
from feedguard.health.html import link, page
from feedguard.health.model import HealthData, HealthOptions, feed_page_name
from feedguard.health.pages import alerts_body, metrics_body, sla_body
from feedguard.health.panels import index_body
from feedguard.health.service import service_status
from feedguard.lake.layout import Lake

FOLDER = "health"


def load_health_data(spark: SparkSession, options: HealthOptions) -> HealthData:
    """Everything the pages show, read once (the broker, AWS and the service only when they are given)."""
    lake = Lake(options.lake)
    runs = lake_tables.read_runs(lake)
    feeds = sorted({f"{r.get('source')}/{r.get('dataset')}" for r in runs})
    masks = lake_tables.maskers(options.contracts_dir, feeds)
    counts, examples = lake_tables.dead_letters(spark, lake, masks, options.examples_per_reason)
    return HealthData(
        lake=str(Path(options.lake).resolve()),
        runs=runs,
        dead_counts=counts,
        dead_examples=examples,
        sla=lake_tables.sla_rows(spark, lake),
        metrics=lake_tables.metric_rows(spark, lake),
        offsets=lake_tables.offset_batches(spark, lake),
        alert_state=lake_tables.alert_state(lake),
        sink_files=lake_tables.sink_files(lake),
        broker=broker_status(options.kafka_bootstrap) if options.kafka_bootstrap else None,
        aws=read_aws(options.aws) if options.aws else None,
        service=service_status(options.service_health_url) if options.service_health_url else None,
    )


def navigation(data: HealthData) -> str:
    items = [
        link("index.html", "Health"),
        *[link(feed_page_name(f), f) for f in data.feeds()],
        link("sla.html", "Kafka SLA"),
        link("metrics.html", "Metrics"),
        link("alerts.html", "Alerts"),
        link("../feedguard/index.html", "Runs"),
        link("../index.html", "GX Data Docs"),
    ]
    return "".join(items)


def write_pages(data: HealthData, folder: Path) -> Path:
    """Render every page of ``data`` into ``folder``; return the index."""
    folder.mkdir(parents=True, exist_ok=True)
    nav = navigation(data)
    pages = {
        "index.html": ("feedguard health", index_body(data)),
        "sla.html": ("Kafka SLA ledger (_kafka_sla)", sla_body(data)),
        "metrics.html": ("Metrics (_metrics)", metrics_body(data)),
        "alerts.html": ("Alerts (_alerts)", alerts_body(data)),
    }
    for feed in data.feeds():
        pages[feed_page_name(feed)] = (f"Feed {feed}", feed_body(data, feed, folder))
    for name, (title, body) in pages.items():
        (folder / name).write_text(page(title, nav, body), encoding="utf-8")
    return folder / "index.html"


def build_health_site(spark: SparkSession, site_dir: Path, options: HealthOptions) -> Path:
    """Read the lake (and the broker) and write the site under ``<site_dir>/health``; return its index."""
    return write_pages(load_health_data(spark, options), site_dir / FOLDER)
