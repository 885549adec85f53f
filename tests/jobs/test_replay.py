"""Replay: ingest drifted data under v1 (quarantined), add v2 (the proposed contract), replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.cli import main as cli
from feedguard_dev.samples import write_drifted_samples
from jobs.ingest_files import main as ingest


def test_replay_loads_quarantined_records_once_and_resolves_them(spark: SparkSession, tmp_path: Path) -> None:
    cases = write_drifted_samples(tmp_path / "feeds", records=30)
    contracts, lake = tmp_path / "contracts", tmp_path / "lake"
    shutil.copytree("contracts", contracts)
    for case in ("quickbite_v2", "quickbite_scattered"):
        code = ingest(
            ["ingest_files.py", "--source", "quickbite", "--dataset", "orders", "--lake_path", str(lake),
             "--input_path", str(tmp_path / "feeds" / case), "--contracts_dir", str(contracts)]
        )  # fmt: skip
        assert code in (0, 4)
    drift = json.loads(next((lake / "_runs").glob("*.json")).read_text())
    runs = [json.loads(p.read_text()) for p in (lake / "_runs").glob("*.json")]
    v2_run = next(r for r in runs if r["status"] == "structural_change")
    proposed = next(iter(v2_run["drift_reports"].values()))["proposed_contract"]
    shutil.copy(proposed, contracts / "quickbite" / "orders.v2.yaml")
    assert cli(["contracts", "check", "--dir", str(contracts)]) == 0
    scattered_dead = next(r for r in runs if r["status"] != "structural_change")["records_dead_lettered"]
    assert drift["source"] == "quickbite"

    args = ["replay", "--source", "quickbite", "--dataset", "orders", "--lake", str(lake), "--contracts-dir",
            str(contracts)]  # fmt: skip
    assert cli([*args, "--replay-run-id", "replay-1"]) == 0
    assert cli([*args, "--replay-run-id", "replay-2"]) == 0  # idempotent: nothing left to load

    dead = spark.read.format("delta").load(str(lake / "_dead_letter"))
    resolved = dead.where(F.col("status") == "resolved")
    assert resolved.count() == cases["quickbite_v2"]["records"] == 30
    assert {r[0] for r in resolved.select("replay_run_id").distinct().collect()} == {"replay-1"}
    assert {r[0] for r in resolved.select("resolved_by_contract_version").distinct().collect()} == {2}
    still_open = dead.where(F.col("status") == "open")
    assert still_open.count() == scattered_dead
    assert still_open.where(F.col("error_detail").startswith("replayed under v2: ")).count() == scattered_dead

    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    replayed = valid.where(F.col("_run_id") == "replay-1")
    assert replayed.count() == 30
    assert replayed.where(F.col("customer_ref").isNull() | (F.col("_contract_version") != 2)).count() == 0
    # Conservation across runs: every record read is valid (first load or replay) or still open.
    total_read = sum(r["records_read"] for r in runs)
    assert valid.where(~F.col("_run_id").startswith("replay")).count() + 30 + still_open.count() == total_read
    keys = valid.select("_source_file", "_source_line")
    assert keys.count() == keys.distinct().count()
    summaries = [json.loads(p.read_text()) for p in (lake / "_runs").glob("replay-*.json")]
    assert sorted((s["run_id"], s["records_read"], s["records_valid"]) for s in summaries) == [
        ("replay-1", 30 + scattered_dead, 30),
        ("replay-2", scattered_dead, 0),
    ]


def test_backward_compatible_drift_is_auto_accepted_when_the_contract_allows(
    spark: SparkSession, tmp_path: Path
) -> None:
    cases = write_drifted_samples(tmp_path / "feeds", records=12)
    contracts, lake = tmp_path / "contracts", tmp_path / "lake"
    shutil.copytree("contracts", contracts)
    v1 = contracts / "quickbite" / "orders.v1.yaml"
    v1.write_text(v1.read_text() + "auto_accept_compatible: true\n")
    argv = ["ingest_files.py", "--source", "quickbite", "--dataset", "orders", "--lake_path", str(lake),
            "--contracts_dir", str(contracts), "--run_id", "r1"]  # fmt: skip
    assert ingest([*argv, "--input_path", str(tmp_path / "feeds" / "quickbite_v2")]) == 0
    dead = spark.read.format("delta").load(str(lake / "_dead_letter"))
    assert [
        (r["status"], r["replay_run_id"]) for r in dead.select("status", "replay_run_id").distinct().collect()
    ] == [("resolved", "r1-accept1")]
    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    assert valid.count() == cases["quickbite_v2"]["records"] == 12
    assert {r[0] for r in valid.select("_contract_version").distinct().collect()} == {2}
    accept = json.loads((lake / "_runs" / "r1-accept1.json").read_text())
    assert (accept["kind"], accept["compatibility"], accept["records_valid"]) == (
        "auto_accept",
        "BACKWARD",
        12,
    )
    # A breaking drift (a reordered CSV header) is never accepted automatically.
    md = contracts / "mealdash" / "orders.v1.yaml"
    md.write_text(md.read_text() + "auto_accept_compatible: true\n")
    argv_md = [a if a != "quickbite" else "mealdash" for a in argv]
    argv_md[argv_md.index("r1")] = "r2"
    assert ingest([*argv_md, "--input_path", str(tmp_path / "feeds" / "mealdash_reordered")]) == 4
    assert not (lake / "_runs" / "r2-accept1.json").exists()
