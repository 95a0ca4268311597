"""The open model: requests at intended times t0 + k/rate, each in its own greenlet.

One scheduler user runs per Locust process (the driver spawns exactly one per process, so in
distributed mode each process gets rate/N). Latency is measured from the intended send time
(see `State.on_request`), a send that starts more than `late_ms` after its intended time is
`late`, and a send that cannot start because the bounded pool is full is `dropped` (recorded as
a failure without a latency).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent.pool import Pool
from greenlet import getcurrent
from locust import User, constant

from .state import STATE, OpenTag, Window

log = logging.getLogger(__name__)

Op = Callable[[Any], None]


# libev's epoll backend rounds every timer up to the next millisecond, so a plain sleep wakes
# 0–1 ms late (measured: median 0.58 ms) and that lag, counted from the intended send time,
# would add the generator's own timer error to every latency. So the scheduler sleeps to
# SPIN_S before the send, then yields (gevent.sleep(0): other greenlets and I/O still run)
# until it is due. That polling costs up to ~1 ms of CPU per send, so only below
# SPIN_MAX_RATE sends/s per process; above it sends are dense and the plain sleep is kept
# (the README states that ~1 ms granularity).
SPIN_S = 0.0012
SPIN_MAX_RATE = 250.0
YIELD_EVERY = 64  # sends, when behind schedule


def wait_until(intended: float, spin: bool) -> None:
    """Return at `intended` (perf_counter seconds), not before, as close to it as we can."""
    while (delay := intended - time.perf_counter()) > 0:
        if not spin:
            gevent.sleep(delay)
        elif delay > SPIN_S:
            gevent.sleep(delay - SPIN_S)
        else:
            gevent.sleep(0)


class DroppedError(Exception):
    """The in-flight pool was full at the intended send time."""


def _ops_of(base: type[User]) -> list[Op]:
    ops: list[Op] = []
    for t in base.tasks:
        if not callable(t) or isinstance(t, type):
            raise TypeError(f"{base.__name__}: open model needs plain @task functions")
        ops.append(t)
    if not ops:
        raise TypeError(f"{base.__name__} has no tasks")
    return ops


def _run_one(user: User, op: Op, intended: float, win: Window | None, late_s: float) -> None:
    lag = time.perf_counter() - intended
    if win is not None:
        win.recorder.open.sent += 1  # type: ignore[union-attr]
        if lag > late_s:
            win.recorder.open.late += 1  # type: ignore[union-attr]
    getcurrent().tb_open = OpenTag(win.seq if win is not None else None, lag * 1000.0)  # type: ignore[attr-defined]
    try:
        op(user)
    except gevent.GreenletExit:
        raise
    except Exception as exc:  # a broken task must not kill the scheduler
        log.debug("open-model operation failed: %r", exc)
    finally:
        if win is not None:
            win.inflight -= 1
            if win.inflight == 0 and win.closing:
                win.drained.set()


def run_schedule(user: User) -> None:
    """The scheduler user's only task; runs until the runner kills the user."""
    conf = STATE.phase_conf
    if conf is None or conf.rate <= 0:
        log.error("open model without a rate: nothing to do")
        gevent.sleep(1.0)
        return
    ops = user.tb_ops  # type: ignore[attr-defined]
    weights = getattr(user, "tb_weights", None)  # a team's locustfile: class × task weights

    def pick() -> Op:
        return random.choices(ops, weights)[0] if weights else random.choice(ops)

    pool = Pool(conf.cap)
    period = 1.0 / conf.rate
    spin = conf.rate <= SPIN_MAX_RATE
    late_s = conf.late_ms / 1000.0
    t0 = time.perf_counter()
    k = 0
    try:
        while True:  # bounded: the runner kills this user at the end of every phase
            intended = t0 + k * period
            k += 1
            if intended <= time.perf_counter() and k % YIELD_EVERY == 0:
                # Behind schedule nothing below yields: let in-flight requests and the
                # shape's ticks run now and then, or an unreachable rate would starve them.
                gevent.sleep(0)
            wait_until(intended, spin)
            win = STATE.active if STATE.active is not None and STATE.active.open_model else None
            if win is not None:
                win.recorder.open.intended += 1  # type: ignore[union-attr]
            if pool.full():
                if win is not None:
                    win.recorder.open.dropped += 1  # type: ignore[union-attr]
                    win.recorder.record("OPEN dropped", None, DroppedError("in-flight cap reached"))
                continue
            if win is not None:
                win.inflight += 1
            pool.spawn(_run_one, user, pick(), intended, win, late_s)
    finally:
        # no child greenlets left behind when the phase (or the run) ends
        pool.kill(block=False)


def make_open_user(base: type[User]) -> type[User]:
    """A scheduler user that issues `base`'s tasks (chosen by weight) at a constant rate."""
    ops = _ops_of(base)
    attrs: dict[str, Any] = {
        "tasks": [run_schedule],
        "wait_time": constant(0),
        "tb_ops": ops,
        "tb_open_user": True,
        "weight": 1,
        "fixed_count": 0,
        "__module__": base.__module__,
    }
    return type(f"{base.__name__}Open", (base,), attrs)


def make_open_dispatcher(classes: list[type[User]]) -> type[User]:
    """A scheduler for a team's own locustfile: each scheduled request is one task of one of
    its User classes, drawn by class weight × task weight, run on one instance of that class
    (made, with its `on_start`, when the scheduler starts: once per phase). TypeError when a
    class's tasks are not plain @task functions (TaskSets need a closed model)."""
    if not classes:
        raise TypeError("no User class")
    ops: list[Op] = []
    weights: list[float] = []
    for cls in classes:
        tasks = _ops_of(cls)  # @task(n) appears n times: a task's share is its weight
        share = float(getattr(cls, "weight", 1) or 1) / len(tasks)
        for t in tasks:
            ops.append(_delegate(cls, t))
            weights.append(share)

    def on_start(self: User) -> None:
        self.tb_delegates = {}  # type: ignore[attr-defined]
        for cls in classes:
            if self.environment.host:
                cls.host = self.environment.host
            inst = cls(self.environment)
            self.tb_delegates[cls] = inst  # type: ignore[attr-defined]
            inst.on_start()

    def on_stop(self: User) -> None:
        for inst in getattr(self, "tb_delegates", {}).values():
            try:
                inst.on_stop()
            except Exception as exc:
                log.debug("on_stop failed: %r", exc)

    attrs: dict[str, Any] = {
        "tasks": [run_schedule],
        "wait_time": constant(0),
        "tb_ops": ops,
        "tb_weights": weights,
        "tb_open_user": True,
        "tb_delegate_classes": tuple(classes),
        "weight": 1,
        "fixed_count": 0,
        "abstract": False,
        "on_start": on_start,
        "on_stop": on_stop,
        "__module__": __name__,
    }
    return type("TwinbenchOpenScheduler", (User,), attrs)


def _delegate(cls: type[User], fn: Op) -> Op:
    def op(scheduler: Any) -> None:
        fn(scheduler.tb_delegates[cls])

    return op


def set_pool_size(cls: type[User], cap: int) -> None:
    """FastHttpUser keeps `concurrency` connections per user: the scheduler needs `cap`
    (a team's HttpUser gets a connection pool of `cap` too)."""
    for c in getattr(cls, "tb_delegate_classes", (cls,)):
        if hasattr(c, "concurrency"):
            c.concurrency = cap  # type: ignore[attr-defined]
        elif hasattr(c, "pool_manager") and c.pool_manager is None:  # type: ignore[attr-defined]
            from urllib3 import PoolManager

            c.pool_manager = PoolManager(maxsize=cap)  # type: ignore[attr-defined]
