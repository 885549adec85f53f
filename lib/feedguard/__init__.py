"""feedguard: contract-driven, loss-free ingest of partner feeds into Delta Lake.

The public API; everything else is an implementation detail of the jobs.

Example::

    from feedguard import build_session, load_contract, parse_json_records, read_lines

    spark = build_session("explore", master="local[2]")
    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    lines = read_lines(spark, ["samples/quickbite/orders_20261128_01.jsonl"])
    parsed = lines.transform(parse_json_records, contract)  # typed fields + _errors per record

The names are loaded on first use (PEP 562): importing a submodule, as Spark's Python workers do for a task's
function (``feedguard.ingest.sources.read_task``), does not import the whole package, Great Expectations
included (seconds per worker process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedguard.lazy_names import lazy_names

if TYPE_CHECKING:
    from feedguard.contracts.contract import (
        Contract,
        FieldSpec,
        contract_to_yaml,
        load_contract,
        parse_contract,
    )
    from feedguard.contracts.evolution import check_contracts, diff_contracts
    from feedguard.contracts.registry import load_versions, select_version
    from feedguard.contracts.schema import CORRUPT_COLUMN, spark_schema, string_schema
    from feedguard.errors import (
        ConservationError,
        ContractError,
        FeedguardError,
        InputNotFoundError,
        TransientError,
        UsageError,
    )
    from feedguard.ingest.classify import Verdict, classify_file, header_problem
    from feedguard.ingest.flow import run_file_ingest
    from feedguard.ingest.job import run_file_job
    from feedguard.ingest.replay import ReplayFilter, run_replay
    from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, RunContext, dead_letter_rows, valid_rows
    from feedguard.ingest.sources import read_json_arrays, read_lines
    from feedguard.lake.layout import Lake
    from feedguard.lake.lifecycle import close_run
    from feedguard.parse.csv_records import parse_csv_records
    from feedguard.parse.json_records import parse_json_records
    from feedguard.runtime.session import build_session

_PUBLIC: dict[str, str] = {
    "CORRUPT_COLUMN": "feedguard.contracts.schema",
    "ConservationError": "feedguard.errors",
    "Contract": "feedguard.contracts.contract",
    "ContractError": "feedguard.errors",
    "DEAD_LETTER_SCHEMA": "feedguard.ingest.routing",
    "FeedguardError": "feedguard.errors",
    "FieldSpec": "feedguard.contracts.contract",
    "InputNotFoundError": "feedguard.errors",
    "Lake": "feedguard.lake.layout",
    "ReplayFilter": "feedguard.ingest.replay",
    "RunContext": "feedguard.ingest.routing",
    "TransientError": "feedguard.errors",
    "UsageError": "feedguard.errors",
    "Verdict": "feedguard.ingest.classify",
    "build_session": "feedguard.runtime.session",
    "check_contracts": "feedguard.contracts.evolution",
    "classify_file": "feedguard.ingest.classify",
    "close_run": "feedguard.lake.lifecycle",
    "contract_to_yaml": "feedguard.contracts.contract",
    "dead_letter_rows": "feedguard.ingest.routing",
    "diff_contracts": "feedguard.contracts.evolution",
    "header_problem": "feedguard.ingest.classify",
    "load_contract": "feedguard.contracts.contract",
    "load_versions": "feedguard.contracts.registry",
    "parse_contract": "feedguard.contracts.contract",
    "parse_csv_records": "feedguard.parse.csv_records",
    "parse_json_records": "feedguard.parse.json_records",
    "read_json_arrays": "feedguard.ingest.sources",
    "read_lines": "feedguard.ingest.sources",
    "run_file_ingest": "feedguard.ingest.flow",
    "run_file_job": "feedguard.ingest.job",
    "run_replay": "feedguard.ingest.replay",
    "select_version": "feedguard.contracts.registry",
    "spark_schema": "feedguard.contracts.schema",
    "string_schema": "feedguard.contracts.schema",
    "valid_rows": "feedguard.ingest.routing",
}


__getattr__, __dir__ = lazy_names(globals(), _PUBLIC)

__all__ = [
    "CORRUPT_COLUMN",
    "DEAD_LETTER_SCHEMA",
    "ConservationError",
    "Contract",
    "ContractError",
    "FeedguardError",
    "FieldSpec",
    "InputNotFoundError",
    "Lake",
    "ReplayFilter",
    "RunContext",
    "TransientError",
    "UsageError",
    "Verdict",
    "build_session",
    "check_contracts",
    "classify_file",
    "close_run",
    "contract_to_yaml",
    "dead_letter_rows",
    "diff_contracts",
    "header_problem",
    "load_contract",
    "load_versions",
    "parse_contract",
    "parse_csv_records",
    "parse_json_records",
    "read_json_arrays",
    "read_lines",
    "run_file_ingest",
    "run_file_job",
    "run_replay",
    "select_version",
    "spark_schema",
    "string_schema",
    "valid_rows",
]
