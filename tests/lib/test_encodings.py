"""Text encodings: what a contract may declare, and how lines of UTF-16/32 and single-byte text are read."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from pyspark.sql import SparkSession

from feedguard.contracts.contract import load_contract
from feedguard.errors import ContractError
from feedguard.ingest.file_checks import ENCODINGS, check_file
from feedguard.ingest.sources import read_lines
from feedguard.ingest.splitters import split_lines
from feedguard.lake.storage import iter_chunks, list_files

QB = Path("contracts/quickbite/orders.v1.yaml")


def contract_with(tmp_path: Path, **changes: object) -> Path:
    target = tmp_path / "quickbite" / "orders.v1.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({**yaml.safe_load(QB.read_text()), **changes}, sort_keys=False))
    return target


def test_a_contract_declares_an_encoding_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    assert load_contract(QB).encoding == "utf-8"
    assert load_contract(contract_with(tmp_path, encoding="windows-1252")).encoding == "windows-1252"
    with pytest.raises(ContractError, match="field 'encoding': Input should be 'utf-8', 'us-ascii'"):
        load_contract(contract_with(tmp_path, encoding="latin9"))


@pytest.mark.parametrize("name", ["utf-16le", "utf-16be", "utf-32le", "utf-32be"])
def test_wide_lines_end_only_at_a_newline_code_unit(name: str) -> None:
    encoding = ENCODINGS[name]
    # U+0A2C U+4E00 in UTF-16LE are 2C 0A 00 4E: a "0A 00" across two characters is no newline.
    lines = ["{\u0a2c\u4e00}", "", "K\u00f6ln \U0001f600", "x\r", "last"]
    data = "\n".join(lines).encode(encoding.python)  # "x\r" then the newline: a CRLF line end
    for size in (1, 3, 1 << 20):
        pieces = list(split_lines(iter_chunks(io.BytesIO(data), size), encoding.newline, encoding.unit))
        assert [p.raw.decode(encoding.python) for p in pieces] == [
            "{\u0a2c\u4e00}",
            "",
            "K\u00f6ln \U0001f600",
            "x",
            "last",
        ]
        assert [p.line for p in pieces] == [1, 2, 3, 4, 5]


def test_lines_keep_their_input_bytes_when_they_are_not_utf8(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "cp.csv").write_bytes("a,b\nK\u00f6ln,5 \u20ac\nplain,1\n".encode("cp1252"))
    (tmp_path / "u16.csv").write_bytes("a,b\r\nK\u00f6ln,1\r\n".encode("utf-16"))
    files = [
        check_file(info, declared=d)
        for info, d in zip(list_files(str(tmp_path)), ("windows-1252", "utf-16"), strict=True)
    ]
    rows = read_lines(spark, files).orderBy("_source_file", "_row_in_block").collect()
    assert [(Path(r["_source_file"]).name, r["_raw"], r["_raw_bytes"], r["_encoding"]) for r in rows] == [
        ("cp.csv", "a,b", None, None),
        ("cp.csv", "K\u00f6ln,5 \u20ac", "K\u00f6ln,5 \u20ac".encode("cp1252"), "windows-1252"),
        ("cp.csv", "plain,1", None, None),
        ("u16.csv", "a,b", b"\xff\xfe" + "a,b".encode("utf-16-le"), "utf-16le"),
        ("u16.csv", "K\u00f6ln,1", "K\u00f6ln,1".encode("utf-16-le"), "utf-16le"),
    ]
