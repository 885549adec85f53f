"""Small modules and functions: no module in lib/feedguard or jobs over 300 lines, no function over 50
(from its ``def`` line to its last line, decorators excluded)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = (ROOT / "lib" / "feedguard", ROOT / "jobs")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def modules() -> list[Path]:
    return sorted(path for folder in CHECKED for path in folder.rglob("*.py"))


def oversized(path: Path, root: Path = ROOT) -> list[str]:
    """``path: N lines`` for the module and ``path:line name(): N lines`` for each function over the caps."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{where}: {lines} lines (max {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{where}:{node.lineno} {node.name}(): {length} lines (max {MAX_FUNCTION_LINES})"
                )
    return found


def test_the_checked_folders_hold_modules() -> None:
    assert len(modules()) > 50


def test_no_module_or_function_is_over_its_size_cap() -> None:
    assert [problem for path in modules() for problem in oversized(path)] == []


def test_a_long_function_and_a_long_module_are_both_named(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    module = tmp_path / "big.py"
    module.write_text("@staticmethod\ndef long():\n" + body + "\n" * MAX_MODULE_LINES, encoding="utf-8")
    assert oversized(module, root=tmp_path) == [
        f"big.py: {MAX_MODULE_LINES + MAX_FUNCTION_LINES + 2} lines (max {MAX_MODULE_LINES})",
        f"big.py:2 long(): {MAX_FUNCTION_LINES + 1} lines (max {MAX_FUNCTION_LINES})",
    ]
