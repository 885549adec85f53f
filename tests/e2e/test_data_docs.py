"""Data Docs as an analyst sees them: built from real validation runs, rendered in headless Chromium.

Needs Debian's ``chromium`` (``make chromium``). The screenshot of the source page is kept in
``test-artifacts/data_docs.png`` (gitignored).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal as D
from pathlib import Path
from typing import cast

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from feedguard.contracts.contract import load_contract
from feedguard.contracts.schema import spark_schema
from feedguard.lake.runlog import write_run
from feedguard.quality import load_suite, validate
from feedguard.quality.docs import build_docs
from feedguard.summary import RunSummary
from support.moto_server import running_moto_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CONTRACT = load_contract(ROOT / "contracts" / "quickbite" / "orders.v1.yaml")
SUITE = load_suite(ROOT / "expectations" / "quickbite" / "orders.v1.json")
LINEAGE = [
    T.StructField("_source_file", T.StringType()),
    T.StructField("_source_line", T.LongType()),
    T.StructField("_run_id", T.StringType()),
    T.StructField("_ingested_at", T.TimestampType()),
    T.StructField("_contract_version", T.IntegerType()),
    T.StructField("ingest_date", T.DateType()),
]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
RUN_OK, RUN_BAD = "20261128T100000Z-aaaaaa", "20261129T100000Z-bbbbbb"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is missing: run `make chromium`", pytrace=False)
    return path


def render(chromium: str, page: Path, *extra: str) -> str:
    """Load ``page`` in headless Chromium; return the DOM after load (``--dump-dom``) or stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def text_of(fragment: str) -> str:
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def run_cells(dom: str, run_id: str) -> list[str]:
    row = re.search(rf'<tr id="run-{re.escape(run_id)}">(.*?)</tr>', dom, re.S)
    assert row, f"no row for run {run_id}"
    return [text_of(cell) for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", row.group(1), re.S)]


def orders(spark: SparkSession, totals: list[str]) -> DataFrame:
    schema = T.StructType(spark_schema(CONTRACT, corrupt_column=False).fields + LINEAGE)
    rows = []
    for i, total in enumerate(totals, start=1):
        items, at = [("SKU-0001", 2, D("4.50"))], dt.datetime(2026, 11, 28, 9)
        order = (f"QB-{i:08d}", f"C{i:06d}", f"c{i}@mail.example", "R0001", items,
                 D("9.00"), D("1.00"), D(total), "placed", "Berlin", at)  # fmt: skip
        rows.append(
            (*order, "file:/in/orders.jsonl", i, "r", dt.datetime(2026, 11, 29), 1, dt.date(2026, 11, 29))
        )
    return spark.createDataFrame(rows, schema).cache()


def summary(run_id: str, started: str, read: int, dead: int, dq: RunSummary) -> RunSummary:
    # Only the keys the Data Docs read: the file entries are partial.
    return cast(
        RunSummary,
        {
            "run_id": run_id,
            "job_name": "ingest_files",
            "source": "quickbite",
            "dataset": "orders",
            "contract_version": 1,
            "status": "succeeded_with_dead_letters" if dq["dq_success"] else "dq_failed",
            "exit_code": 0 if dq["dq_success"] else 3,
            "records_read": read,
            "records_valid": read - dead,
            "records_dead_lettered": dead,
            "files": [{"path": "in/orders_1.jsonl"}, {"path": "in/orders_2.jsonl"}],
            "verdicts": {"in/orders_1.jsonl": "clean", "in/orders_2.jsonl": "intermittent_corruption"},
            "started_at": started,
            "ended_at": started,
            "duration_seconds": 1.0,
            "message": "",
            **dq,
        },
    )


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of QuickBite: one clean, one whose batch breaks total = subtotal + tip."""
    root = tmp_path_factory.mktemp("docs") / "lake"
    gx_root = str(root / "_gx")
    good = validate(orders(spark, ["10.00"] * 3), SUITE, run_id=RUN_OK, context_root=gx_root)
    bad = validate(orders(spark, ["10.00", "12.50", "10.00"]), SUITE, run_id=RUN_BAD, context_root=gx_root)
    write_run(
        spark, str(root / "_runs"), summary(RUN_OK, "2026-11-28T10:00:00Z", 200, 10, good.summary_fields())
    )
    write_run(
        spark, str(root / "_runs"), summary(RUN_BAD, "2026-11-29T10:00:00Z", 120, 3, bad.summary_fields())
    )
    return root


def test_the_site_renders_in_chromium_with_the_runs_numbers(chromium: str, lake: Path) -> None:
    index = Path(build_docs(str(lake), context_root=str(lake / "_gx")))
    assert index == lake / "_docs" / "feedguard" / "index.html"

    home = render(chromium, index, "--dump-dom")
    assert "feedguard: feeds and data quality" in home
    assert f"quickbite 2 {RUN_BAD} dq_failed 120 2.5% failed (1 of 23 failed)" in text_of(home)

    page = index.parent / "quickbite.html"
    dom = render(chromium, page, "--dump-dom")
    failed = run_cells(dom, RUN_BAD)
    assert failed[:8] == [RUN_BAD, "orders", "dq_failed", "2026-11-29T10:00:00Z", "120", "117", "3", "2.5%"]
    assert failed[8] == "clean: 1, intermittent_corruption: 1"
    assert failed[9] == "failed (1 of 23 failed)"
    passed = run_cells(dom, RUN_OK)
    assert passed[4:10] == [
        "200",
        "190",
        "10",
        "5%",
        "clean: 1, intermittent_corruption: 1",
        "passed (0 of 23 failed)",
    ]
    charts = re.findall(r"<svg\b.*?</svg>", dom, re.S)
    assert [len(re.findall(r"<circle\b", svg)) for svg in charts] == [2, 2]
    assert "latest 2.5%" in text_of(charts[0]) and "latest 95.65%" in text_of(charts[1])

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "data_docs.png"
    shot.unlink(missing_ok=True)
    render(chromium, page, f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.stat().st_size > 10_000

    link = re.search(rf'<tr id="run-{RUN_BAD}">.*?<a href="([^"]+)">GX result</a>', dom, re.S)
    assert link, "the failed run links to its GX validation page"
    gx_page = (page.parent / html.unescape(link.group(1))).resolve()
    gx_text = text_of(render(chromium, gx_page, "--dump-dom"))
    assert "Expectation Suite: quickbite.orders.v1 Data asset: quickbite.orders Status: Failed" in gx_text
    assert "Evaluated Expectations 23 Successful Expectations 22 Unsuccessful Expectations 1" in gx_text
    assert (
        "Cross-field: total = subtotal + tip (a missing tip counts as 0). 1 " in gx_text
    )  # 1 unexpected row
    render(
        chromium, gx_page, f"--screenshot={ARTIFACTS / 'data_docs_gx_result.png'}", "--window-size=1280,1400"
    )

    gx_home = render(chromium, lake / "_docs" / "index.html", "--dump-dom")
    assert "Data Docs created by Great Expectations" in text_of(gx_home)


def test_the_built_site_is_uploaded_to_s3(lake: Path) -> None:
    with running_moto_server() as moto:
        s3 = moto.client("s3")
        s3.create_bucket(
            Bucket="analytics-docs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )

        index = build_docs(
            str(lake), context_root=str(lake / "_gx"), s3_target="s3://analytics-docs/feedguard", s3_client=s3
        )

        assert index == "s3://analytics-docs/feedguard/feedguard/index.html"
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="analytics-docs")["Contents"]}
        local = {p.relative_to(lake / "_docs").as_posix() for p in (lake / "_docs").rglob("*") if p.is_file()}
        assert keys == {f"feedguard/{k}" for k in local}
        page = s3.get_object(Bucket="analytics-docs", Key="feedguard/feedguard/quickbite.html")
        assert page["ContentType"] == "text/html"
        assert RUN_BAD in page["Body"].read().decode()
