"""Contract files: loading, validation errors that name the file and field, version choice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from feedguard.contracts.contract import contract_to_yaml, load_contract, parse_contract
from feedguard.contracts.registry import load_versions, select_version
from feedguard.contracts.schema import spark_schema
from feedguard.errors import ContractError

QB = Path("contracts/quickbite/orders.v1.yaml")


def write_variant(tmp_path: Path, name: str, **changes: object) -> Path:
    data = yaml.safe_load(QB.read_text())
    data.update(changes)
    target = tmp_path / "quickbite" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.mark.parametrize("path", sorted(Path("contracts").glob("*/*.yaml")))
def test_shipped_contracts_load(path: Path) -> None:
    contract = load_contract(path)
    assert path.name == f"{contract.dataset}.v{contract.version}.yaml"
    assert contract.owner.email
    assert contract.primary_key


def test_quickbite_schema_has_nested_items_and_corrupt_column() -> None:
    schema = spark_schema(load_contract(QB))
    assert schema.simpleString().startswith(
        "struct<order_id:string,customer_id:string,customer_email:string,restaurant_id:string,"
        "items:array<struct<sku:string,qty:int,price:decimal(10,2)>>,subtotal:decimal(10,2)"
    )
    assert schema.fieldNames()[-1] == "_corrupt_record"


def test_unknown_type_error_names_file_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load(QB.read_text())
    data["fields"][2]["type"] = "varchar"
    path = tmp_path / "quickbite" / "orders.v1.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert str(path) in str(err.value)
    assert "fields.2" in str(err.value)
    assert "unknown type 'varchar'" in str(err.value)


def test_missing_owner_and_bad_yaml_are_clear(tmp_path: Path) -> None:
    data = yaml.safe_load(QB.read_text())
    del data["owner"]
    with pytest.raises(ContractError, match=r"field 'owner': Field required"):
        parse_contract(data, tmp_path / "orders.v1.yaml")
    bad = tmp_path / "orders.v1.yaml"
    bad.write_text("source: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(bad)


def test_file_name_must_match_declared_version(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "orders.v2.yaml")
    with pytest.raises(ContractError, match="file name says orders v2 but the file declares orders v1"):
        load_contract(path)


def test_version_is_chosen_by_effective_date(tmp_path: Path) -> None:
    write_variant(tmp_path, "orders.v1.yaml", effective_to="2026-06-01")
    write_variant(tmp_path, "orders.v2.yaml", version=2, effective_from="2026-06-01")
    versions = load_versions(tmp_path, "quickbite", "orders")
    assert select_version(versions, dt.date(2026, 3, 1)).version == 1
    assert select_version(versions, dt.date(2026, 7, 1)).version == 2
    assert select_version(versions, dt.date(2026, 7, 1), version=1).version == 1
    with pytest.raises(ContractError, match="no contract version is effective on 2025-01-01"):
        select_version(versions, dt.date(2025, 1, 1))


def test_yaml_round_trip() -> None:
    contract = load_contract(QB)
    again = parse_contract(yaml.safe_load(contract_to_yaml(contract)), QB)
    assert again == contract


def test_no_contract_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no contract for acme/orders"):
        load_versions(tmp_path, "acme", "orders")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "city", "type": "string", "rounding": "half_up"}, "rounding/allow_exponent only apply"),
        ({"name": "tip", "type": "double", "allow_exponent": True}, "rounding/allow_exponent only apply"),
        ({"name": "tip", "type": "decimal(4,6)"}, "needs s <= p <= 38"),
        ({"name": "tip", "type": "decimal(0,0)"}, "needs a precision of at least 1"),
    ],
)
def test_exactness_options_apply_to_decimals_only(options: dict[str, object], message: str) -> None:
    data = yaml.safe_load(QB.read_text())
    data["fields"] = [f for f in data["fields"] if f["name"] != options["name"]] + [options]
    with pytest.raises(ContractError, match=message):
        parse_contract(data, QB)


def test_exactness_options_load() -> None:
    data = yaml.safe_load(QB.read_text())
    for spec in data["fields"]:
        if spec["name"] == "total":
            spec.update(rounding="half_up", allow_exponent=True)
    data["fields"].append({"name": "note", "type": "string"})
    contract = parse_contract(data, QB)
    total = next(f for f in contract.fields if f.name == "total")
    assert (total.rounding, total.allow_exponent) == ("half_up", True)
