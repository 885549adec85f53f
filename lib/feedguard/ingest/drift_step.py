"""The drift report of a structurally changed file: its inferred schema and the next contract proposed."""

from __future__ import annotations

import datetime as dt

from feedguard.contracts.drift import DriftReport, write_drift_report
from feedguard.contracts.drift_proposal import propose_contract
from feedguard.contracts.drift_schema import infer_delivered_schema
from feedguard.contracts.evolution import diff_contracts
from feedguard.ingest.run_state import FileRun
from feedguard.parse.measure import FileStats, Measured
from feedguard.summary import Evidence

MOSTLY_MISTYPED = 0.5  # a field mistyped in more than half of a file's records changed its type


def _mostly_mistyped(stats: FileStats | None) -> set[str]:
    """Fields with a type mismatch in more than half of the file's records."""
    mistyped = set()
    if stats is not None and stats.records:
        for key, count in stats.error_fields.items():
            kind, _, name = key.partition(":")
            if kind == "type_mismatch" and count / stats.records > MOSTLY_MISTYPED:
                mistyped.add(name)
    return mistyped


def drift_report(
    run: FileRun, uri: str, evidence: Evidence, main: Measured | None, next_version: int
) -> tuple[dict[str, str], str]:
    """Infer the drifted file's schema, propose the next contract version, write the report.

    Returns the report's paths and the proposed version's compatibility with the current one.
    """
    contract = run.contract
    delimiter = str(evidence.get("delimiter_found") or contract.csv.delimiter)
    delivered = infer_delivered_schema(run.spark, contract, uri, delimiter)
    proposed = propose_contract(
        contract,
        delivered.fields,
        mistyped_fields=_mostly_mistyped(main.files.get(uri) if main is not None else None),
        next_version=next_version,
        effective_from=dt.date.today(),
        delimiter=delimiter,
    )
    diff = diff_contracts(contract, proposed)
    full_evidence = {**evidence, "proposed_compatibility": diff.compatibility}
    detail = str(evidence.get("detail", ""))
    drift = DriftReport(uri, detail, full_evidence, proposed, diff, delivered.repeated_keys)
    ctx = run.ctx
    folder = run.lake.drift(ctx.source, ctx.dataset, ctx.run_id)
    return write_drift_report(folder, contract, drift), str(diff.compatibility)
