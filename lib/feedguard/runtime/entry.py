"""What every job's ``main`` does with errors: a clear message and the documented exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from feedguard.errors import EXIT_INTERNAL, FeedguardError, environment_problem


def guarded(body: Callable[[], int], log: logging.Logger) -> int:
    """Run a job body; a user error prints one line and its exit code, a bug logs its traceback (exit 1)."""
    try:
        return body()
    except FeedguardError as exc:
        log.error("%s", exc)
        print(f"feedguard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        problem = environment_problem(exc)
        if problem is not None:
            log.error("%s", problem)
            print(f"feedguard: error: {problem}", file=sys.stderr)
            return problem.exit_code
        log.exception("unexpected internal error (a bug: please report it with this log)")
        return EXIT_INTERNAL
