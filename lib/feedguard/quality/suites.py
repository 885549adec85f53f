"""Great Expectations suites generated from data contracts, plus hand-written expectations.

A suite is plain GX 1.x ``ExpectationSuite`` JSON committed under
``expectations/<source>/<dataset>.v<N>.json``. Expectations generated from the contract carry
``meta.generated: true``; any other expectation is hand-written (a cross-field rule, say) and
survives :func:`refresh_suite`. Every expectation states its severity twice, in GX's own
``severity`` field and in ``meta.severity`` (``critical`` stops the batch, ``warning`` reports).

Example::

    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    path = suite_path("expectations", contract)
    suite = refresh_suite(load_suite(path), contract) if path.exists() else generate_suite(contract)
    save_suite(path, suite)
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from feedguard.contracts.contract import Contract, FieldSpec, load_contract

LINEAGE_COLUMNS = (
    "_source_file",
    "_source_line",
    "_run_id",
    "_ingested_at",
    "_contract_version",
    "ingest_date",
)
SEVERITIES = ("critical", "warning")
DEFAULT_SEVERITY = "critical"
FEEDGUARD_META = "feedguard"


def suite_name(contract: Contract) -> str:
    """``quickbite.orders.v1``: GX files a suite's results under ``quickbite/orders/v1``."""
    return f"{contract.source}.{contract.dataset}.v{contract.version}"


def suite_path(expectations_dir: str | Path, contract: Contract) -> Path:
    """``<expectations_dir>/<source>/<dataset>.v<N>.json``."""
    return Path(expectations_dir) / contract.source / f"{contract.dataset}.v{contract.version}.json"


def _expectation(kind: str, kwargs: dict[str, Any], severity: str, **meta: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"generated": True, "severity": severity, **meta},
        "severity": severity,
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _field_expectations(spec: FieldSpec) -> list[dict[str, Any]]:
    """Column-level expectations for one top-level field, in a fixed order."""
    col, sev = spec.name, spec.severity
    out: list[dict[str, Any]] = []
    if spec.required:
        out.append(_expectation("expect_column_values_to_not_be_null", {"column": col}, sev))
    if spec.min is not None or spec.max is not None:
        bounds: dict[str, Any] = {"column": col}
        if spec.min is not None:
            bounds["min_value"] = _number(spec.min)
        if spec.max is not None:
            bounds["max_value"] = _number(spec.max)
        out.append(_expectation("expect_column_values_to_be_between", bounds, sev))
    if spec.allowed_values is not None:
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                {"column": col, "value_set": list(spec.allowed_values)},
                sev,
            )
        )
    if spec.regex is not None:
        out.append(
            _expectation("expect_column_values_to_match_regex", {"column": col, "regex": spec.regex}, sev)
        )
    if spec.unique:
        out.append(_expectation("expect_column_values_to_be_unique", {"column": col}, sev))
    return out


def _violations(expr: str, spec: FieldSpec) -> list[str]:
    """SQL predicates that are true when the value ``expr`` breaks one of ``spec``'s rules."""
    parts: list[str] = []
    if spec.required:
        parts.append(f"{expr} IS NULL")
    if spec.min is not None:
        parts.append(f"{expr} < {_number(spec.min)}")
    if spec.max is not None:
        parts.append(f"{expr} > {_number(spec.max)}")
    if spec.allowed_values is not None:
        parts.append(f"{expr} NOT IN ({', '.join(_sql_literal(v) for v in spec.allowed_values)})")
    if spec.regex is not None:
        parts.append(f"NOT {expr} RLIKE {_sql_literal(spec.regex)}")
    return parts


def _nested_predicates(expr: str, label: str, spec: FieldSpec, depth: int = 0) -> list[tuple[str, str]]:
    """(label, predicate) for each nested leaf with rules, inside structs and arrays (``exists``)."""
    found: list[tuple[str, str]] = []
    if spec.type == "struct":
        for child in spec.fields or ():
            child_expr, child_label = f"{expr}.`{child.name}`", f"{label}.{child.name}"
            if rules := _violations(child_expr, child):
                found.append((child_label, " OR ".join(rules)))
            found.extend(_nested_predicates(child_expr, child_label, child, depth + 1))
    elif spec.type == "array" and spec.items is not None:
        var = f"x{depth}"
        item = spec.items
        inner: list[tuple[str, str]] = []
        if item.type in ("struct", "array"):
            inner = _nested_predicates(var, label, item, depth + 1)
        elif rules := _violations(var, item):
            inner = [(f"{label}[]", " OR ".join(rules))]
        found.extend((lab, f"exists({expr}, {var} -> {pred})") for lab, pred in inner)
    return found


def _nested_expectations(spec: FieldSpec, key: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    shown = ", ".join(f"`{c}`" for c in (*key, spec.name) if c)
    for label, predicate in _nested_predicates(f"`{spec.name}`", spec.name, spec, depth=1):
        query = f"SELECT {shown} FROM {{batch}} WHERE {predicate}"
        out.append(
            _expectation(
                "unexpected_rows_expectation", {"unexpected_rows_query": query}, spec.severity, column=label
            )
        )
    return out


def generate_suite(contract: Contract) -> dict[str, Any]:
    """The GX suite a contract implies: column set, not-null, ranges, allowed values, regex, uniqueness.

    Nested fields (inside structs and arrays) become ``unexpected_rows_expectation`` queries.

    >>> suite = generate_suite(load_contract("contracts/quickbite/orders.v1.yaml"))
    >>> suite["expectations"][0]["type"]
    'expect_table_columns_to_match_set'
    """
    key = tuple(c for c in contract.primary_key if c not in contract.pii_fields)
    expectations = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": [*contract.field_names, *LINEAGE_COLUMNS], "exact_match": True},
            DEFAULT_SEVERITY,
        )
    ]
    for spec in contract.fields:
        expectations.extend(_field_expectations(spec))
        if spec.type in ("struct", "array"):
            expectations.extend(_nested_expectations(spec, tuple(k for k in key if k != spec.name)))
    return {
        "name": suite_name(contract),
        "meta": {FEEDGUARD_META: _suite_meta(contract)},
        "expectations": expectations,
    }


def _suite_meta(contract: Contract) -> dict[str, Any]:
    return {
        "source": contract.source,
        "dataset": contract.dataset,
        "contract_version": contract.version,
        "primary_key": list(contract.primary_key),
        "pii_columns": list(contract.pii_fields),
        "generated_from": f"contracts/{contract.source}/{contract.dataset}.v{contract.version}.yaml",
    }


def is_generated(expectation: dict[str, Any]) -> bool:
    return bool((expectation.get("meta") or {}).get("generated"))


def severity_of(expectation: dict[str, Any]) -> str:
    """``meta.severity``, else GX's ``severity``, else critical; ``info`` counts as a warning."""
    value = (expectation.get("meta") or {}).get("severity") or expectation.get("severity") or DEFAULT_SEVERITY
    value = str(getattr(value, "value", value)).lower()
    return value if value in SEVERITIES else "warning"


def _normalised_hand_written(expectation: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(expectation)
    out.pop("id", None)
    severity = severity_of(out)
    out["meta"] = {**(out.get("meta") or {}), "severity": severity}
    out["severity"] = severity
    return out


def refresh_suite(existing: dict[str, Any], contract: Contract) -> dict[str, Any]:
    """Regenerate the contract's expectations; keep the hand-written ones (after them, in order).

    The suite's own ``meta`` and ``notes`` are kept; GX ids are dropped so the file stays stable.
    """
    fresh = generate_suite(contract)
    kept = [_normalised_hand_written(e) for e in existing.get("expectations", []) if not is_generated(e)]
    meta = {k: v for k, v in (existing.get("meta") or {}).items() if k != "great_expectations_version"}
    meta[FEEDGUARD_META] = fresh["meta"][FEEDGUARD_META]
    suite: dict[str, Any] = {
        "name": fresh["name"],
        "meta": meta,
        "expectations": fresh["expectations"] + kept,
    }
    if existing.get("notes"):
        suite["notes"] = existing["notes"]
    return suite


def load_suite(path: str | Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "expectations" not in data:
        raise ValueError(f"{path} is not an expectation suite (no 'expectations')")
    return data


def suite_json(suite: dict[str, Any]) -> str:
    """The committed form: 2-space indent, keys in insertion order, trailing newline."""
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def save_suite(path: str | Path, suite: dict[str, Any]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(suite_json(suite), encoding="utf-8")
    return target


def write_suites(contracts_dir: str | Path, expectations_dir: str | Path) -> list[Path]:
    """``feedguard expectations generate``: write or refresh the suite of every contract file."""
    written = []
    for contract_file in sorted(Path(contracts_dir).glob("*/*.v*.y*ml")):
        contract = load_contract(contract_file)
        path = suite_path(expectations_dir, contract)
        suite = refresh_suite(load_suite(path), contract) if path.exists() else generate_suite(contract)
        written.append(save_suite(path, suite))
    return written
