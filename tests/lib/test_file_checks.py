"""Driver-side file checks: gzip integrity, binary garbage, JSON layout, first line."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from feedguard.contracts.contract_options import Limits
from feedguard.ingest.file_checks import check_file, json_layout
from feedguard.lake.storage import list_files


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


# --- encodings --------------------------------------------------------------------------------------

LINES = '{"city":"Köln"}\n{"city":"Zürich"}\n'


def test_a_utf16_file_under_a_utf8_contract_is_named_not_called_binary(tmp_path: Path) -> None:
    (tmp_path / "u16.jsonl").write_bytes(LINES.encode("utf-16"))  # Python writes FF FE (little-endian)
    (info,) = list_files(str(tmp_path / "u16.jsonl"))
    result = check_file(info)
    assert (result.readability, result.encoding.name) == ("wrong_encoding", "utf-16le")
    assert result.detail == (
        "the file is utf-16le (it starts with the byte-order mark FF FE) "
        "but the contract declares encoding utf-8"
    )
    assert not result.readable


def test_a_declared_utf16_file_is_read_in_the_byte_order_its_mark_names(tmp_path: Path) -> None:
    for name, data in (
        ("le.jsonl", LINES.encode("utf-16")),
        ("be.jsonl", b"\xfe\xff" + LINES.encode("utf-16-be")),
    ):
        (tmp_path / name).write_bytes(data)
        (info,) = list_files(str(tmp_path / name))
        result = check_file(info, declared="utf-16")
        assert (result.readability, result.first_line) == ("ok", '{"city":"Köln"}')
        assert result.encoding.name == ("utf-16le" if name == "le.jsonl" else "utf-16be")


def test_utf16_and_utf32_without_a_byte_order_mark_are_recognised(tmp_path: Path) -> None:
    for codec, name in (("utf-16-le", "utf-16le"), ("utf-16-be", "utf-16be"), ("utf-32-le", "utf-32le")):
        (tmp_path / "f.jsonl").write_bytes(LINES.encode(codec))
        (info,) = list_files(str(tmp_path / "f.jsonl"))
        result = check_file(info)
        assert (result.readability, result.encoding.name) == ("wrong_encoding", name)
        assert f"looks like {name} without a byte-order mark" in result.detail
        declared = check_file(
            info, declared=name.replace("le", "").replace("be", "") if "16" in name else name
        )
        assert (declared.readability, declared.first_line) == ("ok", '{"city":"Köln"}')


def test_single_byte_encodings_and_the_marks_that_contradict_them(tmp_path: Path) -> None:
    (tmp_path / "cp.csv").write_bytes("city,price\nKöln,5 €\n".encode("cp1252"))
    (info,) = list_files(str(tmp_path / "cp.csv"))
    result = check_file(info, declared="windows-1252")
    assert (result.readability, result.encoding.name, result.first_line) == (
        "ok",
        "windows-1252",
        "city,price",
    )
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfcity,price\n")
    (info,) = list_files(str(tmp_path / "bom.csv"))
    result = check_file(info, declared="iso-8859-1")
    assert result.readability == "wrong_encoding"
    assert result.detail.startswith("the file is utf-8 (it starts with the byte-order mark EF BB BF)")


# --- caps on decompression ---------------------------------------------------------------------------


def gzip_bomb(path: Path, expanded_mib: int) -> None:
    """A multi-member gzip file: each member 1 MiB of zeros (about 1 KiB compressed)."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    path.write_bytes(member * expanded_mib)


def test_a_gzip_bomb_is_stopped_quickly_by_the_compression_ratio_cap(tmp_path: Path) -> None:
    gzip_bomb(tmp_path / "bomb.jsonl.gz", 1024)  # about 1 MB that expands to 1 GiB
    assert (tmp_path / "bomb.jsonl.gz").stat().st_size < 2 << 20
    (info,) = list_files(str(tmp_path / "bomb.jsonl.gz"))
    started = time.perf_counter()
    result = check_file(info)
    assert time.perf_counter() - started < 10  # stopped after 64 MiB, not 1 GiB
    assert result.readability == "too_large"
    assert (
        "limits.max_compression_ratio" in result.detail
        and "decompression stopped after 64 MiB" in result.detail
    )


def test_the_decompressed_size_cap_comes_from_the_contract(tmp_path: Path) -> None:
    (tmp_path / "big.jsonl.gz").write_bytes(gzip.compress(b'{"a":1}\n' * 400_000))  # 3.2 MB expanded
    (info,) = list_files(str(tmp_path / "big.jsonl.gz"))
    assert check_file(info).readability == "ok"
    result = check_file(info, limits=Limits(max_decompressed_bytes=2 << 20))
    assert result.readability == "too_large"
    assert result.detail == (
        "decompression stopped after 3 MiB: the file expands past the cap of 2 MiB per file "
        "(limits.max_decompressed_bytes)"
    )
