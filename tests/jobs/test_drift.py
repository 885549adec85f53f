"""Structural change versus intermittent corruption, end to end through the job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import SparkSession

from feedguard.contract import load_contract
from feedguard.samples import write_drifted_samples
from jobs.ingest_files import main


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("drifted")
    return out, write_drifted_samples(out)


def ingest(folder: Path, source: str, lake: Path) -> tuple[int, dict[str, Any]]:
    code = main(
        ["ingest_files.py", "--source", source, "--dataset", "orders", "--input_path", str(folder),
         "--lake_path", str(lake)]
    )  # fmt: skip
    (summary_path,) = (lake / "_runs").glob("*.json")
    return code, json.loads(summary_path.read_text())


CASES = [
    "quickbite_v2",
    "quickbite_scattered",
    "mealdash_added_column",
    "mealdash_reordered",
    "mealdash_semicolon",
    "mealdash_type_change",
]


@pytest.mark.parametrize("case", CASES)
def test_each_drifted_feed_gets_its_verdict(
    spark: SparkSession, drifted: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path, case: str
) -> None:
    folder, cases = drifted
    want = cases[case]
    code, summary = ingest(folder / case, want["source"], tmp_path)
    (file_report,) = summary["files"]
    assert file_report["verdict"] == want["verdict"]
    assert (
        summary["records_read"]
        == want["records"]
        == summary["records_valid"] + summary["records_dead_lettered"]
    )
    if want["verdict"] == "intermittent_corruption":
        assert code == 0
        assert summary["records_valid"] > 0 and summary["schema_drift_detected"] is False
        return
    # Structural change: nothing loaded, the whole file quarantined byte for byte, a drift report.
    assert code == 4
    assert summary["status"] == "structural_change"
    assert summary["records_valid"] == 0
    assert summary["dead_letters_by_type"] == {"structural_change": want["records"]}
    assert summary["corrupt_ratio_pct"] == 0.0  # quarantined records are drift, not corruption
    original = next((folder / case).iterdir())
    assert Path(file_report["quarantined_to"]).read_bytes() == original.read_bytes()
    report_paths = summary["drift_reports"][file_report["path"]]
    report = json.loads(Path(report_paths["json"]).read_text())
    assert report["proposed_version"] == 2
    proposed = load_contract(Path(report_paths["proposed_contract"]).rename(tmp_path / "orders.v2.yaml"))
    assert proposed.version == 2
    assert "## Proposed contract v2" in Path(report_paths["markdown"]).read_text()
    names = list(proposed.field_names)
    if case == "quickbite_v2":
        assert {"customer_ref", "loyalty_tier"} <= set(names)
        assert proposed.field("customer_id").required is False
        assert report["breaking"] is False and report["compatibility"] == "BACKWARD"
    elif case == "mealdash_added_column":
        assert names[-1] == "tip" and proposed.field("tip").type == "double"
        assert report["breaking"] is True  # CSV columns are positional
    elif case == "mealdash_reordered":
        assert names[:2] == ["menu_id", "order_id"] and report["breaking"] is True
    elif case == "mealdash_semicolon":
        assert proposed.csv.delimiter == ";" and report["breaking"] is True
        assert file_report["evidence"]["delimiter_found"] == ";"
    elif case == "mealdash_type_change":
        # integer -> double widens: old files still read under v2, so the change is BACKWARD, not breaking.
        assert proposed.field("quantity").type == "double" and report["compatibility"] == "BACKWARD"
    yaml.safe_load(Path(tmp_path / "orders.v2.yaml").read_text())
