"""The ledger pages: ``sla.html`` (``_kafka_sla``), ``metrics.html`` (``_metrics``), ``alerts.html``."""

from __future__ import annotations

from collections import defaultdict

from feedguard.health.html import Cell, span, table
from feedguard.health.model import HealthData, feed_of

METRICS_SHOWN = (
    "RecordsRead",
    "RecordsValid",
    "RecordsDeadLettered",
    "CorruptRatio",
    "DQSuccess",
    "FilesQuarantined",
    "SchemaDriftDetected",
    "JobDurationSeconds",
    "ConsumerLag",
    "DowntimeSeconds",
    "MessagesLost",
)


def sla_body(data: HealthData) -> str:
    rows = [
        [
            r.topic,
            r.kind,
            r.outage_start,
            r.outage_end,
            r.duration_seconds,
            r.messages_lost,
            "yes" if r.in_maintenance_window else "no",
            r.attempts,
            r.failed_call,
            r.detected_by_run_id,
            r.consumer_lag_at_recovery,
        ]
        for r in data.sla
    ]
    headers = [
        "topic",
        "kind",
        "start",
        "end",
        "duration (s)",
        "messages lost",
        "maintenance window",
        "attempts",
        "failed call",
        "run",
        "lag at recovery",
    ]
    return (
        "<p>One row per broker outage the FoodNow job met (or retention loss it found), from "
        "<code>&lt;lake&gt;/_kafka_sla</code>. An outage inside the expected-downtime window was waited out; "
        "past it the run exited 75 and the next run resumed.</p>" + table(headers, rows, table_id="sla")
    )


def metrics_body(data: HealthData) -> str:
    """One row per run, one column per metric (from ``<lake>/_metrics``, newest first)."""
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    meta: dict[tuple[str, str], tuple[str, str]] = {}
    for m in data.metrics:
        key = (m.feed, m.run_id)
        values[key][m.metric_name] = m.value
        meta[key] = (max(m.timestamp, meta.get(key, ("", ""))[0]), m.destination)
    shown = [n for n in METRICS_SHOWN if any(n in v for v in values.values())]
    order = sorted(values, key=lambda k: meta[k][0], reverse=True)
    rows: list[list[Cell]] = [
        [
            feed,
            run_id,
            meta[(feed, run_id)][0],
            meta[(feed, run_id)][1],
            *[values[(feed, run_id)].get(n) for n in shown],
        ]
        for feed, run_id in order
    ]
    return (
        "<p>Every metric a run published, as kept in <code>&lt;lake&gt;/_metrics</code> (destination: "
        "where it was also sent: cloudwatch, emf or none).</p>"
        + table(["feed", "run", "time", "destination", *shown], rows, table_id="metrics")
    )


def open_problems(data: HealthData, *, limit: int | None = None) -> str:
    rows: list[list[Cell]] = []
    for feed, kinds in sorted((data.alert_state.get("open") or {}).items()):
        for kind, problem in sorted(kinds.items()):
            rows.append(
                [
                    feed,
                    kind,
                    problem.get("opened_at"),
                    problem.get("opened_run_id"),
                    problem.get("last_run_id"),
                    problem.get("runs"),
                    "yes" if problem.get("notified") else span("bad", "not yet"),
                ]
            )
    headers = ["feed", "problem", "opened", "opened by run", "last seen in run", "runs", "notified"]
    return table(headers, rows[:limit] if limit else rows, table_id="open-problems")


def alert_history(data: HealthData, *, limit: int | None = None) -> str:
    """Each alert each run sent or failed to send: when, which kind, which channel."""
    rows: list[list[Cell]] = []
    for run in sorted(data.runs, key=lambda r: str(r.get("ended_at", "")), reverse=True):
        for delivered, key in ((True, "alerts_sent"), (False, "alerts_failed")):
            for sent in run.get(key) or []:
                rows.append(
                    [
                        str(run.get("ended_at")),
                        feed_of(run),
                        str(run.get("run_id")),
                        sent.get("kind"),
                        sent.get("channel"),
                        span("ok", "delivered") if delivered else span("bad", f"failed: {sent.get('error')}"),
                    ]
                )
    headers = ["when", "feed", "run", "kind", "channel", "delivery"]
    return table(headers, rows[:limit] if limit else rows, table_id="alert-history")


def alerts_body(data: HealthData) -> str:
    sinks: list[list[Cell]] = [
        [channel, len(files), "; ".join(files)] for channel, files in sorted(data.sink_files.items())
    ]
    return (
        '<p>Alerts fire on a change of state: a new problem, then one "resolved" message. The open '
        "problems come from <code>&lt;lake&gt;/_alerts/state.json</code>, the history from the run log.</p>"
        "<h2>Open problems</h2>"
        + open_problems(data)
        + "<h2>History</h2>"
        + alert_history(data)
        + (
            "<h2>Messages saved by the local sinks</h2>" + table(["channel", "messages", "files"], sinks)
            if sinks
            else ""
        )
    )
