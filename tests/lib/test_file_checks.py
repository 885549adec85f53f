"""Driver-side file checks: gzip integrity, binary garbage, JSON layout, first line."""

from __future__ import annotations

import gzip
from pathlib import Path

from feedguard.file_checks import check_file, json_layout
from feedguard.storage import list_files


def checked(path: Path):  # type: ignore[no-untyped-def]
    (info,) = list_files(str(path))
    return check_file(info)


def test_truncated_gzip_is_detected(tmp_path: Path) -> None:
    data = gzip.compress(b'{"a":1}\n' * 5000)
    (tmp_path / "t.jsonl.gz").write_bytes(data[: len(data) // 2])
    result = checked(tmp_path / "t.jsonl.gz")
    assert result.readability == "truncated_gzip"
    assert "truncated" in result.detail


def test_binary_garbage_is_detected(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(bytes(range(256)) * 40)
    assert checked(tmp_path / "b.json").readability == "binary"


def test_empty_and_text_files(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    (tmp_path / "h.csv").write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    assert checked(tmp_path / "e.csv").readability == "empty"
    header = checked(tmp_path / "h.csv")
    assert (header.readability, header.first_line) == ("ok", "a,b")


def test_json_layout() -> None:
    assert json_layout(b'[\n  {"a":1},\n  {"a":2}\n]\n', whole_file=True) == "array"
    assert json_layout(b'[{"a":1},\n{"a":2}]', whole_file=True) == "array"
    assert json_layout(b'[{"a":1},{"a":2}]\n', whole_file=True) == "array"
    assert json_layout(b'{"a":1}\n{"a":2}\n', whole_file=True) == "lines"
    assert json_layout(b'[{"a":1}]\n{"a":2}\n', whole_file=True) == "lines"


def test_listing_skips_hidden_and_underscore_files(tmp_path: Path) -> None:
    for name in ("a.json", ".hidden", "_SUCCESS", "sub/b.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert [f.name for f in list_files(str(tmp_path))] == ["a.json", "b.json"]
    assert [f.name for f in list_files(str(tmp_path / "*.json"))] == ["a.json"]
    assert list_files(str(tmp_path / "missing")) == []
