"""The ledger rules (no Spark): what a run does with each listed file."""

from __future__ import annotations

from collections.abc import Callable

from feedguard.lake.ledger import LedgerEntry, plan_files
from feedguard.lake.storage import FileInfo

A = FileInfo("file:///in/a.jsonl", 100, 1.0)


def sha_of(content: dict[str, str]) -> Callable[[FileInfo], str]:
    return lambda info: content[info.uri]


def entry(uri: str, run: str, sha: str | None, *, mtime: float = 1.0, verdict: str = "clean") -> LedgerEntry:
    return LedgerEntry(uri, 100, mtime, run, verdict, sha)


def test_a_new_file_is_ingested() -> None:
    plan = plan_files([A], [], sha256_of=sha_of({A.uri: "h1"}))
    assert (plan.todo, plan.supersedes, plan.sha256) == ([A], {}, {A.uri: "h1"})


def test_an_unchanged_file_is_skipped_without_hashing() -> None:
    def no_hash(info: FileInfo) -> str:
        raise AssertionError("hashed an unchanged file")

    plan = plan_files([A], [entry(A.uri, "r1", "h1")], sha256_of=no_hash)
    assert (plan.todo, plan.unchanged) == ([], [A.uri])


def test_a_touched_file_with_the_same_bytes_is_skipped() -> None:
    touched = FileInfo(A.uri, 100, 2.0)
    plan = plan_files([touched], [entry(A.uri, "r1", "h1")], sha256_of=sha_of({A.uri: "h1"}))
    assert (plan.todo, plan.unchanged) == ([], [A.uri])


def test_a_corrected_file_under_the_same_name_supersedes_every_earlier_load() -> None:
    fixed = FileInfo(A.uri, 120, 3.0)
    history = [entry(A.uri, "r1", "h1"), entry(A.uri, "r2", "h2", mtime=2.0)]
    plan = plan_files([fixed], history, sha256_of=sha_of({A.uri: "h3"}))
    assert (plan.todo, plan.supersedes) == ([fixed], {A.uri: ["r1", "r2"]})


def test_reprocess_supersedes_even_an_unchanged_file() -> None:
    plan = plan_files([A], [entry(A.uri, "r1", "h1")], reprocess=True, sha256_of=sha_of({A.uri: "h1"}))
    assert (plan.todo, plan.supersedes) == ([A], {A.uri: ["r1"]})


def test_the_same_bytes_under_another_name_are_a_duplicate_delivery() -> None:
    copy = FileInfo("file:///in/a (1).jsonl", 100, 5.0)
    plan = plan_files([copy], [entry(A.uri, "r1", "h1")], sha256_of=sha_of({copy.uri: "h1"}))
    assert (plan.todo, plan.duplicates) == ([], {copy.uri: A.uri})
    # ... also within one run, and even with --reprocess.
    both = plan_files([A, copy], [], reprocess=True, sha256_of=sha_of({A.uri: "h1", copy.uri: "h1"}))
    assert (both.todo, both.duplicates) == ([A], {copy.uri: A.uri})


def test_a_file_whose_last_run_failed_is_tried_again() -> None:
    plan = plan_files([A], [entry(A.uri, "r1", "h1", verdict="run_failed")], sha256_of=sha_of({A.uri: "h1"}))
    assert (plan.todo, plan.supersedes) == ([A], {A.uri: ["r1"]})


def test_a_file_that_cannot_be_read_is_left_to_the_run_checks() -> None:
    def unreadable(info: FileInfo) -> str:
        raise PermissionError(13, "Permission denied", info.uri)

    plan = plan_files([A], [], sha256_of=unreadable)
    assert (plan.todo, plan.sha256) == ([A], {})
