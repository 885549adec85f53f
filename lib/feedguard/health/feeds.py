"""One page per feed: trends over runs, file verdicts with drift reports, and the dead-letter browser."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path

from feedguard.health.html import Cell, Markup, bar_chart, esc, link, span, table
from feedguard.health.model import DeadLetterCount, DeadLetterExample, HealthData, RunSummary
from feedguard.quality.pages import corrupt_ratio_pct, dq_pass_rate_pct, pct


def relative(target: str, page_dir: Path) -> str:
    """A link from a page in ``page_dir`` to a local file of the lake."""
    return os.path.relpath(Path(target).resolve(), page_dir.resolve()).replace(os.sep, "/")


def _anchor(text: str) -> str:
    return "r-" + "".join(c if c.isalnum() else "-" for c in text)


def trends(runs: list[RunSummary]) -> str:
    labels = [str(r.get("run_id")) for r in runs]

    def series(key: str) -> list[float]:
        return [float(r.get(key) or 0) for r in runs]

    dq = [dq_pass_rate_pct(r) for r in runs]
    charts = [
        bar_chart("Records read", labels, series("records_read")),
        bar_chart("Dead letters", labels, series("records_dead_lettered")),
        bar_chart("Corrupt ratio", labels, [corrupt_ratio_pct(r) for r in runs], unit="%"),
        bar_chart("DQ pass rate", labels, [d if d is not None else 0.0 for d in dq], unit="%"),
        bar_chart("Duration", labels, series("duration_seconds"), unit=" s"),
    ]
    return "<div class='panels'>" + "".join(charts) + "</div>"


def runs_table(runs: list[RunSummary]) -> str:
    types = sorted({t for r in runs for t in (r.get("dead_letters_by_type") or {})})
    rows: list[list[Cell]] = []
    for r in reversed(runs):
        by_type = r.get("dead_letters_by_type") or {}
        dq = dq_pass_rate_pct(r)
        status = str(r.get("status"))
        rows.append(
            [
                str(r.get("run_id")),
                str(r.get("started_at")),
                span("ok" if status.startswith("succeeded") else "bad", status),
                int(r.get("exit_code") or 0),
                int(r.get("records_read") or 0),
                int(r.get("records_valid") or 0),
                int(r.get("records_dead_lettered") or 0),
                pct(corrupt_ratio_pct(r)),
                pct(dq) if dq is not None else None,
                float(r.get("duration_seconds") or 0.0),
                *[int(by_type.get(t, 0)) for t in types],
            ]
        )
    headers = [
        "run",
        "started",
        "status",
        "exit",
        "read",
        "valid",
        "dead-lettered",
        "corrupt",
        "DQ pass",
        "duration (s)",
        *types,
    ]
    return table(headers, rows, table_id="runs", caption="Runs, newest first; dead letters by error type")


def _drift_links(run: RunSummary, path: str, page_dir: Path) -> Markup:
    report = (run.get("drift_reports") or {}).get(path) or {}
    links = [link(relative(target, page_dir), name) for name, target in sorted(report.items()) if target]
    return Markup(" · ".join(links)) if links else Markup("")


def verdicts_table(runs: list[RunSummary], page_dir: Path) -> str:
    rows: list[list[Cell]] = []
    for run in reversed(runs):
        for f in run.get("files") or []:
            path = str(f.get("path", ""))
            verdict = str(f.get("verdict", ""))
            css = {"clean": "ok", "intermittent_corruption": "warn"}.get(verdict, "bad")
            evidence = f.get("evidence") or {}
            detail = evidence.get("detail") or evidence.get("dominant_signature") or ""
            rows.append(
                [
                    str(run.get("run_id")),
                    path,
                    span(css, verdict),
                    int(f.get("records_read") or 0),
                    int(f.get("records_dead_lettered") or 0),
                    str(detail),
                    f.get("quarantined_to"),
                    _drift_links(run, path, page_dir),
                ]
            )
    headers = [
        "run",
        "file",
        "verdict",
        "read",
        "dead-lettered",
        "evidence",
        "quarantined to",
        "drift report",
    ]
    return table(headers, rows, table_id="verdicts")


def _reason_rows(counts: list[DeadLetterCount]) -> list[list[Cell]]:
    by_reason: Counter[str] = Counter()
    open_: Counter[str] = Counter()
    for c in counts:
        by_reason[c.error_type] += c.count
        open_[c.error_type] += c.count if c.status == "open" else 0
    return [
        [link(f"#{_anchor(t)}", t), n, open_[t]] for t, n in sorted(by_reason.items(), key=lambda i: -i[1])
    ]


def _where_rows(counts: list[DeadLetterCount]) -> list[list[Cell]]:
    by_where: dict[str, Counter[str]] = defaultdict(Counter)
    for c in counts:
        by_where[c.where][c.error_type] += c.count
    return [
        [w, sum(t.values()), ", ".join(f"{k}: {v}" for k, v in sorted(t.items()))]
        for w, t in sorted(by_where.items())
    ]


def dead_letter_browser(
    counts: list[DeadLetterCount], examples: list[DeadLetterExample], lake: str, page_dir: Path
) -> str:
    by_reason = table(
        ["reason", "dead letters", "open"], _reason_rows(counts), table_id="dl-reasons", caption="By reason"
    )
    by_where = table(
        ["file or partition", "dead letters", "by reason"],
        _where_rows(counts),
        table_id="dl-files",
        caption="By file",
    )
    sections = []
    for reason in sorted({e.error_type for e in examples}):
        rows = [
            [
                e.where,
                e.line,
                e.run_id,
                e.status,
                e.error_detail,
                Markup(f"<pre class='raw'>{esc(e.raw_text)}</pre>"),
            ]
            for e in examples
            if e.error_type == reason
        ]
        sections.append(
            f"<h3 id='{_anchor(reason)}'>{esc(reason)}</h3>"
            + table(
                ["file or partition", "line or offset", "run", "status", "detail", "raw text (masked)"], rows
            )
        )
    zone = Path(lake, "_error_zone").resolve()
    return (
        by_reason
        + by_where
        + f"<p>Examples by reason, ordered by file and line (PII masked as in alerts). The bad lines of each "
        f"file, unmasked, are in the error zone: {link(relative(str(zone), page_dir), str(zone))}.</p>"
        + "".join(sections)
    )


def feed_body(data: HealthData, feed: str, page_dir: Path) -> str:
    runs = data.runs_of(feed)
    counts = [c for c in data.dead_counts if c.feed == feed]
    examples = [e for e in data.dead_examples if e.feed == feed]
    return (
        "<h2>Trends over runs</h2>"
        + trends(runs)
        + runs_table(runs)
        + "<h2>File verdicts</h2>"
        + verdicts_table(runs, page_dir)
        + "<h2>Dead letters</h2>"
        + dead_letter_browser(counts, examples, data.lake, page_dir)
    )
