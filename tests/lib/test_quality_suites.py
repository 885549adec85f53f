"""GX suites from contracts: generation, hand-written expectations across refreshes, committed suites."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from great_expectations.core.expectation_suite import ExpectationSuite

from feedguard.contracts.contract import Contract, load_contract, parse_contract
from feedguard.quality import generate_suite, load_suite, refresh_suite, suite_path, write_suites
from feedguard.quality.suites import LINEAGE_COLUMNS, severity_of, suite_json

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = sorted((ROOT / "contracts").glob("*/*.v*.yaml"))

SMALL_CONTRACT: dict[str, Any] = {
    "source": "acme",
    "dataset": "orders",
    "version": 2,
    "effective_from": "2026-01-01",
    "owner": {"name": "Acme", "email": "data@acme.example"},
    "format": "json",
    "fields": [
        {"name": "id", "type": "string", "required": True, "unique": True, "regex": "^A[0-9]+$"},
        {"name": "qty", "type": "integer", "required": True, "min": 1, "max": 9, "severity": "warning"},
        {"name": "kind", "type": "string", "allowed_values": ["a", "b"]},
        {"name": "email", "type": "string", "pii": True},
        {
            "name": "lines",
            "type": "array",
            "items": {
                "name": "line",
                "type": "struct",
                "fields": [
                    {"name": "sku", "type": "string", "required": True},
                    {"name": "n", "type": "long", "min": 0},
                ],
            },
        },
    ],
}


def small_contract(**changes: Any) -> Contract:
    data = copy.deepcopy(SMALL_CONTRACT)
    data.update(changes)
    return parse_contract(data, Path("acme/orders.v2.yaml"))


def gen(kind: str, kwargs: dict[str, Any], severity: str = "critical", **meta: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"generated": True, "severity": severity, **meta},
        "severity": severity,
    }


SELECT = "SELECT `id`, `lines` FROM {batch} "


def test_generate_suite_from_a_contract() -> None:
    suite = generate_suite(small_contract())

    assert suite["name"] == "acme.orders.v2"
    assert suite["meta"] == {
        "feedguard": {
            "source": "acme",
            "dataset": "orders",
            "contract_version": 2,
            "primary_key": ["id"],
            "pii_columns": ["email"],
            "generated_from": "contracts/acme/orders.v2.yaml",
        }
    }
    columns = ["id", "qty", "kind", "email", "lines", *LINEAGE_COLUMNS]
    assert suite["expectations"] == [
        gen("expect_table_columns_to_match_set", {"column_set": columns, "exact_match": True}),
        gen("expect_column_values_to_not_be_null", {"column": "id"}),
        gen("expect_column_values_to_match_regex", {"column": "id", "regex": "^A[0-9]+$"}),
        gen("expect_column_values_to_be_unique", {"column": "id"}),
        gen("expect_column_values_to_not_be_null", {"column": "qty"}, "warning"),
        gen(
            "expect_column_values_to_be_between", {"column": "qty", "min_value": 1, "max_value": 9}, "warning"
        ),
        gen("expect_column_values_to_be_in_set", {"column": "kind", "value_set": ["a", "b"]}),
        gen(
            "unexpected_rows_expectation",
            {"unexpected_rows_query": SELECT + "WHERE exists(`lines`, x1 -> x1.`sku` IS NULL)"},
            column="lines.sku",
        ),
        gen(
            "unexpected_rows_expectation",
            {"unexpected_rows_query": SELECT + "WHERE exists(`lines`, x1 -> x1.`n` < 0)"},
            column="lines.n",
        ),
    ]


def test_generated_suite_is_a_valid_gx_suite() -> None:
    suite = generate_suite(small_contract())
    # GX drops (and only logs) an expectation it cannot build: every one must survive.
    assert len(ExpectationSuite(**suite).expectations) == len(suite["expectations"])


HAND_WRITTEN: dict[str, Any] = {
    "type": "unexpected_rows_expectation",
    "kwargs": {"unexpected_rows_query": "SELECT id FROM {batch} WHERE qty > 5 AND kind = 'b'"},
    "meta": {"severity": "warning", "column": "qty", "owner": "analyst"},
    "description": "b orders are small",
    "id": "0b5c7a5e-0000-0000-0000-000000000000",
}


def test_hand_written_expectations_survive_a_refresh_and_generated_ones_follow_the_contract() -> None:
    existing = generate_suite(small_contract())
    existing["meta"]["reviewed_by"] = "data team"
    existing["meta"]["great_expectations_version"] = "1.9.3"
    existing["expectations"].insert(2, copy.deepcopy(HAND_WRITTEN))
    changed = copy.deepcopy(SMALL_CONTRACT)
    changed["fields"][2] = {"name": "kind", "type": "string", "allowed_values": ["a", "b", "c"]}

    refreshed = refresh_suite(existing, small_contract(fields=changed["fields"]))

    kept = {k: v for k, v in HAND_WRITTEN.items() if k != "id"}
    kept["meta"] = {**HAND_WRITTEN["meta"], "severity": "warning"}
    kept["severity"] = "warning"
    fresh = generate_suite(small_contract(fields=changed["fields"]))
    assert refreshed["expectations"] == [*fresh["expectations"], kept]
    assert refreshed["meta"] == {"reviewed_by": "data team", "feedguard": fresh["meta"]["feedguard"]}
    assert refresh_suite(refreshed, small_contract(fields=changed["fields"])) == refreshed  # idempotent


def test_severity_comes_from_meta_then_gx_field_then_defaults_to_critical() -> None:
    assert severity_of({"meta": {"severity": "warning"}, "severity": "critical"}) == "warning"
    assert severity_of({"meta": {}, "severity": "warning"}) == "warning"
    assert severity_of({"meta": {}}) == "critical"
    assert severity_of({"severity": "info"}) == "warning"


@pytest.mark.parametrize("contract_file", CONTRACTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_committed_suites_are_up_to_date_with_their_contracts(contract_file: Path) -> None:
    contract = load_contract(contract_file)
    path = suite_path(ROOT / "expectations", contract)
    assert path.exists(), f"{path} is missing: run `feedguard expectations generate`"
    committed = load_suite(path)

    assert refresh_suite(committed, contract) == committed, (
        f"{path} is stale: run `feedguard expectations generate`"
    )
    assert path.read_text(encoding="utf-8") == suite_json(committed)
    assert len(ExpectationSuite(**committed).expectations) == len(committed["expectations"])


@pytest.mark.parametrize("name", ["quickbite/orders.v1", "mealdash/orders.v1"])
def test_order_suites_have_uniqueness_a_cross_field_rule_and_at_least_ten_expectations(name: str) -> None:
    suite = load_suite(ROOT / "expectations" / f"{name}.json")
    types = [e["type"] for e in suite["expectations"]]
    hand_written = [e for e in suite["expectations"] if not e["meta"].get("generated")]

    assert len(types) >= 10
    assert "expect_column_values_to_be_unique" in types
    assert any(
        e["type"] == "unexpected_rows_expectation" and e["severity"] == "critical" for e in hand_written
    )
    assert {severity_of(e) for e in suite["expectations"]} <= {"critical", "warning"}


def test_write_suites_reproduces_the_committed_files(tmp_path: Path) -> None:
    for contract_file in CONTRACTS:  # start from the committed suites: hand-written rules are kept
        contract = load_contract(contract_file)
        target = suite_path(tmp_path, contract)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            suite_path(ROOT / "expectations", contract).read_text(encoding="utf-8"), encoding="utf-8"
        )

    written = write_suites(ROOT / "contracts", tmp_path)

    assert len(written) == len(CONTRACTS)
    for path in written:
        committed = ROOT / "expectations" / path.relative_to(tmp_path)
        assert path.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_write_suites_creates_a_missing_suite(tmp_path: Path) -> None:
    written = write_suites(ROOT / "contracts", tmp_path)

    quickbite = load_suite(tmp_path / "quickbite" / "orders.v1.json")
    assert len(written) == len(CONTRACTS)
    assert quickbite == generate_suite(load_contract(ROOT / "contracts" / "quickbite" / "orders.v1.yaml"))
