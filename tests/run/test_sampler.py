"""The sampler: CPU seconds of a process tree over a wall-clock window, and RSS."""

from __future__ import annotations

import os
import time

import psutil

from twinbench.run.sampler import Sampler


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_in_window() -> None:
    me = psutil.Process(os.getpid())
    sampler = Sampler(interval_s=0.02)
    sampler.watch_tree("me", lambda: [me])
    sampler.watch_cpus("cpus", tuple(sorted(os.sched_getaffinity(0))))
    sampler.start()
    try:
        time.sleep(0.1)
        t0 = time.time_ns()
        _burn(0.3)
        t1 = time.time_ns()
        time.sleep(0.1)
    finally:
        sampler.stop()
    usage = sampler.usage("me", t0, t1)
    assert 0.2 < usage.cpu_s < 0.45  # the burn (sampler thread included), interpolated
    assert usage.rss_max > 10_000_000
    busy = sampler.usage("cpus", t0, t1)
    assert busy.cpu_s >= 0.2
    assert sampler.usage("unknown", t0, t1).samples == 0
