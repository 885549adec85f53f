"""feedguard: contract-driven, loss-free ingest of partner feeds into Delta Lake.

The public API; everything else is an implementation detail of the jobs.

Example::

    from feedguard import build_session, load_contract, parse_json_records, read_lines

    spark = build_session("explore", master="local[2]")
    contract = load_contract("contracts/quickbite/orders.v1.yaml")
    lines = read_lines(spark, ["samples/quickbite/orders_20261128_01.jsonl"])
    parsed = lines.transform(parse_json_records, contract)  # typed fields + _errors per record
"""

from feedguard.contracts.contract import Contract, FieldSpec, contract_to_yaml, load_contract, parse_contract
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
