"""Alert text: what happened, the numbers, the first dead-letter reasons (masked), and what to do.

Example::

    message = format_alert(alert, summary, samples=dead_letter_samples, pii_fields=contract.pii_fields)
    print(message.subject); print(message.text)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypedDict

from feedguard.alerts.masking import MAX_MASKED_CHARS, mask_text
from feedguard.alerts.rules import ONCALL, Alert, AlertKind, Severity
from feedguard.metrics.model import corrupt_ratio_pct, verdicts_of
from feedguard.summary import RunSummary

MAX_SUBJECT: Final = 100  # SNS email subjects: at most 100 printable ASCII characters
MAX_FILES: Final = 5
MAX_RAW_CHARS: Final = 160
MAX_DETAIL_CHARS: Final = 500

EXIT_MEANINGS: Final[Mapping[int, str]] = {
    0: "succeeded",
    1: "unexpected internal error",
    2: "bad configuration, arguments, contract or missing input",
    3: "data-quality gate failed",
    4: "structural change, files quarantined",
    5: "conservation check failed",
    6: "file(s) quarantined as corrupt",
    74: "environment problem (disk, permissions)",
    75: "transient infrastructure failure",
}
FAILURE_ACTIONS: Final[Mapping[int, str]] = {
    1: "This is a bug. Read the job log of this run, fix the code, then rerun on the same input "
    "(the ledger keeps it idempotent).",
    2: "Fix the job arguments, the configuration or the contract, or deliver the missing input, then rerun.",
    5: "Records were counted but not accounted for: do not reprocess. Compare the run log with the valid "
    "and dead-letter tables for this run id and open a bug.",
    75: "An endpoint (broker or AWS) was unreachable past its window; the scheduler retries. If it keeps "
    "failing, check the service and the network path.",
}
TITLES: Final[Mapping[AlertKind, str]] = {
    "run_failed": "run failed",
    "structural_change": "structural change",
    "file_corrupt": "file(s) quarantined as corrupt",
    "intermittent_corruption": "intermittent corruption",
    "dq_failed": "data-quality gate failed",
    "metrics_unsent": "metrics not sent",
    "resolved": "resolved",
}


class DeadLetterSample(TypedDict):
    """The columns of a dead-letter row an alert shows (masked)."""

    error_type: str
    error_detail: str | None
    source_file: str | None
    source_line: int | None
    raw_text: str | None


@dataclass(frozen=True)
class AlertMessage:
    """A rendered alert, ready for any channel."""

    kind: AlertKind
    severity: Severity
    source: str
    dataset: str
    run_id: str
    recipients: tuple[str, ...]
    subject: str
    text: str


def format_alert(
    alert: Alert,
    summary: RunSummary,
    *,
    samples: Sequence[DeadLetterSample] = (),
    pii_fields: Sequence[str] = (),
    csv_columns: Sequence[str] | None = None,
    csv_delimiter: str = ",",
    max_samples: int = 3,
) -> AlertMessage:
    """Render ``alert`` for ``summary``; dead-letter samples are masked with the contract's PII fields.

    The whole text is masked again for email addresses, phone numbers and secrets wherever they come
    from (file names, error messages), except the contract owner's address, which the alert is for.
    """
    where = f"{alert.source}/{alert.dataset}"
    lines = [_headline(alert, summary), "", _facts(summary), _counts(summary)]
    lines += _files(summary)
    if alert.kind != "resolved":
        lines += _samples(samples, pii_fields, csv_columns, csv_delimiter, max_samples)
    lines += ["", f"What to do: {_action(alert, summary)}"]
    lines = [mask_text("\n".join(lines), ())]
    owners = [r.removeprefix("owner:") for r in alert.recipients if r != ONCALL]
    if owners and alert.kind != "resolved":
        lines.append(f"Contract owner: {', '.join(owners)} (action needed)")
    docs = summary.get("docs_path")
    lines.append(mask_text(f"Data Docs: {docs}", ()) if docs else "Data Docs: none for this run")
    subject = _ascii(
        mask_text(
            f"[feedguard] {alert.severity.upper()} {where}: {TITLES[alert.kind]} (run {alert.run_id})", ()
        )
    )
    return AlertMessage(
        kind=alert.kind,
        severity=alert.severity,
        source=alert.source,
        dataset=alert.dataset,
        run_id=alert.run_id,
        recipients=alert.recipients,
        subject=subject[:MAX_SUBJECT],
        text="\n".join(lines),
    )


def _headline(alert: Alert, s: RunSummary) -> str:
    where, run = f"{alert.source}/{alert.dataset}", alert.run_id
    exit_code = s.get("exit_code")
    if alert.kind == "run_failed":
        meaning = EXIT_MEANINGS.get(exit_code, "failure") if isinstance(exit_code, int) else "failure"
        detail = f" {s['message']}" if s.get("message") else ""
        return f"Run {run} of {where} failed with exit code {exit_code} ({meaning}).{detail}"
    if alert.kind == "structural_change":
        changed = [f for f, v in verdicts_of(s).items() if v == "structural_change"]
        version = s.get("contract_version", "?")
        return (
            f"Structural change: {len(changed)} file(s) of {where} no longer match contract "
            f"version {version} and were quarantined whole by run {run}."
        )
    if alert.kind == "file_corrupt":
        quarantined = [f for f, v in verdicts_of(s).items() if v == "file_corrupt"]
        return (
            f"File(s) quarantined as corrupt: {len(quarantined)} file(s) of {where} were unreadable or had "
            f"more bad records than the contract allows; run {run} loaded nothing of them."
        )
    if alert.kind == "intermittent_corruption":
        return (
            f"Intermittent corruption: {corrupt_ratio_pct(s):.2f}% of the records of {where} were "
            f"dead-lettered by run {run}, above the contract's warning threshold."
        )
    if alert.kind == "dq_failed":
        return (
            f"Data-quality gate failed on {where} in run {run}: {s.get('expectations_failed', '?')} of "
            f"{s.get('expectations_evaluated', '?')} expectations failed, at least one of them critical."
        )
    if alert.kind == "metrics_unsent":
        unsent = int(s.get("metrics_spooled") or 0) + int(s.get("metrics_dropped") or 0)
        return (
            f"{unsent} metric(s) of run {run} for {where} could not be sent to CloudWatch "
            f"({s.get('metrics_error') or 'unknown error'})."
        )
    cleared = ", ".join(f"{TITLES[p.kind]} (open since run {p.opened_run_id})" for p in alert.resolved)
    return f"Resolved: {where} is healthy again after run {run}. Cleared: {cleared}."


def _action(alert: Alert, s: RunSummary) -> str:
    source, dataset, run = alert.source, alert.dataset, alert.run_id
    replay = f"feedguard replay --source {source} --dataset {dataset} --run-id {run}"
    if alert.kind == "run_failed":
        code = s.get("exit_code")
        return (
            FAILURE_ACTIONS.get(code, "Read the job log of this run.")
            if isinstance(code, int)
            else ("Read the job log of this run.")
        )
    if alert.kind == "structural_change":
        return (
            f"Nothing of the changed files was loaded; they are kept byte for byte under "
            f"_quarantine/{source}/{dataset}/{run}/ in the lake. The contract owner agrees the change "
            f"with the partner and publishes the next contract version (the drift report proposes one), "
            f"then: {replay}"
        )
    if alert.kind == "file_corrupt":
        return (
            f"The files are kept byte for byte under _quarantine/{source}/{dataset}/{run}/ in the lake and "
            f"their records (or the file, when unreadable) are in the dead-letter table with the reason. Ask "
            f"the partner for a corrected delivery and ingest it; to load the good records of a readable "
            f"file as they are: {replay} --error-type file_corrupt"
        )
    if alert.kind == "intermittent_corruption":
        return (
            f"The good records were loaded. Review the dead letters of run {run} (_dead_letter table and "
            f"_error_zone/{source}/{run}/), send the bad lines to the partner for a corrected delivery, "
            f"then: {replay}"
        )
    if alert.kind == "dq_failed":
        return (
            "Nothing of this run was published. Open the Data Docs page to see which expectations failed, "
            "fix the data with the partner or the expectation suite, then rerun."
        )
    if alert.kind == "metrics_unsent":
        spool = s.get("metrics_spool_path")
        kept = f"They are spooled at {spool} and are sent first on the next run. " if spool else ""
        return (
            f"Nothing to do for the data. {kept}Check the network path, the region and the job role's "
            "cloudwatch:PutMetricData permission."
        )
    return "Nothing; this message closes the earlier alert(s)."


def _facts(s: RunSummary) -> str:
    exit_code = s.get("exit_code")
    version = str(s.get("contract_version", "?")).removeprefix("v")
    return (
        f"Source: {s.get('source')} | Dataset: {s.get('dataset')} | Run: {s.get('run_id')} | "
        f"Contract: v{version} | Status: {s.get('status')} (exit {exit_code})"
    )


def _counts(s: RunSummary) -> str:
    dead = s.get("dead_letters_by_type") or {}
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(dead.items()))
    return (
        f"Counts: read {s.get('records_read', 0)}, valid {s.get('records_valid', 0)}, "
        f"dead-lettered {s.get('records_dead_lettered', 0)} ({corrupt_ratio_pct(s):.2f}%)"
        + (f" [{by_type}]" if by_type else "")
    )


def _files(s: RunSummary) -> list[str]:
    files = [f for f in s.get("files") or [] if isinstance(f, Mapping)]
    if not files:
        return []
    ranked = sorted(files, key=lambda f: f.get("verdict") == "clean")
    lines = ["Files:"]
    for f in ranked[:MAX_FILES]:
        lines.append(
            f"- {f.get('path')}: {f.get('verdict', '?')} (read {f.get('records_read', 0)}, valid "
            f"{f.get('records_valid', 0)}, dead-lettered {f.get('records_dead_lettered', 0)})"
        )
    if len(ranked) > MAX_FILES:
        lines.append(f"- ... and {len(ranked) - MAX_FILES} more")
    return lines


def _samples(
    samples: Sequence[DeadLetterSample],
    pii_fields: Sequence[str],
    csv_columns: Sequence[str] | None,
    delimiter: str,
    limit: int,
) -> list[str]:
    if not samples:
        return []
    lines = [f"First dead-letter reasons ({min(limit, len(samples))} of {len(samples)} sampled):"]
    for i, sample in enumerate(samples[:limit], start=1):
        # Mask a bounded prefix only: a record can be megabytes long and the alert shows its start.
        detail = mask_text(str(sample.get("error_detail", ""))[:MAX_MASKED_CHARS], pii_fields)
        raw = mask_text(
            str(sample.get("raw_text", ""))[:MAX_MASKED_CHARS],
            pii_fields,
            csv_columns=csv_columns,
            delimiter=delimiter,
        )
        if len(detail) > MAX_DETAIL_CHARS:
            detail = detail[:MAX_DETAIL_CHARS] + "..."
        if len(raw) > MAX_RAW_CHARS:
            raw = raw[:MAX_RAW_CHARS] + "..."
        at = f"{sample.get('source_file')}:{sample.get('source_line')}"
        lines.append(f"{i}. {sample.get('error_type')} at {at}: {detail} | raw: {raw}")
    return lines


def _ascii(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
