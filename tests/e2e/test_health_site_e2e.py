"""The health site and the GX Data Docs in headless Chromium with the network blocked.

One small lake (one GX validation, one run summary, three dead letters), one site build. Chromium runs
with every host resolving nowhere and a dead proxy, and writes a NetLog: a page passes when it made no
http(s) request, logged no console error, and shows the lake's numbers. Screenshots of each page go to
``test-artifacts/health_*.png``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from test_data_docs import CHROMIUM_FLAGS, RUN_OK, SUITE, chromium, orders, summary, text_of

from feedguard.health import HealthOptions, build_health_site
from feedguard.lake.runlog import write_run
from feedguard.quality import validate
from feedguard.quality.docs import build_docs

pytestmark = pytest.mark.e2e
__all__ = ["chromium"]  # the fixture, imported from test_data_docs

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
OFFLINE = ("--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")
# Requests the browser makes for itself (updates, accounts), not the page.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
DEAD_LETTERS = (
    "source string, dataset string, run_id string, source_file string, source_line long, raw_text string, "
    "error_type string, error_detail string, status string, ingested_at timestamp, kafka_partition int, "
    "kafka_offset long"
)
HOSTILE = '{"customer_email": "ann@mail.example", "note": "<script>alert(1)</script>"'


def offline_load(chromium: str, page: Path, shot: Path) -> tuple[str, list[str], list[str]]:
    """DOM after load, the page's http(s) requests and its console errors (network blocked)."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        netlog = Path(profile) / "net.json"
        common = [chromium, *CHROMIUM_FLAGS, *OFFLINE, f"--user-data-dir={profile}"]
        proc = subprocess.run(
            [
                *common,
                f"--log-net-log={netlog}",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        urls = set(re.findall(r'"url":"(https?://[^"]+)"', netlog.read_text()))
        subprocess.run(
            [*common, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    requests = sorted(u for u in urls if not any(h in u.split("/")[2] for h in BROWSER_HOSTS))
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, requests, console


@pytest.fixture(scope="module")
def site(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("health") / "lake"
    good = validate(orders(spark, ["10.00"] * 3), SUITE, run_id=RUN_OK, context_root=str(lake / "_gx"))
    write_run(
        spark, str(lake / "_runs"), summary(RUN_OK, "2026-11-28T10:00:00Z", 200, 3, good.summary_fields())
    )
    now = dt.datetime(2026, 11, 28, 10)
    rows = [
        (
            "quickbite",
            "orders",
            RUN_OK,
            "file:/in/a.jsonl",
            line,
            raw,
            "malformed_json",
            "bad",
            "open",
            now,
            None,
            None,
        )
        for line, raw in ((4, HOSTILE), (9, "{"), (12, "[1]"))
    ]
    spark.createDataFrame(rows, DEAD_LETTERS).write.format("delta").save(str(lake / "_dead_letter"))
    options = HealthOptions(str(lake), str(ROOT / "contracts"))
    build_docs(
        str(lake),
        context_root=str(lake / "_gx"),
        extra_pages=lambda folder: build_health_site(spark, folder, options),
    )
    return lake / "_docs"


def test_gx_data_docs_load_offline_styled_with_their_results_listed(chromium: str, site: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    dom, requests, console = offline_load(chromium, site / "index.html", ARTIFACTS / "health_gx_index.png")
    assert requests == [] and console == []
    rows = re.findall(r'<tr class="clickable-row" data-href="(validations/[^"]+)"', dom)
    assert len(rows) == 1 and RUN_OK in rows[0]  # drawn by bootstrap-table: the vendored JS ran
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', dom)
    assert stylesheets and all(
        s.startswith("static/vendor/") or s.startswith("static/styles/") for s in stylesheets
    )
    assert all((site / s).is_file() for s in stylesheets)

    page = site / html.unescape(rows[0])
    dom, requests, console = offline_load(chromium, page, ARTIFACTS / "health_gx_result.png")
    assert requests == [] and console == []
    assert "Evaluated Expectations 23 Successful Expectations 23" in text_of(dom)


def test_the_health_pages_load_offline_with_the_lakes_numbers(chromium: str, site: Path) -> None:
    health = site / "health"
    dom, requests, console = offline_load(chromium, health / "index.html", ARTIFACTS / "health_index.png")
    assert requests == [] and console == []
    text = text_of(dom)
    for panel in (
        "Overview",
        "Airflow DAGs",
        "AWS Batch",
        "AWS Fargate",
        "Kafka / MSK",
        "Alerts & Notifications",
    ):
        assert f" {panel} " in f" {text} "
    assert "quickbite/orders 1 succeeded_with_dead_letters: 1 succeeded_with_dead_letters 200 3 100%" in text

    dom, requests, console = offline_load(
        chromium, health / "feed-quickbite-orders.html", ARTIFACTS / "health_feed.png"
    )
    assert requests == [] and console == []
    text = text_of(dom)
    assert "malformed_json 3 3" in text  # by reason: 3 dead letters, 3 open
    assert "file:/in/a.jsonl 3 malformed_json: 3" in text  # by file
    assert '{"customer_email": "***", "note": "<script>alert(1)</script>"' in text  # masked, shown as text
    assert "<script>alert(1)" not in dom
