"""Find the contract versions of a dataset and choose the one that applies."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from feedguard.contracts.contract import CONTRACT_FILE_RE, Contract, load_contract
from feedguard.errors import ContractError
from feedguard.lake.storage import copy_file, is_s3, list_files


def local_contracts_dir(contracts_dir: str | Path) -> Path:
    """The contracts folder on local disk; an ``s3://`` prefix is copied to a temporary folder first."""
    text = str(contracts_dir)
    if not is_s3(text):
        return Path(text)
    target = Path(tempfile.mkdtemp(prefix="feedguard-contracts-"))
    for info in list_files(text.rstrip("/") + "/"):
        relative = info.uri[len(text.rstrip("/")) + 1 :]
        if relative.endswith((".yaml", ".yml")):
            copy_file(info.uri, str(target / relative))
    return target


def contract_files(contracts_dir: str | Path, source: str, dataset: str) -> list[Path]:
    """Every ``<dataset>.v<N>.yaml`` of one source, sorted by version."""
    folder = local_contracts_dir(contracts_dir) / source
    found = []
    for path in folder.glob(f"{dataset}.v*.y*ml"):
        match = CONTRACT_FILE_RE.match(path.name)
        if match and match["dataset"] == dataset:
            found.append((int(match["version"]), path))
    return [path for _, path in sorted(found)]


def load_versions(contracts_dir: str | Path, source: str, dataset: str) -> list[Contract]:
    """All versions of a dataset's contract, oldest first; a clear error when there is none."""
    paths = contract_files(contracts_dir, source, dataset)
    if not paths:
        raise ContractError(
            f"no contract for {source}/{dataset}: expected {Path(contracts_dir) / source}/{dataset}.v1.yaml"
        )
    versions = [load_contract(p) for p in paths]
    for path, contract in zip(paths, versions, strict=True):
        if contract.source != source:
            raise ContractError(f"invalid contract {path}: source {contract.source!r} is not {source!r}")
    return versions


def select_version(versions: list[Contract], day: dt.date, version: int | None = None) -> Contract:
    """The version pinned by ``version``, else the newest one effective on ``day``."""
    if version is not None:
        for contract in versions:
            if contract.version == version:
                return contract
        raise ContractError(f"{versions[0].key}: no contract version {version}")
    effective = [c for c in versions if c.is_effective_on(day)]
    if not effective:
        dates = ", ".join(f"v{c.version} from {c.effective_from}" for c in versions)
        raise ContractError(f"{versions[0].key}: no contract version is effective on {day} ({dates})")
    return max(effective, key=lambda c: c.version)
