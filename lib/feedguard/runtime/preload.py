"""Import slow modules on a thread of their own while the Spark session starts.

Starting a session is the JVM's work: the driver's Python waits on it for seconds. Great Expectations takes
seconds of Python to import. A job that will run the quality gate starts that import first, then builds its
session, so the two overlap (on two cores, about the whole import is saved from the run's wall time).

Python's import system is thread-safe: a module the thread is still importing makes the main thread's
``import`` wait for it, never run it twice. An import that fails on the thread is left for the main thread's
own ``import`` to raise where it is used, with its usual traceback.
"""

from __future__ import annotations

import threading
from importlib import import_module

GATE_MODULES = ("feedguard.quality.gate",)


def preload(modules: tuple[str, ...]) -> threading.Thread:
    """Start importing ``modules`` on a daemon thread; return the thread (joined by nobody)."""

    def load() -> None:
        for name in modules:
            try:
                import_module(name)
            except Exception:  # the main thread's own import raises it where it is used
                return

    thread = threading.Thread(target=load, name="feedguard-preload", daemon=True)
    thread.start()
    return thread
