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
    pool = Pool(conf.cap)
    period = 1.0 / conf.rate
    late_s = conf.late_ms / 1000.0
    t0 = time.perf_counter()
    k = 0
    try:
        while True:  # bounded: the runner kills this user at the end of every phase
            intended = t0 + k * period
            k += 1
            delay = intended - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
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
            pool.spawn(_run_one, user, random.choice(ops), intended, win, late_s)
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


def set_pool_size(cls: type[User], cap: int) -> None:
    """FastHttpUser keeps `concurrency` connections per user: the scheduler needs `cap`."""
    if hasattr(cls, "concurrency"):
        cls.concurrency = cap  # type: ignore[attr-defined]
