"""Named errors with the exit code each one maps to (see docs/design.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DQ_FAILED = 3
EXIT_STRUCTURAL_CHANGE = 4
EXIT_CONSERVATION = 5
EXIT_FILE_CORRUPT = 6  # file(s) quarantined: unreadable, or more bad records than the contract allows
EXIT_ENVIRONMENT = 74  # sysexits EX_IOERR: disk full, permission denied, read-only lake
EXIT_TRANSIENT = 75

# What the runners do with a failed run's exit code: the one list AWS Batch's evaluateOnExit
# (deploy/batch), the Airflow DAG's should_retry (deploy/airflow) and docs/operations.md §1 follow
# (tests/deploy/test_exit_code_policy.py holds them to it). Every other code is not retried, for a reason.
RETRIED_EXIT_CODES: Final = frozenset({EXIT_TRANSIENT})
NOT_RETRIED_EXIT_CODES: Final[Mapping[int, str]] = {
    EXIT_INTERNAL: "a bug: the same input fails the same way until the code is fixed",
    EXIT_USAGE: "arguments, configuration, contract or input stay wrong until a person changes them",
    EXIT_DQ_FAILED: "the same data fail the same expectation: a person decides if data or suite is wrong",
    EXIT_STRUCTURAL_CHANGE: "the file keeps its new structure; it needs a new contract version",
    EXIT_CONSERVATION: "the output was undone and the next scheduled run retries the files; an immediate "
    "retry would hide a defect that a person must look at",
    EXIT_FILE_CORRUPT: "the same bytes stay corrupt (the other files loaded); the producer must re-send",
    EXIT_ENVIRONMENT: "a full disk or quota, a read-only file system or a denied permission (IAM, bucket "
    "policy, folder mode) stays so until a person fixes it: a retry fails the same way and only delays the "
    "alert; a transient I/O condition (a lease held, an endpoint unreachable) exits 75 instead",
}


class FeedguardError(Exception):
    """Base class: a user-facing error with a clear message and an exit code."""

    exit_code = EXIT_INTERNAL


class UsageError(FeedguardError, ValueError):
    """Bad arguments or configuration."""

    exit_code = EXIT_USAGE


class ContractError(FeedguardError, ValueError):
    """A contract file is missing, unreadable or invalid; the message names the file and field."""

    exit_code = EXIT_USAGE


class InputNotFoundError(FeedguardError, FileNotFoundError):
    """The input path, folder or glob matches no file."""

    exit_code = EXIT_USAGE


class ConservationError(FeedguardError, RuntimeError):
    """records_read != records_valid + records_dead_lettered: something would be lost."""

    exit_code = EXIT_CONSERVATION


class TransientError(FeedguardError, RuntimeError):
    """An infrastructure failure worth retrying (broker or AWS endpoint unreachable)."""

    exit_code = EXIT_TRANSIENT


class EnvironmentProblem(FeedguardError, OSError):
    """The machine or the lake is in the way (disk full, permission denied, read-only): fix, then retry."""

    exit_code = EXIT_ENVIRONMENT


class LeaseHeldError(TransientError):
    """Another run of the same feed holds its lease: nothing was done, retry later."""


class LeaseLostError(TransientError):
    """This run's lease expired and was taken over by another run: it stops before committing more."""


_ENVIRONMENT_SIGNS = {
    "No space left on device": "the disk is full",
    "Disk quota exceeded": "the disk quota is exhausted",
    "Read-only file system": "the file system is read-only",
    "Permission denied": "permission denied",
    "AccessDenied": "access denied",
    # Hadoop's local mkdirs only returns false (read-only, full or forbidden folder): Delta says this.
    "DELTA_CANNOT_CREATE_LOG_PATH": "a folder in the lake cannot be created",
}


def environment_problem(exc: BaseException) -> EnvironmentProblem | None:
    """An :class:`EnvironmentProblem` when ``exc`` (or its cause, or Spark's Java error) is one."""
    import errno

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EnvironmentProblem):
            return seen
        if isinstance(seen, OSError) and seen.errno in (
            errno.ENOSPC,
            errno.EDQUOT,
            errno.EROFS,
            errno.EACCES,
        ):
            where = f" ({seen.filename})" if seen.filename else ""
            return EnvironmentProblem(f"{seen.strerror}{where}: fix the lake or the disk, then retry")
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    for sign, meaning in _ENVIRONMENT_SIGNS.items():
        if sign in text:
            line = next((ln.strip() for ln in text.splitlines() if sign in ln), sign)
            return EnvironmentProblem(f"{meaning}: {line[:300]}; fix the lake or the disk, then retry")
    return None
