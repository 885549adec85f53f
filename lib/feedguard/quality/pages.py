"""Our own Data Docs pages: an index of sources and one page per source with its latest runs.

Static HTML with inline CSS and inline SVG charts (no JavaScript, no CDN: analysts may open the
site offline). Pure functions from run summaries (the ``<lake>/_runs/<run_id>.json`` files) to
HTML text; :mod:`feedguard.quality.docs` writes them next to GX's pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from feedguard.summary import RunSummary

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.35rem .6rem;text-align:right}
th{background:#f0f4f8}td.l,th.l{text-align:left}
.ok{color:#1b7a3a;font-weight:600}.bad{color:#b42318;font-weight:600}
.muted{color:#829ab1}.charts{display:flex;gap:2rem;flex-wrap:wrap}figure{margin:0}figcaption{font-weight:600}
"""
CHART_W, CHART_H, PAD = 460, 200, 40


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def corrupt_ratio_pct(run: Mapping[str, Any]) -> float:
    """Dead-lettered records as a percentage of records read (any summary mapping: the health site's too)."""
    if run.get("corrupt_ratio_pct") is not None:
        return float(run["corrupt_ratio_pct"])
    read = int(run.get("records_read") or 0)
    return round(100.0 * int(run.get("records_dead_lettered") or 0) / read, 4) if read else 0.0


def dq_pass_rate_pct(run: Mapping[str, Any]) -> float | None:
    """Expectations that passed as a percentage of those evaluated; None when the gate did not run."""
    evaluated = run.get("expectations_evaluated")
    if not evaluated:
        return None
    return round(100.0 * (int(evaluated) - int(run.get("expectations_failed") or 0)) / int(evaluated), 2)


def pct(value: float) -> str:
    """``18.18%``: two decimals at most."""
    return f"{round(value, 2):g}%"


def _verdicts(run: RunSummary) -> str:
    counts = Counter(str(v) for v in (run.get("verdicts") or {}).values())
    return ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "—"


def _dq_cell(run: RunSummary) -> str:
    if run.get("dq_success") is None:
        return "<td class='muted'>—</td>"
    ok = bool(run["dq_success"])
    failed, evaluated = run.get("expectations_failed"), run.get("expectations_evaluated")
    detail = f" ({failed} of {evaluated} failed)" if evaluated else ""
    css, word = ("ok", "passed") if ok else ("bad", "failed")
    return f"<td class='{css} dq'>{word}{escape(detail)}</td>"


def _points(values: Sequence[float | None], top: float) -> list[tuple[float, float, float]]:
    step = (CHART_W - 2 * PAD) / max(len(values) - 1, 1)
    return [
        (PAD + i * step, CHART_H - PAD - (v / top) * (CHART_H - 2 * PAD), v)
        for i, v in enumerate(values)
        if v is not None
    ]


def line_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], *, top: float | None = None
) -> str:
    """An inline SVG line chart (percentages over runs, oldest on the left)."""
    shown = [v for v in values if v is not None]
    top = top or max([*shown, 1.0]) * 1.1
    points = _points(values, top)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    dots = "".join(
        f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5'><title>{escape(label)}: {pct(v)}</title></circle>"
        for (x, y, v), label in zip(
            points, [lab for lab, v in zip(labels, values, strict=True) if v is not None], strict=True
        )
    )
    last = (
        f"<text x='{CHART_W - PAD}' y='16' text-anchor='end' class='last'>latest {pct(shown[-1])}</text>"
        if shown
        else ""
    )
    axis = (
        f"<line x1='{PAD}' y1='{CHART_H - PAD}' x2='{CHART_W - PAD}' y2='{CHART_H - PAD}' stroke='#9fb3c8'/>"
        f"<line x1='{PAD}' y1='{PAD}' x2='{PAD}' y2='{CHART_H - PAD}' stroke='#9fb3c8'/>"
        f"<text x='{PAD - 6}' y='{PAD + 4}' text-anchor='end' font-size='11'>{top:.3g}%</text>"
        f"<text x='{PAD - 6}' y='{CHART_H - PAD + 4}' text-anchor='end' font-size='11'>0%</text>"
        f"<text x='{CHART_W / 2}' y='{CHART_H - 10}' text-anchor='middle' font-size='11'>"
        f"{len(values)} runs, oldest first</text>"
    )
    line = (
        f"<polyline fill='none' stroke='#2f6fde' stroke-width='2' points='{path}'/>"
        if len(points) > 1
        else ""
    )
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{CHART_W}' height='{CHART_H}' role='img' "
        f"aria-label='{escape(title)}' viewBox='0 0 {CHART_W} {CHART_H}' fill='#2f6fde'>"
        f"{axis}{line}{dots}{last}</svg>"
    )
    return f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>"


def _run_row(run: RunSummary, links: Mapping[str, str]) -> str:
    run_id = str(run.get("run_id", ""))
    gx_link = links.get(run_id)
    gx_cell = f"<a href='{escape(gx_link)}'>GX result</a>" if gx_link else "<span class='muted'>—</span>"
    status = str(run.get("status", ""))
    css = "bad" if status not in ("succeeded", "succeeded_with_dead_letters") else "ok"
    cells = [
        f"<td class='l run'>{escape(run_id)}</td>",
        f"<td class='l'>{escape(str(run.get('dataset', '')))}</td>",
        f"<td class='l {css}'>{escape(status)}</td>",
        f"<td class='l'>{escape(str(run.get('started_at', '')))}</td>",
        f"<td class='read'>{int(run.get('records_read') or 0)}</td>",
        f"<td class='valid'>{int(run.get('records_valid') or 0)}</td>",
        f"<td class='dead'>{int(run.get('records_dead_lettered') or 0)}</td>",
        f"<td class='corrupt'>{pct(corrupt_ratio_pct(run))}</td>",
        f"<td class='l'>{escape(_verdicts(run))}</td>",
        _dq_cell(run),
        f"<td class='l'>{gx_cell}</td>",
    ]
    return f"<tr id='run-{escape(run_id)}'>{''.join(cells)}</tr>"


HEADER = (
    "<tr><th class='l'>run</th><th class='l'>dataset</th><th class='l'>status</th><th class='l'>started</th>"
    "<th>read</th><th>valid</th><th>dead-lettered</th><th>corrupt</th><th class='l'>verdicts</th>"
    "<th class='l'>DQ</th><th class='l'>Data Docs</th></tr>"
)


def source_page(source: str, runs: Sequence[RunSummary], links: Mapping[str, str]) -> str:
    """``<source>.html``: the charts over runs (oldest first) and the latest runs (newest first)."""
    ordered = sorted(runs, key=lambda r: str(r.get("started_at", "")))
    labels = [str(r.get("run_id", "")) for r in ordered]
    charts = (
        "<div class='charts'>"
        + line_chart("Corrupt-record ratio (%)", labels, [corrupt_ratio_pct(r) for r in ordered])
        + line_chart("DQ pass rate (%)", labels, [dq_pass_rate_pct(r) for r in ordered], top=100.0)
        + "</div>"
    )
    rows = "".join(_run_row(r, links) for r in reversed(ordered))
    body = (
        f"<p><a href='index.html'>← all sources</a> · <a href='../index.html'>GX Data Docs</a></p>"
        f"<h1>{escape(source)}: latest runs</h1>{charts}"
        f"<h2>Runs</h2><table id='runs'>{HEADER}{rows}</table>"
    )
    return _page(f"feedguard · {source}", body)


def index_page(by_source: Mapping[str, Sequence[RunSummary]]) -> str:
    """``index.html``: one line per source with its latest run."""
    rows = []
    for source, runs in sorted(by_source.items()):
        latest = max(runs, key=lambda r: str(r.get("started_at", "")))
        rows.append(
            f"<tr><td class='l'><a href='{escape(source)}.html'>{escape(source)}</a></td>"
            f"<td>{len(runs)}</td><td class='l'>{escape(str(latest.get('run_id', '')))}</td>"
            f"<td class='l'>{escape(str(latest.get('status', '')))}</td>"
            f"<td>{int(latest.get('records_read') or 0)}</td><td>{pct(corrupt_ratio_pct(latest))}</td>"
            f"{_dq_cell(latest)}</tr>"
        )
    table = (
        "<table id='sources'><tr><th class='l'>source</th><th>runs</th><th class='l'>latest run</th>"
        "<th class='l'>status</th><th>read</th><th>corrupt</th><th class='l'>DQ</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    empty = "" if rows else "<p class='muted'>No runs yet.</p>"
    links = "<p><a href='../index.html'>GX Data Docs</a> · <a href='../health/index.html'>Health site</a></p>"
    body = f"<h1>feedguard: feeds and data quality</h1>{links}{table}{empty}"
    return _page("feedguard · sources", body)
