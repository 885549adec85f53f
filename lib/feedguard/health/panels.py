"""The health site's index: six panels, as on the CloudWatch dashboard, from what the local lake knows.

Overview, Airflow DAGs, AWS Batch, AWS Fargate, Kafka/MSK, Alerts & Notifications. Each panel shows
its local source and says plainly what only AWS has, and which command or setting would show it; the
Airflow, Batch and Fargate panels show AWS's own figures when the site was built with them
(``aws_panels``), the Fargate panel the consumer service's ``/healthz`` when it was given.
"""

from __future__ import annotations

from collections import Counter

from feedguard.health.aws_panels import airflow_source, batch_source, fargate_source, service_section
from feedguard.health.html import Cell, Markup, esc, link, span, table
from feedguard.health.kafka_panel import aws_note, kafka_panel
from feedguard.health.model import HealthData, feed_of, feed_page_name
from feedguard.health.pages import alert_history, open_problems
from feedguard.quality.pages import dq_pass_rate_pct, pct

OK_STATUSES = ("succeeded", "succeeded_with_dead_letters")
# Exit codes AWS Batch's retry strategy retries (deploy/batch job definitions, docs/operations.md §1).
BATCH_RETRIED = frozenset({75})
PANELS = (
    ("overview", "Overview"),
    ("airflow", "Airflow DAGs"),
    ("batch", "AWS Batch"),
    ("fargate", "AWS Fargate"),
    ("kafka", "Kafka / MSK"),
    ("alerts", "Alerts & Notifications"),
)


def _status_cell(status: str) -> Markup:
    return span("ok" if status in OK_STATUSES else "bad", status)


def overview(data: HealthData) -> str:
    rows: list[list[Cell]] = []
    for feed in data.feeds():
        runs = data.runs_of(feed)
        latest = runs[-1]
        by_status = Counter(str(r.get("status")) for r in runs)
        dq = dq_pass_rate_pct(latest)
        rows.append(
            [
                link(feed_page_name(feed), feed),
                len(runs),
                ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())),
                _status_cell(str(latest.get("status"))),
                sum(int(r.get("records_read") or 0) for r in runs),
                sum(int(r.get("records_dead_lettered") or 0) for r in runs),
                pct(dq) if dq is not None else None,
            ]
        )
    headers = [
        "feed",
        "runs",
        "runs by status",
        "latest",
        "records read",
        "dead-lettered",
        "DQ pass (latest)",
    ]
    return table(headers, rows, table_id="overview") + aws_note(
        "the CloudWatch dashboard feedguard-<environment> draws the same per-feed figures from the "
        "Feedguard/DataQuality metrics (run jobs with --metrics cloudwatch)."
    )


def airflow(data: HealthData) -> str:
    rows = [
        [f"feedguard_{feed.replace('/', '_')}", feed, str(data.runs_of(feed)[-1].get("run_id"))]
        for feed in data.feeds()
    ]
    return (
        "<p>No Airflow runs locally: <code>make run</code> calls the jobs directly. The DAG of each feed "
        "and the latest run its <code>verify_run</code> task would read from the lake:</p>"
        + table(["DAG", "feed", "latest run in the lake"], rows, table_id="airflow")
        + airflow_source(data.aws)
    )


def batch(data: HealthData) -> str:
    rows: list[list[Cell]] = []
    for run in sorted(data.runs, key=lambda r: str(r.get("started_at", "")), reverse=True)[:15]:
        code = int(run.get("exit_code") or 0)
        action = "done" if code == 0 else ("RETRY" if code in BATCH_RETRIED else "EXIT (no retry)")
        rows.append([feed_of(run), str(run.get("run_id")), code, action])
    return (
        "<p>The exit codes of the latest runs and what AWS Batch's retry strategy would do with each:</p>"
        + table(["feed", "run", "exit code", "Batch would"], rows, table_id="batch")
        + batch_source(data.aws)
    )


def fargate(data: HealthData) -> str:
    rows: list[list[Cell]] = [
        [feed_of(r), str(r.get("run_id")), float(r.get("duration_seconds") or 0.0)]
        for r in sorted(data.runs, key=lambda r: str(r.get("started_at", "")), reverse=True)[:15]
    ]
    return (
        service_section(data.service)
        + "<p>Job durations from the run log (what the dashboard's JobDurationSeconds shows):</p>"
        + table(["feed", "run", "duration (s)"], rows, table_id="fargate")
        + fargate_source(data.aws)
    )


def kafka(data: HealthData) -> str:
    return kafka_panel(data)


def alerts(data: HealthData) -> str:
    sinks = "".join(
        f"<li>{esc(channel)}: {len(files)} message(s) saved in {esc(str(files[0]).rsplit('/', 1)[0])}</li>"
        for channel, files in sorted(data.sink_files.items())
        if files
    )
    return (
        "<h3>Open problems</h3>"
        + open_problems(data, limit=10)
        + "<h3>Latest notifications</h3>"
        + alert_history(data, limit=10)
        + (f"<p>Local sinks of make run:</p><ul>{sinks}</ul>" if sinks else "")
        + "<p>"
        + link("alerts.html", "All alerts")
        + "</p>"
        + aws_note(
            "SNS delivery to the e-mail subscribers, AWS Chatbot posts and the CloudWatch alarms' "
            "history are in AWS (topic feedguard-<environment>-alerts)."
        )
    )


RENDERERS = {
    "overview": overview,
    "airflow": airflow,
    "batch": batch,
    "fargate": fargate,
    "kafka": kafka,
    "alerts": alerts,
}


def index_body(data: HealthData) -> str:
    """The six panels, each a section with a heading."""
    sections = [
        f"<section class='panel' id='panel-{key}' aria-labelledby='h-{key}'>"
        f"<h2 id='h-{key}'>{esc(title)}</h2>"
        f"{RENDERERS[key](data)}</section>"
        for key, title in PANELS
    ]
    intro = f"<p class='muted'>Built from the lake {esc(data.lake)}.</p>" if data.lake else ""
    return intro + "<div class='panels'>" + "".join(sections) + "</div>"
