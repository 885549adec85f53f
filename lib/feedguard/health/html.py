"""HTML building blocks for the health site: escaping by default, tables, inline SVG bar charts.

Text from the lake (raw records, file names, error details) is always escaped: only :class:`Markup`
(fragments this package builds) is inserted as is. No JavaScript and no external asset: the pages
open from disk, offline, and the tables read without scripts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;line-height:1.4}
main{padding:1rem 2rem;max-width:1400px}nav{background:#102a43;padding:.6rem 2rem}
nav a{color:#f0f4f8;margin-right:1.2rem;text-decoration:none}nav a:hover{text-decoration:underline}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:1.6rem}h3{font-size:1.05rem}
table{border-collapse:collapse;font-size:.88rem;margin:.4rem 0 1rem}caption{text-align:left;font-weight:600}
th,td{border:1px solid #d9e2ec;padding:.3rem .55rem;text-align:left;vertical-align:top}th{background:#f0f4f8}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1b7a3a;font-weight:600}.bad{color:#b42318;font-weight:600}.warn{color:#a15c07;font-weight:600}
.muted{color:#627d98}.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem}
section.panel{border:1px solid #bcccdc;border-radius:6px;padding:.2rem 1rem 1rem;min-width:0;overflow-x:auto}
.aws{background:#fffbea;border-left:4px solid #f0b429;padding:.4rem .7rem;font-size:.88rem}
pre.raw{white-space:pre-wrap;word-break:break-all;margin:0;max-width:60rem;font-size:.82rem}
figure{margin:.4rem 0}figcaption{font-weight:600;font-size:.9rem}
"""
BAR_W, BAR_H, PAD = 460, 170, 34


class Markup(str):
    """A fragment built by this package: inserted without escaping."""


Cell = str | int | float | None


def esc(value: Cell) -> str:
    """Escaped text of a value (``Markup`` passes unchanged; ``None`` is a dash)."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return "—"
    return escape(str(value), quote=True)


def link(href: str, text: Cell) -> Markup:
    return Markup(f"<a href='{escape(href, quote=True)}'>{esc(text)}</a>")


def span(css: str, text: Cell) -> Markup:
    return Markup(f"<span class='{escape(css, quote=True)}'>{esc(text)}</span>")


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, table_id: str = "", caption: str = ""
) -> str:
    """A table; numbers are right-aligned, every other cell escaped unless it is :class:`Markup`."""
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f"<td class='n'>{esc(c)}</td>"
            if isinstance(c, int | float) and not isinstance(c, bool)
            else f"<td>{esc(c)}</td>"
            for c in row
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f"<tr><td colspan='{len(headers)}' class='muted'>none</td></tr>")
    ident = f" id='{escape(table_id, quote=True)}'" if table_id else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table{ident}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "") -> str:
    """An inline SVG bar chart (oldest first) whose text alternative lists every value."""
    top = max([*values, 1e-9]) * 1.1
    width = (BAR_W - 2 * PAD) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (value / top) * (BAR_H - 2 * PAD)
        x, y = PAD + i * width, BAR_H - PAD - height
        bars.append(
            f"<rect x='{x + width * 0.15:.1f}' y='{y:.1f}' width='{width * 0.7:.1f}' height='{height:.1f}'>"
            f"<title>{esc(label)}: {value:g}{esc(unit)}</title></rect>"
        )
    alt = f"{title}, {len(values)} runs, oldest first: " + ", ".join(f"{v:g}{unit}" for v in values)
    axis = (
        f"<line x1='{PAD}' y1='{BAR_H - PAD}' x2='{BAR_W - PAD}' y2='{BAR_H - PAD}' stroke='#9fb3c8'/>"
        f"<text x='{PAD - 4}' y='{PAD}' text-anchor='end' font-size='11'>{top / 1.1:g}</text>"
        f"<text x='{BAR_W / 2}' y='{BAR_H - 10}' text-anchor='middle' font-size='11'>"
        f"{len(values)} runs, oldest first</text>"
    )
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{BAR_W}' height='{BAR_H}' "
        f"viewBox='0 0 {BAR_W} {BAR_H}' "
        f"role='img' aria-label='{esc(alt)}' fill='#2f6fde'>{axis}{''.join(bars)}</svg>"
    )
    return f"<figure><figcaption>{esc(title)}</figcaption>{svg}</figure>"


def page(title: str, nav: str, body: str) -> str:
    """A whole page: inline style, the site's navigation, the body."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><nav aria-label='health site'>{nav}</nav><main>\n<h1>{esc(title)}</h1>\n{body}\n"
        "</main></body></html>\n"
    )
