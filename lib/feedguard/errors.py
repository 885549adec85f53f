"""Named errors with the exit code each one maps to (see docs/design.md)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DQ_FAILED = 3
EXIT_STRUCTURAL_CHANGE = 4
EXIT_CONSERVATION = 5
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
