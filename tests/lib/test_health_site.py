"""The health site's pages from typed records (no JVM), and the offline rewrite of GX's pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from feedguard.health import HealthData, write_pages
from feedguard.health.lake_tables import _example
from feedguard.health.model import DeadLetterCount, DeadLetterExample, SlaRow
from feedguard.quality.offline import CDN_FILES, localize_page, remote_assets

GX_TEMPLATES = (
    Path(cast(str, __import__("great_expectations").__file__)).parent / "render" / "view" / "templates"
)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def run(run_id: str, source: str, status: str, exit_code: int, read: int, dead: int) -> dict[str, object]:
    return {
        "run_id": run_id,
        "source": source,
        "dataset": "orders",
        "status": status,
        "exit_code": exit_code,
        "records_read": read,
        "records_valid": read - dead,
        "records_dead_lettered": dead,
        "started_at": f"2026-12-01T0{len(run_id)}:00:00Z",
        "ended_at": "2026-12-01T10:00:00Z",
        "duration_seconds": 12.5,
        "dead_letters_by_type": {"malformed_json": dead},
        "alerts_sent": [{"kind": "intermittent_corruption", "channel": "slack"}],
        "files": [
            {
                "path": f"file:///in/{HOSTILE}.jsonl",
                "verdict": "intermittent_corruption",
                "records_read": read,
                "records_dead_lettered": dead,
                "evidence": {"detail": HOSTILE},
            }
        ],
    }


def data() -> HealthData:
    example = DeadLetterExample(
        "quickbite/orders", "r1", "malformed_json", "bad", "file:///in/a.jsonl", 3, "open", HOSTILE
    )
    return HealthData(
        lake="/lake",
        runs=[
            run("r1", "quickbite", "succeeded_with_dead_letters", 0, 100, 4),
            run("r22", "quickbite", "file_quarantined", 6, 10, 10),
        ],
        dead_counts=[DeadLetterCount("quickbite/orders", "malformed_json", "file:///in/a.jsonl", "open", 14)],
        dead_examples=[example],
        sla=[
            SlaRow(
                "foodnow.order-events",
                "broker_unreachable",
                "2026-12-01 10:00:00",
                "2026-12-01 10:00:09",
                9.0,
                0,
                False,
                3,
                "fetch offsets",
                "k1",
                120,
            )
        ],
        alert_state={
            "open": {
                "quickbite/orders": {"intermittent_corruption": {"opened_run_id": "r1", "notified": True}}
            }
        },
    )


def test_the_index_has_six_panels_that_say_what_only_aws_has(tmp_path: Path) -> None:
    index = write_pages(data(), tmp_path)
    html = index.read_text()
    titles = re.findall(r"<section class='panel' id='panel-(\w+)'", html)
    assert titles == ["overview", "airflow", "batch", "fargate", "kafka", "alerts"]
    assert html.count("Only in AWS:") == 6
    assert "No broker configured for this site" in html
    assert "SLA ledger: 1 outage(s), 9.0 s of downtime, 0 message(s) lost." in html
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "alerts.html",
        "feed-quickbite-orders.html",
        "index.html",
        "metrics.html",
        "sla.html",
    ]


def test_text_from_the_lake_is_escaped_never_markup(tmp_path: Path) -> None:
    write_pages(data(), tmp_path)
    for page in tmp_path.iterdir():
        html = page.read_text()
        assert "<script" not in html and "<img" not in html, page.name
    feed = (tmp_path / "feed-quickbite-orders.html").read_text()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in feed


def test_dead_letter_examples_are_masked_with_the_feeds_contract() -> None:
    row = {
        "feed": "quickbite/orders",
        "run_id": "r",
        "error_type": "malformed_json",
        "line": 7,
        "status": "open",
        "error_detail": "customer_email ann@mail.example",
        "where": "f.jsonl",
        "raw": '{"customer_email": "ann@mail.example", "name": "Ann Lee", "total": 1',
    }
    masks = {"quickbite/orders": (("customer_email", "name"), None, ",")}

    example = _example(row, masks)

    assert example.raw_text == '{"customer_email": "***", "name": "***", "total": 1'
    assert example.error_detail == "customer_email ***"
    assert example.line == 7


def test_every_cdn_asset_gx_pages_load_is_vendored() -> None:
    urls = set()
    for template in ("js_script_imports.j2", "page.j2", "index_page.j2"):
        urls |= set(re.findall(r'"(https://[^"]+\.(?:js|css))"', (GX_TEMPLATES / template).read_text()))
    assert {u for u in urls if "/npm/vega" not in u} <= set(CDN_FILES)

    page = (GX_TEMPLATES / "js_script_imports.j2").read_text()
    local = localize_page(page, "../static/vendor/")
    assert remote_assets(local) == []
    assert '<script src="../static/vendor/js/jquery-3.4.1.min.js"></script>' in local
    assert "integrity=" not in local and "crossorigin=" not in local
