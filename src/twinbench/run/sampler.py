"""A background thread that samples process trees and CPUs: CPU seconds and RSS over time.

Cells are matched to samples by wall-clock time (`time.time_ns`, the clock Locust stamps its
windows with). CPU seconds are cumulative per process, so the CPU a tree used in a window is
the difference of two interpolated readings; a worker that exits takes its seconds with it,
which undercounts only across a crash (and such cells are marked failed anyway).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

INTERVAL_S = 0.1
MAX_SAMPLES = 200_000  # per source: ~5.5 h at 10 Hz, bounded memory


@dataclass(frozen=True)
class Sample:
    t_ns: int
    cpu_s: float  # cumulative on-CPU seconds of the tree (or busy seconds of the CPUs)
    rss: int  # bytes, summed over the tree (0 for CPU sources)


TreeFn = Callable[[], list[psutil.Process]]


class _Series:
    def __init__(self) -> None:
        self.t: list[int] = []
        self.samples: list[Sample] = []
        # Per pid the last reading, so a process's seconds are not lost when it exits between
        # samples: the tree's total only moves by deltas of live processes.
        self.last: dict[int, float] = {}
        self.total = 0.0

    def add(self, s: Sample) -> None:
        if len(self.samples) >= MAX_SAMPLES:
            del self.samples[: MAX_SAMPLES // 2], self.t[: MAX_SAMPLES // 2]
        self.t.append(s.t_ns)
        self.samples.append(s)


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_max: int
    rss_before: int  # the last reading at or before the window start
    samples: int


class Sampler:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._trees: dict[str, TreeFn] = {}
        self._cpus: dict[str, tuple[int, ...]] = {}
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()
        # One sample at a time (the runner's sample_now and the thread's): two interleaved
        # ones could append out of time order and roll a series' per-pid readings back.
        self._sampling = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="twinbench-sampler", daemon=True)

    def watch_tree(self, key: str, tree: TreeFn) -> None:
        with self._lock:
            self._trees[key] = tree
            self._series.setdefault(key, _Series())

    def unwatch(self, key: str) -> None:
        with self._lock:
            self._trees.pop(key, None)

    def watch_cpus(self, key: str, cpus: tuple[int, ...]) -> None:
        with self._lock:
            self._cpus[key] = cpus
            self._series.setdefault(key, _Series())

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def sample_now(self) -> None:
        with self._sampling:
            self._sample_all()

    def _sample_all(self) -> None:
        now = time.time_ns()
        with self._lock:
            trees = dict(self._trees)
            cpus = dict(self._cpus)
        for key, fn in trees.items():
            self._sample_tree(key, fn, now)
        if cpus:
            per_cpu = psutil.cpu_times(percpu=True)
            for key, ids in cpus.items():
                busy = 0.0
                for i in ids:
                    if i < len(per_cpu):
                        t = per_cpu[i]
                        busy += sum(t) - t.idle - getattr(t, "iowait", 0.0)
                with self._lock:
                    self._series[key].add(Sample(now, busy, 0))

    def _sample_tree(self, key: str, fn: TreeFn, now: int) -> None:
        series = self._series[key]
        rss = 0
        seen: dict[int, float] = {}
        for proc in fn():
            with contextlib.suppress(psutil.Error), proc.oneshot():
                cpu = _schedstat_s(proc.pid)
                if cpu is None:
                    t = proc.cpu_times()
                    cpu = t.user + t.system
                seen[proc.pid] = cpu
                rss += proc.memory_info().rss
        with self._lock:
            for pid, cpu in seen.items():
                series.total += max(0.0, cpu - series.last.get(pid, 0.0))
            series.last = seen
            series.add(Sample(now, series.total, rss))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            with contextlib.suppress(Exception):  # sampling must never take the run down
                self.sample_now()

    def usage(self, key: str, start_ns: int, end_ns: int, before_ns: int | None = None) -> Usage:
        """CPU seconds in [start, end] (interpolated), peak RSS in it, RSS at `before_ns`."""
        with self._lock:
            series = self._series.get(key)
            t = list(series.t) if series else []
            samples = list(series.samples) if series else []
        if len(samples) < 2:
            return Usage(0.0, 0, 0, len(samples))
        cpu = _at(t, samples, end_ns) - _at(t, samples, start_ns)
        inside = [s.rss for s in samples if start_ns <= s.t_ns <= end_ns]
        i = bisect.bisect_right(t, before_ns if before_ns is not None else start_ns) - 1
        rss_before = samples[max(i, 0)].rss
        return Usage(max(cpu, 0.0), max(inside, default=0), rss_before, len(inside))


def _schedstat_s(pid: int) -> float | None:
    """On-CPU seconds of every live thread, in nanoseconds from the scheduler.

    /proc/<pid>/stat counts in clock ticks (10 ms): a 0.6 s window of a lightly loaded
    server would read 0 or 10 ms. schedstat is exact; a thread that exits takes at most
    one sampling interval of its time with it.
    """
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None  # gone, or no /proc: the caller falls back to psutil
    total = 0
    for task in tasks:
        # A thread may exit between the listing and the read: skip it, never mix sources.
        path = f"/proc/{pid}/task/{task}/schedstat"
        with contextlib.suppress(OSError, ValueError, IndexError), open(path, "rb") as fh:
            total += int(fh.read().split()[0])
    return total / 1e9


def _at(t: list[int], samples: list[Sample], when: int) -> float:
    """Cumulative CPU seconds at `when`, linearly interpolated between samples."""
    i = bisect.bisect_left(t, when)
    if i <= 0:
        return samples[0].cpu_s
    if i >= len(t):
        return samples[-1].cpu_s
    a, b = samples[i - 1], samples[i]
    frac = (when - a.t_ns) / max(b.t_ns - a.t_ns, 1)
    return a.cpu_s + frac * (b.cpu_s - a.cpu_s)
