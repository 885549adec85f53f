"""Named errors with the exit code each one maps to (see docs/design.md)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DQ_FAILED = 3
EXIT_STRUCTURAL_CHANGE = 4
EXIT_CONSERVATION = 5
EXIT_FILE_CORRUPT = 6  # file(s) quarantined: unreadable, or more bad records than the contract allows
EXIT_ENVIRONMENT = 74  # sysexits EX_IOERR: disk full, permission denied, read-only lake
EXIT_TRANSIENT = 75


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
