"""Structural change versus intermittent corruption, end to end through the job."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import SparkSession

from feedguard.contracts.contract import load_contract, parse_contract
from feedguard.errors import ContractError
from feedguard.lake.runlog import inflight_runs
from feedguard_dev.samples import MEALDASH_HEADER, quickbite_order, write_drifted_samples
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


# Issue 14 item 4: header names that are not field names (spaces, a comment line read as the header,
# punctuation, non-ASCII, empty and repeated names) crashed the drift report.
MEALDASH_ROWS = (
    "MD0000001,Pad Thai,2,12.50,,card,completed,+49-170-1234567,2026-11-28 10:00:00",
    "MD0000002,Falafel,1,7.90,PROMO10,cash,cancelled,+49-170-7654321,2026-11-28 11:30:00",
)
V1_HEADER = MEALDASH_HEADER
ODD_HEADERS = {
    # case: (file text, the renamed columns the proposal must map, whether the file loads under it)
    "space_in_name": (
        "\n".join([V1_HEADER.replace("customer_phone", "customer phone"), *MEALDASH_ROWS]) + "\n",
        [{"delivered": "customer phone", "field": "customer_phone"}],
        True,
    ),
    "comment_line_as_header": (
        "\n".join(["# exported 2026-11-01", V1_HEADER, *MEALDASH_ROWS]) + "\n",
        [{"delivered": "# exported 2026-11-01", "field": "exported_2026_11_01"}],
        False,
    ),
    "punctuation_non_ascii_empty_repeated": (
        "\n".join(
            [V1_HEADER + ",tip (€),Straße,,dup,dup,Dup", *(r + ",1.50,x,y,1,2,3" for r in MEALDASH_ROWS)]
        )
        + "\n",
        [
            {"delivered": "tip (€)", "field": "tip"},
            {"delivered": "Straße", "field": "strasse"},
            {"delivered": "", "field": "column_12"},
            {"delivered": "dup", "field": "dup_2"},
            {"delivered": "Dup", "field": "Dup_3"},
        ],
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(ODD_HEADERS))
def test_header_names_that_are_not_field_names_get_a_drift_report_and_a_mapping(
    spark: SparkSession, tmp_path: Path, case: str
) -> None:
    text, renamed, loads = ODD_HEADERS[case]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.csv").write_text(text, encoding="utf-8")
    code, summary = ingest(folder, "mealdash", tmp_path / "lake")
    assert code == 4 and summary["status"] == "structural_change"
    assert summary["records_read"] == summary["records_dead_lettered"] == text.count("\n") - 1
    assert summary["dead_letters_by_type"] == {"structural_change": summary["records_read"]}
    assert inflight_runs(str(tmp_path / "lake" / "_inflight" / "mealdash" / "orders")) == []
    (file_report,) = summary["files"]
    paths = summary["drift_reports"][file_report["path"]]
    report = json.loads(Path(paths["json"]).read_text())
    assert report["renamed_columns"] == renamed and report["breaking"] is True
    contracts = tmp_path / "contracts" / "mealdash"
    contracts.mkdir(parents=True)
    (contracts / "orders.v1.yaml").write_bytes(Path("contracts/mealdash/orders.v1.yaml").read_bytes())
    proposed = load_contract(Path(paths["proposed_contract"]).rename(contracts / "orders.v2.yaml"))
    for pair in renamed:
        assert proposed.field(pair["field"]).source_name == pair["delivered"]
    if case == "space_in_name":
        # The renamed header maps to the contract's own field: its rules (PII) stay.
        phone = proposed.field("customer_phone")
        assert phone.pii is True and phone.type == "string"
        assert "`customer_phone` | header_renamed" in Path(paths["markdown"]).read_text()
    if not loads:
        return
    # The header check honours source_name: the same file loads under the proposed version.
    code = main(
        ["ingest_files.py", "--source", "mealdash", "--dataset", "orders", "--input_path", str(folder),
         "--lake_path", str(tmp_path / "lake2"), "--contracts_dir", str(tmp_path / "contracts"),
         "--contract_version", "2", "--skip_dq"]
    )  # fmt: skip
    assert code == 0
    rows = spark.read.format("delta").load(str(tmp_path / "lake2" / "mealdash" / "orders"))
    assert sorted(rows.select("order_id", "customer_phone").collect()) == [
        ("MD0000001", "+49-170-1234567"),
        ("MD0000002", "+49-170-7654321"),
    ]


def test_json_keys_that_are_not_field_names_get_a_drift_report(spark: SparkSession, tmp_path: Path) -> None:
    rng = random.Random(3)
    lines = []
    for n in range(6):
        order = quickbite_order(rng, 900_000 + n, dt.date(2026, 11, 28))
        order["customer phone"] = "+1 415 555 0100"
        order["TOTAL"] = order["total"]  # differs from a contract key only in case: Spark refuses to infer it
        lines.append(json.dumps(order))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, summary = ingest(folder, "quickbite", tmp_path / "lake")
    assert code == 4 and summary["records_dead_lettered"] == 6
    (file_report,) = summary["files"]
    paths = summary["drift_reports"][file_report["path"]]
    proposed = load_contract(Path(paths["proposed_contract"]).rename(tmp_path / "orders.v2.yaml"))
    for key, name in (("customer phone", "customer_phone"), ("TOTAL", "TOTAL_2")):
        spec = proposed.field(name)
        assert spec.source_name is None  # a JSON contract cannot map keys: the description says so
        assert f"delivered as key {key!r}" in (spec.description or "")


def test_only_csv_contracts_map_header_names() -> None:
    data = yaml.safe_load(Path("contracts/quickbite/orders.v1.yaml").read_text())
    data["fields"][0]["source_name"] = "order id"
    with pytest.raises(ContractError, match="source_name maps CSV header names only"):
        parse_contract(data, Path("orders.v1.yaml"))


def test_a_repeated_key_in_a_structurally_changed_json_file_is_evidence_not_a_crash(
    spark: SparkSession, tmp_path: Path
) -> None:
    # Spark's schema inference keeps both copies of a repeated key and then refuses its own schema
    # (COLUMN_ALREADY_EXISTS): the drift report crashed the run.
    rng = random.Random(5)
    lines = []
    for n in range(10):
        order = quickbite_order(rng, 910_000 + n, dt.date(2026, 11, 28))
        order["loyalty_tier"] = "gold"  # every record carries a new field: a structural change
        lines.append(json.dumps(order))
    lines[3] = lines[3][:-1] + ', "status": "delivered"}'  # and one record repeats a key
    folder = tmp_path / "in"
    folder.mkdir()
    original = folder / "orders.jsonl"
    original.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, summary = ingest(folder, "quickbite", tmp_path / "lake")
    assert code == 4 and summary["status"] == "structural_change"
    assert summary["records_read"] == summary["records_dead_lettered"] == 10
    assert summary["dead_letters_by_type"] == {"structural_change": 10}
    (file_report,) = summary["files"]
    assert file_report["verdict"] == "structural_change"
    assert Path(file_report["quarantined_to"]).read_bytes() == original.read_bytes()
    paths = summary["drift_reports"][file_report["path"]]
    report = json.loads(Path(paths["json"]).read_text())
    assert report["evidence"]["repeated_keys"] == ["status"]
    assert "`status`" in Path(paths["markdown"]).read_text()
    proposed = load_contract(Path(paths["proposed_contract"]).rename(tmp_path / "orders.v2.yaml"))
    assert proposed.field("loyalty_tier").type == "string"
    assert proposed.field_names.count("status") == 1
