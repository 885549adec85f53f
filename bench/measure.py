"""Shared benchmark helpers: wall-clock time and peak resident memory of this process and its JVM."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import psutil


class PeakRss:
    """Sample the resident set size of this process and its children (the driver JVM)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.peak = 0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self._interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], object]) -> tuple[float, int]:
    """(seconds, peak RSS bytes) of one call."""
    with PeakRss() as rss:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
    return elapsed, rss.peak
