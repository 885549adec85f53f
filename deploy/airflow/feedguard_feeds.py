"""The feeds the feedguard DAGs run, and the exit-code rules they follow (plain Python, no Airflow import).

Kept apart from ``feedguard_dag.py`` so the rules are unit-tested without Airflow, and so the monitoring
dashboard test can check it names the same DAG and task ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# docs/operations.md §1: 75 is the one transient failure; the others need a person, not a retry. The same
# lists as feedguard.errors.RETRIED_EXIT_CODES / NOT_RETRIED_EXIT_CODES (this module cannot import the
# library: Airflow may run without the wheel); tests/deploy/test_exit_code_policy.py keeps them equal.
EXIT_TRANSIENT = 75
RETRIED_EXIT_CODES = frozenset({EXIT_TRANSIENT})
EXIT_MEANINGS: Mapping[int, str] = {
    0: "succeeded",
    1: "unexpected internal error (a bug)",
    2: "bad configuration, arguments, contract or missing input",
    3: "data-quality gate failed (critical expectation)",
    4: "structural change: file(s) quarantined, new contract version needed",
    5: "conservation check failed (records_read != valid + dead-lettered)",
    6: "file(s) quarantined as corrupt (unreadable, or more bad records than the contract allows)",
    74: "environment: disk full, permission denied or read-only lake (fix it, then rerun; not retried)",
    75: "transient infrastructure failure (broker or AWS endpoint unreachable past its window)",
}
SUCCESS_STATUSES = ("succeeded", "success", "ok", "completed")

# Task ids: the CloudWatch dashboard (deploy/monitoring) graphs these for every DAG.
TASK_CHOOSE_RUNNER = "choose_runner"
TASK_INGEST_GLUE = "ingest_glue"
TASK_INGEST_BATCH = "ingest_batch"
TASK_VERIFY_RUN = "verify_run"
TASK_IDS = (TASK_CHOOSE_RUNNER, TASK_INGEST_GLUE, TASK_INGEST_BATCH, TASK_VERIFY_RUN)
RUNNERS = ("glue", "batch")

# Airflow Variables (none holds a secret: the Slack webhook stays in Secrets Manager, named by its id).
VAR_RUNNER = "feedguard_runner"
VAR_LAKE = "feedguard_lake_path"
VAR_BATCH_QUEUE = "feedguard_batch_job_queue"
VAR_ALERTS_TOPIC = "feedguard_alerts_topic_arn"
VAR_SLACK_SECRET = "feedguard_slack_secret_id"
VAR_ENVIRONMENT = "feedguard_environment"  # the Environment dimension of the callback counts (default prod)
VAR_METRICS = "feedguard_metrics"  # where the counts go: cloudwatch (default), emf or none
DEFAULT_ENVIRONMENT = "prod"
DEFAULT_METRICS = "cloudwatch"

# The "list of SLA misses" Logs Insights widget (deploy/monitoring/fg_panels.py) filters on this marker.
SLA_MISS_MARKER = "FEEDGUARD_SLA_MISS"


@dataclass(frozen=True)
class Feed:
    """One partner feed: which job runs it, where, how often, and how late is too late."""

    source: str
    dataset: str
    job: str  # the script under jobs/ (ingest_files, ingest_kafka)
    schedule: str
    sla: timedelta  # an SLA miss alerts; the run goes on
    timeout: timedelta  # the ingest task is stopped past this (the Glue/Batch job has its own timeout too)

    @property
    def dag_id(self) -> str:
        return f"feedguard_{self.source}_{self.dataset}"

    @property
    def job_name(self) -> str:
        """The Glue job name and the Batch job definition name (deploy/glue, deploy/batch)."""
        return f"feedguard-{self.source}-{self.dataset.replace('_', '-')}"


FEEDS = (
    Feed("quickbite", "orders", "ingest_files", "0 6 * * *", timedelta(hours=2), timedelta(minutes=75)),
    Feed("mealdash", "orders", "ingest_files", "30 6 * * *", timedelta(hours=2), timedelta(minutes=75)),
    Feed(
        "foodnow", "order_events", "ingest_kafka", "0 * * * *", timedelta(minutes=50), timedelta(minutes=135)
    ),
)

_GLUE_EXIT_PATTERNS = (
    re.compile(r"SystemExit:?\s*(\d{1,3})\b"),
    re.compile(
        r"\bexit(?:ed)?\s+(?:with\s+)?(?:exit\s+)?(?:code|status)\s*[:=]?\s*(\d{1,3})\b", re.IGNORECASE
    ),
)


def exit_code_from_error(message: str | None) -> int | None:
    """The job's exit code found in a Glue job run's ``ErrorMessage``, if it says one."""
    for pattern in _GLUE_EXIT_PATTERNS:
        found = pattern.search(message or "")
        if found:
            return int(found.group(1))
    return None


def should_retry(exit_code: int | None) -> bool:
    """Retry a transient failure, and a failure whose cause is unknown (the job may never have started)."""
    return exit_code is None or exit_code in RETRIED_EXIT_CODES


def run_id_template(feed: Feed) -> str:
    """The ``--run_id`` every attempt of one DAG run shares, so a retry is idempotent (Jinja)."""
    return f"{feed.dag_id}-{{{{ ts_nodash }}}}"


def run_summary_path(lake_path: str, run_id: str) -> str:
    """Where the job writes its run summary (docs/design.md)."""
    return f"{lake_path.rstrip('/')}/_runs/{run_id}.json"


def run_summary_problems(summary: Mapping[str, Any]) -> list[str]:
    """What is wrong with a finished run according to its summary (empty: nothing)."""
    problems = []
    status = str(summary.get("status", "")).lower()
    exit_code = summary.get("exit_code")
    # The exit code decides; the status ("succeeded", "succeeded_with_dead_letters", ...) when there is none.
    ok = exit_code == 0 if isinstance(exit_code, int) else status.startswith(SUCCESS_STATUSES)
    if not ok:
        meaning = EXIT_MEANINGS.get(exit_code, "unknown") if isinstance(exit_code, int) else "unknown"
        problems.append(f"status {status or '?'}, exit code {exit_code} ({meaning})")
    counts = [summary.get(k) for k in ("records_read", "records_valid", "records_dead_lettered")]
    if all(isinstance(c, int) for c in counts):
        read, valid, dead = counts
        if read != valid + dead:
            problems.append(
                f"conservation broken: records_read {read} != valid {valid} + dead-lettered {dead}"
            )
    else:
        problems.append("the summary lacks records_read, records_valid or records_dead_lettered")
    return problems


def alert_text(event: str, feed: Feed, details: Mapping[str, Any]) -> tuple[str, str]:
    """Subject (at most 100 characters, SNS's limit) and text of an orchestration alert."""
    subject = f"[feedguard] {feed.source}/{feed.dataset}: {event}"[:100]
    lines = [f"{event} in DAG {feed.dag_id}."]
    lines += [f"{key}: {value}" for key, value in details.items() if value not in (None, "")]
    code = details.get("exit_code")
    if isinstance(code, int) and code in EXIT_MEANINGS:
        lines.append(f"exit code {code}: {EXIT_MEANINGS[code]}. Runbook: docs/operations.md")
    else:
        lines.append("Runbook: docs/operations.md")
    return subject, "\n".join(lines)


def sla_miss_line(feed: Feed, task_ids: Sequence[str]) -> str:
    """The log line of an SLA miss, found by the dashboard's Logs Insights widget.

    >>> sla_miss_line(FEEDS[2], ["ingest_glue"])
    'FEEDGUARD_SLA_MISS dag=feedguard_foodnow_order_events tasks=ingest_glue sla=0:50:00'
    """
    return f"{SLA_MISS_MARKER} dag={feed.dag_id} tasks={','.join(task_ids) or '?'} sla={feed.sla}"
