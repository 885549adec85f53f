"""Every exit code the jobs define is either retried by the runners or documented as not retried, and
AWS Batch, the Airflow DAG, docs/operations.md §1 and the README agree with ``feedguard.errors``.

``feedguard.errors.RETRIED_EXIT_CODES`` and ``NOT_RETRIED_EXIT_CODES`` (with the reason for each) are the one
source; the deploy files cannot import the library (Batch reads JSON, Airflow may run without the wheel),
so this test holds them to it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from deploy_helpers import DEPLOY, ROOT, batch_decision, load_rendered

from feedguard import errors
from feedguard.errors import EXIT_ENVIRONMENT, EXIT_OK, NOT_RETRIED_EXIT_CODES, RETRIED_EXIT_CODES

JOB_DEFINITIONS = sorted((DEPLOY / "batch" / "job-definitions").glob("*.json"))
DEFINED = sorted(
    value for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)
)
FAILURES = [code for code in DEFINED if code != EXIT_OK]


def load_feeds() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "feedguard_feeds", DEPLOY / "airflow" / "feedguard_feeds.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def table_rows(path: Path, heading: str) -> dict[int, list[str]]:
    """The rows of the first Markdown table after ``heading``, keyed by their exit code."""
    text = path.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    rows: dict[int, list[str]] = {}
    for line in section.splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0].isdigit():
            rows[int(cells[0])] = cells
    return rows


def test_every_failure_code_is_retried_or_documented_as_not_retried() -> None:
    assert set(RETRIED_EXIT_CODES).isdisjoint(NOT_RETRIED_EXIT_CODES)
    assert sorted(set(RETRIED_EXIT_CODES) | set(NOT_RETRIED_EXIT_CODES)) == FAILURES
    assert all(len(reason) > 20 for reason in NOT_RETRIED_EXIT_CODES.values())


@pytest.mark.parametrize("path", JOB_DEFINITIONS, ids=lambda p: p.stem)
@pytest.mark.parametrize("code", FAILURES)
def test_batch_retries_exactly_the_retried_codes(path: Path, code: int) -> None:
    rules = load_rendered(path)["retryStrategy"]["evaluateOnExit"]
    assert batch_decision(rules, exit_code=code) == ("RETRY" if code in RETRIED_EXIT_CODES else "EXIT")


def test_airflow_retries_exactly_the_retried_codes_and_names_every_code() -> None:
    feeds = load_feeds()
    assert feeds.RETRIED_EXIT_CODES == RETRIED_EXIT_CODES
    assert {code: feeds.should_retry(code) for code in FAILURES} == {
        code: code in RETRIED_EXIT_CODES for code in FAILURES
    }
    assert feeds.should_retry(None)  # no exit code: the job may never have started
    assert sorted(feeds.EXIT_MEANINGS) == DEFINED


def test_the_operations_guide_and_the_readme_say_the_same() -> None:
    guide = table_rows(ROOT / "docs" / "operations.md", "## 1. Exit codes")
    readme = table_rows(ROOT / "README.md", "## Exit codes")
    assert sorted(guide) == sorted(readme) == DEFINED
    for code in FAILURES:
        retried = code in RETRIED_EXIT_CODES
        assert guide[code][2].startswith("RETRY" if retried else "EXIT"), guide[code]
        assert guide[code][3].startswith("retried" if retried else "fails at once"), guide[code]
        assert (readme[code][2] == "yes") is retried, readme[code]
    # 74 (EX_IOERR) reads like an I/O hiccup: the guide says why the runners still do not retry it.
    assert f"**Why {EXIT_ENVIRONMENT} is not retried.**" in (ROOT / "docs" / "operations.md").read_text()
