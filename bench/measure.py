"""Shared benchmark helpers: wall-clock time and peak resident memory of this process and its JVM."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


class DriverJvm:
    """Memory, GC and spill figures of the driver JVM, reset before each measured run.

    * ``jvm_hwm_mb``: the JVM process's peak resident set (``VmHWM`` in ``/proc/<pid>/status``, reset by
      writing 5 to ``/proc/<pid>/clear_refs``): what a container's memory limit sees.
    * ``heap_peak_mb``: the sum of the heap pools' peak usage (``MemoryPoolMXBean.getPeakUsage``, reset
      with ``resetPeakUsage``); ``old_gen_peak_mb`` the tenured pool alone (what survives young GCs).
    * ``gc_seconds``: collection time of all collectors during the run.
    * ``spilled_mb``: memory and disk bytes spilled by the run's stages (Spark's status store).
    In ``local[N]`` the executors are threads of this JVM, so these are the whole Spark job's figures.
    """

    def __init__(self, spark: Any) -> None:
        self._sc = spark.sparkContext
        self._mf = self._sc._jvm.java.lang.management.ManagementFactory
        self.pid = int(self._mf.getRuntimeMXBean().getPid())
        self._gc0 = 0
        self._stage0 = -1

    def _stages(self) -> list[Any]:
        jvm, gw = self._sc._jvm, self._sc._gateway
        seq = (
            self._sc._jsc.sc()
            .statusStore()
            .stageList(None, False, False, gw.new_array(jvm.double, 0), jvm.java.util.ArrayList())
        )
        return [seq.apply(i) for i in range(seq.size())]

    def _gc_ms(self) -> int:
        return sum(int(g.getCollectionTime()) for g in self._mf.getGarbageCollectorMXBeans())

    def _heap_pools(self) -> list[Any]:
        return [p for p in self._mf.getMemoryPoolMXBeans() if str(p.getType().name()) == "HEAP"]

    def reset(self) -> None:
        for pool in self._heap_pools():
            pool.resetPeakUsage()
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self._gc0 = self._gc_ms()
        self._stage0 = max((int(s.stageId()) for s in self._stages()), default=-1)

    def read(self) -> dict[str, float]:
        status = Path(f"/proc/{self.pid}/status").read_text()
        hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        pools = {str(p.getName()): int(p.getPeakUsage().getUsed()) for p in self._heap_pools()}
        new = [s for s in self._stages() if int(s.stageId()) > self._stage0]
        spilled = sum(int(s.memoryBytesSpilled()) + int(s.diskBytesSpilled()) for s in new)
        return {
            "jvm_hwm_mb": round(hwm_kb / 1024),
            "heap_peak_mb": round(sum(pools.values()) / 2**20),
            "old_gen_peak_mb": round(
                sum(v for k, v in pools.items() if "Old" in k or "Tenured" in k) / 2**20
            ),
            "gc_seconds": round((self._gc_ms() - self._gc0) / 1000, 2),
            "spilled_mb": round(spilled / 2**20, 1),
        }


def measured(fn: Callable[[], object], jvm: DriverJvm | None = None) -> dict[str, float]:
    """Seconds, peak RSS of this process tree, 1-minute load average before and after, driver JVM figures."""
    if jvm is not None:
        jvm.reset()
    load_before = os.getloadavg()[0]
    seconds, rss = timed(fn)
    out: dict[str, float] = {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(rss / 2**20),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    if jvm is not None:
        out.update(jvm.read())
    return out
