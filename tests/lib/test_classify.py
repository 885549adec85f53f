"""A file's verdict from its counts: the threshold holds for small files and files with no good record."""

from __future__ import annotations

import pytest

from feedguard.contracts.contract import Contract, load_contract
from feedguard.ingest.classify import Verdict, classify_file, header_problem
from feedguard.parse.measure import FileStats


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract("contracts/quickbite/orders.v1.yaml")  # max ratio 0.2, 5 records for drift


def stats(records: int, errors: dict[str, int]) -> FileStats:
    by_type: dict[str, int] = {}
    for key, n in errors.items():
        kind = key.split(":", 1)[0]
        by_type[kind] = by_type.get(kind, 0) + n
    return FileStats(records=records, errors_by_type=by_type, error_fields=dict(errors))


@pytest.mark.parametrize(
    ("records", "errors", "verdict"),
    [
        (27, {"malformed_json:": 27}, Verdict.FILE_CORRUPT),  # issue 14 item 6: was intermittent, exit 0
        (1, {"malformed_json:": 1}, Verdict.FILE_CORRUPT),
        (3, {"malformed_json:": 1}, Verdict.FILE_CORRUPT),  # 33% of a small file
        (3, {"unexpected_field:loyalty_tier": 3}, Verdict.FILE_CORRUPT),  # too few for drift
        (5, {"unexpected_field:loyalty_tier": 5}, Verdict.STRUCTURAL_CHANGE),
        (40, {"unexpected_field:loyalty_tier": 40}, Verdict.STRUCTURAL_CHANGE),
        (40, {"malformed_json:": 9}, Verdict.FILE_CORRUPT),  # 22.5%, no structural signature
        (10, {"malformed_json:": 2}, Verdict.INTERMITTENT),  # 20% is not above 20%
        (10, {}, Verdict.CLEAN),
        (0, {}, Verdict.CLEAN),
    ],
)
def test_verdict_by_ratio_signature_and_size(
    contract: Contract, records: int, errors: dict[str, int], verdict: Verdict
) -> None:
    assert classify_file(contract, stats(records, errors)).verdict == verdict


def test_a_file_with_no_good_record_is_judged_whole_even_when_the_contract_allows_any_ratio(
    contract: Contract,
) -> None:
    lenient = contract.model_copy(
        update={"thresholds": contract.thresholds.model_copy(update={"intermittent_max_ratio": 1.0})}
    )

    assert classify_file(lenient, stats(4, {"malformed_json:": 4})).verdict == Verdict.FILE_CORRUPT
    assert classify_file(lenient, stats(4, {"malformed_json:": 3})).verdict == Verdict.INTERMITTENT


def test_the_header_check_expects_a_fields_source_name() -> None:
    mealdash = load_contract("contracts/mealdash/orders.v1.yaml")
    fields = tuple(
        f.model_copy(update={"source_name": "customer phone"}) if f.name == "customer_phone" else f
        for f in mealdash.fields
    )
    mapped = mealdash.model_copy(update={"fields": fields})
    header = ",".join(f.delivered_name for f in fields)

    assert header_problem(mapped, header) is None
    assert header_problem(mealdash, header) is not None
