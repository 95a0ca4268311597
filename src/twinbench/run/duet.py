"""Two runs at once: the gate's duet pairs (baseline and candidate measured side by side).

On a shared VM the speed of the machine drifts by tens of percent from one run to the next
(steal, other tenants' caches, frequency): a baseline run and a candidate run a few seconds
apart differ by ±22 % in CPU per request for the very same code (the gate calibration of
2026-12-02). Run at the same time, on the same target CPUs, both servers see the same
machine: measured on 2026-12-03, the pair-to-pair noise of A/A pairs was ±0.8 % side by side
against ±25 % one after the other, in the same half hour. This is duet benchmarking (Bulej
et al., "Duet Benchmarking: Improving Measurement Accuracy in the Cloud", 2020).

Each side is a complete `runner.execute` in its own process (a fresh server, its own
upstream and its own Locust process, all pinned as in any run), so every figure a run
records is recorded here too. The two processes meet at a barrier just before their Locust
starts, so their windows coincide. Both processes are stopped on every exit of the caller.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from multiprocessing.synchronize import Barrier

from twinbench.errors import TwinbenchError
from twinbench.run.database import init_database
from twinbench.run.runner import RunOptions, execute

MEET_TIMEOUT_S = 120.0  # a partner slower than this to start is not waited for
SETTLE_S = 2.0  # before the caller's own SIGINT to runs still alive
STOP_GRACE_S = 20.0  # a run interrupted by the caller has this long to stop its servers
_PR_SET_PDEATHSIG = 1


def _meet(barrier: Barrier) -> None:
    # A partner that failed before its load breaks the barrier: run alone; the gate then
    # discards the pair (the partner left no figures).
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(MEET_TIMEOUT_S)


def _child(opts: RunOptions, barrier: Barrier, errors: mp.Queue[str]) -> None:
    # The caller killed outright: SIGINT, so this run stops its servers like on Ctrl-C.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        execute(dataclasses.replace(opts, before_load=lambda: _meet(barrier)))
    except KeyboardInterrupt:
        barrier.abort()
        sys.exit(130)
    except Exception as exc:  # one line for the caller, the traceback in a file
        barrier.abort()
        why = str(exc) if isinstance(exc, TwinbenchError) else f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(OSError):
            opts.out_dir.mkdir(parents=True, exist_ok=True)
            (opts.out_dir / "error.txt").write_text(traceback.format_exc())
        errors.put(f"run {opts.run_id}: {why}")
        sys.exit(1)


def run_together(runs: Sequence[RunOptions], timeout_s: float) -> None:
    """Execute every run at once, each in its own process, their loads started together.

    Raises TwinbenchError naming the first run that failed; KeyboardInterrupt stops them all
    (each stops its own servers) before it propagates."""
    # Once here, not in each run: two runs seeding one SQLite file at once lock each other out.
    for db in {o.database for o in runs}:
        init_database(db)
    runs = [dataclasses.replace(o, database_ready=True) for o in runs]
    ctx = mp.get_context("spawn")  # a clean interpreter: no threads or locks inherited
    barrier = ctx.Barrier(len(runs))
    errors: mp.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(o, barrier, errors), daemon=False) for o in runs]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout_s)
        late = [o.run_id for o, p in zip(runs, procs, strict=True) if p.is_alive()]
        if late:
            raise TwinbenchError(f"run {late[0]} did not finish within {timeout_s:.0f} s")
        failed = [p.exitcode for p in procs if p.exitcode]
        if 130 in failed:
            raise KeyboardInterrupt
        if failed:
            try:
                why = errors.get(timeout=1.0)
            except queue.Empty:
                why = f"a run process ended with exit code {failed[0]}"
            raise TwinbenchError(why)
    finally:
        _stop(procs)


def _stop(procs: Sequence[mp.process.BaseProcess]) -> None:
    """SIGINT (each run's own clean-up), then SIGKILL for any that outlive the grace."""
    for p in procs:
        # Ctrl-C in a terminal reached the runs already: a second SIGINT in the middle of
        # their clean-up would cut it short, so give them a moment to end by themselves.
        p.join(SETTLE_S)
    live = [p for p in procs if p.is_alive()]
    for p in live:
        if p.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGINT)
    for p in live:
        p.join(STOP_GRACE_S)
        if p.is_alive():
            p.kill()
            p.join(5)
