"""The Kafka / MSK panel: the local broker (when one is given), batches read over time, the SLA ledger."""

from __future__ import annotations

import itertools
from datetime import datetime

from feedguard.health.html import Markup, bar_chart, esc, link, table
from feedguard.health.model import BrokerStatus, HealthData, OffsetBatch, feed_page_name


def aws_note(text: str) -> Markup:
    return Markup(f"<p class='aws'><strong>Only in AWS:</strong> {esc(text)}</p>")


def broker_section(status: BrokerStatus | None) -> str:
    if status is None:
        return (
            "<p class='muted'>No broker configured for this site: build it with "
            "<code>feedguard docs build --kafka-bootstrap 127.0.0.1:9092</code> while a broker runs "
            "(<code>make kafka-up</code>) to see brokers, partitions and consumer lag here.</p>"
        )
    if not status.reachable:
        return (
            f"<p class='bad'>Broker {esc(status.bootstrap)} did not answer when the site was built: "
            f"{esc(status.error)}</p>"
        )
    under = sum(1 for p in status.partitions if p.in_sync < p.replicas)
    offline = sum(1 for p in status.partitions if p.leader < 0)
    summary = table(
        ["broker", "brokers up", "partitions", "under-replicated", "offline"],
        [[status.bootstrap, status.brokers, len(status.partitions), under, offline]],
        table_id="kafka-broker",
    )
    lags = table(
        ["consumer group", "topic", "partition", "committed", "end", "lag"],
        [[g.group, g.topic, g.partition, g.committed, g.end, g.lag] for g in status.groups],
        table_id="kafka-lag",
        caption="Consumer lag per group (from the broker)",
    )
    return summary + lags


def _seconds(a: str, b: str) -> float | None:
    try:
        return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
    except ValueError:
        return None


def rates(batches: list[OffsetBatch]) -> list[float | None]:
    """Messages per second of each batch: its messages over the time since the previous commit."""
    out: list[float | None] = [None]
    for before, batch in itertools.pairwise(batches):
        gap = _seconds(before.committed_at, batch.committed_at)
        out.append(round(batch.messages / gap, 2) if gap else None)
    return out[: len(batches)]


def batches_section(batches: list[OffsetBatch]) -> str:
    if not batches:
        return "<p class='muted'>No Kafka batch committed in this lake yet.</p>"
    speed = rates(batches)
    rows = [
        [b.topic, b.batch_seq, b.run_id, b.committed_at, b.messages, s]
        for b, s in zip(batches, speed, strict=True)
    ]
    chart = bar_chart(
        "Messages read per batch",
        [f"batch {b.batch_seq}" for b in batches],
        [float(b.messages) for b in batches],
    )
    return chart + table(
        ["topic", "batch", "run", "committed", "messages", "msg/s since previous"],
        rows,
        table_id="kafka-batches",
        caption="Batches from <lake>/_kafka_offsets",
    )


def sla_section(data: HealthData) -> str:
    outages = [r for r in data.sla if r.kind == "broker_unreachable"]
    downtime = sum(r.duration_seconds or 0.0 for r in outages)
    lost = sum(r.messages_lost for r in data.sla)
    return (
        f"<p id='kafka-sla-summary'>SLA ledger: {len(outages)} outage(s), {downtime:.1f} s of downtime, "
        f"{lost} message(s) lost. " + link("sla.html", "The ledger (_kafka_sla)") + "</p>"
    )


def kafka_panel(data: HealthData) -> str:
    kafka_feeds = [f for f in data.feeds() if any(r.get("topic") for r in data.runs_of(f))]
    feeds = " ".join(link(feed_page_name(f), f) for f in kafka_feeds)
    return (
        broker_section(data.broker)
        + sla_section(data)
        + batches_section(list(data.offsets))
        + (f"<p>Feed: {feeds}</p>" if feeds else "")
        + aws_note(
            "MSK broker CPU, disk and the MaxOffsetLag metric of the consumer group are on the "
            "dashboard's MSK widgets (MskClusterName in deploy/monitoring)."
        )
    )
