"""Contract versions chosen per file: by a version field in the data when the contract declares one."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.ingest_files import main

ORDER = {
    "order_id": "QB-00000001", "customer_id": "C000001", "restaurant_id": "R1",
    "items": [{"sku": "S", "qty": 1, "price": 1.0}], "subtotal": 1.0, "total": 1.0,
    "status": "placed", "city": "Berlin", "ordered_at": "2026-11-01T10:00:00Z",
}  # fmt: skip


def write_contracts(folder: Path) -> None:
    v1 = yaml.safe_load(Path("contracts/quickbite/orders.v1.yaml").read_text())
    v1["version_field"] = "schema_version"
    v1["fields"].append({"name": "schema_version", "type": "integer"})
    v2 = {**v1, "version": 2, "effective_from": "2027-01-01"}
    v2["fields"] = [*v1["fields"], {"name": "loyalty_tier", "type": "string"}]
    (folder / "quickbite").mkdir(parents=True)
    (folder / "quickbite" / "orders.v1.yaml").write_text(yaml.safe_dump(v1, sort_keys=False))
    (folder / "quickbite" / "orders.v2.yaml").write_text(yaml.safe_dump(v2, sort_keys=False))


def test_version_field_chooses_the_contract_per_file(spark: SparkSession, tmp_path: Path) -> None:
    write_contracts(tmp_path / "contracts")
    feed = tmp_path / "in"
    feed.mkdir()
    v1_lines = [json.dumps({**ORDER, "order_id": f"QB-0000000{i}", "schema_version": 1}) for i in range(1, 4)]
    v2_lines = [
        json.dumps({**ORDER, "order_id": f"QB-0000010{i}", "schema_version": 2, "loyalty_tier": "gold"})
        for i in range(1, 3)
    ]
    (feed / "a_v1.jsonl").write_text("\n".join(v1_lines) + "\n")
    (feed / "b_v2.jsonl").write_text("\n".join(v2_lines) + "\n")
    lake = tmp_path / "lake"
    code = main(
        ["ingest_files.py", "--source", "quickbite", "--dataset", "orders", "--input_path", str(feed),
         "--lake_path", str(lake), "--contracts_dir", str(tmp_path / "contracts"), "--run_id", "r",
         "--skip_dq"]
    )  # fmt: skip
    assert code == 0
    runs = sorted(json.loads(p.read_text())["run_id"] for p in (lake / "_runs").glob("*.json"))
    assert runs == ["r-v1", "r-v2"]
    valid = spark.read.format("delta").load(str(lake / "quickbite" / "orders"))
    rows = sorted(
        (r["order_id"], r["_contract_version"], r["loyalty_tier"])
        for r in valid.select("order_id", "_contract_version", "loyalty_tier").collect()
    )
    assert rows == [
        ("QB-00000001", 1, None),
        ("QB-00000002", 1, None),
        ("QB-00000003", 1, None),
        ("QB-00000101", 2, "gold"),
        ("QB-00000102", 2, "gold"),
    ]
    run_log = spark.read.format("delta").load(str(lake / "_runs"))
    assert run_log.where(F.col("status") == "succeeded").count() == 2
