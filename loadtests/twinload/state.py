"""Process-local recording state, shared by the request listener, custom users and the driver.

Every Locust process (local, master or worker) has one `STATE`. A `Window` is one measured
phase on this process: requests are recorded into it only while it is open (closed model:
completion time inside the window; open model: *intended* send time inside the window).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event
from greenlet import getcurrent

from .recorder import GaugeStats, PhaseRecorder

GAUGE_SAMPLE_S = 0.05  # 20 samples/s: cheap, and fine enough for "held" gauges
MAX_PENDING = 100_000  # setup requests kept per phase (one per user; a bound, not a quota)


@dataclass
class OpenTag:
    """Attached to an open-model request greenlet (attribute `tb_open`)."""

    seq: int | None  # window whose measurement covers this request's intended time
    lag_ms: float  # actual start - intended start; added to the first request's latency


@dataclass
class Window:
    seq: int
    recorder: PhaseRecorder
    open_model: bool
    closing: bool = False
    finalized: bool = False
    inflight: int = 0  # open model: requests of this window still running
    drained: Event = field(default_factory=Event)


@dataclass
class PhaseConf:
    """What this process's open scheduler must do in the current phase."""

    rate: float  # requests/s for THIS process (the plan's rate / number of processes)
    cap: int  # concurrent in-flight requests for THIS process
    late_ms: float


class State:
    def __init__(self) -> None:
        self.scenario = ""
        self.model_open = False
        self.windows: dict[int, Window] = {}
        self.active: Window | None = None
        self.gauges: dict[str, int] = {}
        self.counter_names: list[str] = []
        self.phase_conf: PhaseConf | None = None
        self.sampler: gevent.Greenlet | None = None
        self.params: dict[str, Any] = {}  # the plan's "params" (override --tb-... options)
        # Requests a phase's users make once, as they start (a WebSocket handshake), so
        # before the window opens; kept here and carried into the window when it opens.
        self.setup_names: frozenset[str] = frozenset()
        self.pending: list[tuple[str, float | None, Any]] = []

    # -- custom users' API ---------------------------------------------------------------
    def declare(
        self, gauges: list[str], counters: list[str], setup_names: tuple[str, ...] = ()
    ) -> None:
        self.setup_names = frozenset(setup_names)
        for g in gauges:
            self.gauges.setdefault(g, 0)
        self.counter_names = sorted(set(self.counter_names) | set(counters))

    def gauge_add(self, name: str, delta: int) -> None:
        self.gauges[name] = self.gauges.get(name, 0) + delta

    def count(self, name: str, n: int = 1) -> None:
        win = self.active
        if win is not None and not win.closing:
            win.recorder.counters[name] += n

    # -- the request listener --------------------------------------------------------------
    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        exception: Any = None,
        **_: Any,
    ) -> None:
        tag: OpenTag | None = getattr(getcurrent(), "tb_open", None)
        ms = response_time
        if tag is not None:
            if tag.seq is None:
                return
            win = self.windows.get(tag.seq)
            if win is None or win.finalized:
                return
            if ms is not None:
                # Latency from the INTENDED send time, so a stalled loader or server does not
                # hide queueing (coordinated omission). Only the operation's first request
                # waited in the schedule; later ones in the same operation did not.
                ms += tag.lag_ms
                tag.lag_ms = 0.0
        else:
            win = self.active
            key = f"{request_type} {name}"
            if win is None and key in self.setup_names and not self.model_open:
                if len(self.pending) < MAX_PENDING:
                    self.pending.append((key, ms, exception))
                return
            if win is None or win.closing or win.open_model:
                # the open model records only scheduled requests (setup calls are not load)
                return
        win.recorder.record(f"{request_type} {name}", ms, exception)

    # -- windows ---------------------------------------------------------------------------
    def begin_phase(self) -> None:
        """A new phase's users are about to start: forget the last one's setup requests."""
        self.pending = []

    def open_window(self, seq: int) -> Window:
        rec = PhaseRecorder(self.model_open, sorted(self.gauges), self.counter_names)
        # This phase's users made their setup requests (handshakes) while they started,
        # before the window: they are part of what the phase measured.
        for key, ms, exc in self.pending:
            rec.record(key, ms, exc)
        self.pending = []
        win = Window(seq, rec, self.model_open)
        self.windows = {seq: win}  # older windows are finished or abandoned
        self.active = win
        self._start_sampler(win)
        return win

    def close_window(self, seq: int, drain_s: float) -> dict[str, Any] | None:
        """Stop recording; in the open model wait (bounded) for the window's in-flight requests."""
        win = self.windows.get(seq)
        if win is None:
            return None
        win.closing = True
        if self.active is win:
            self.active = None
        if win.open_model and win.inflight > 0:
            win.drained.clear()
            win.drained.wait(timeout=drain_s)
            if win.inflight > 0:
                win.recorder.errors[f"OPEN unfinished: {win.inflight} after {drain_s}s drain"] += 1
        win.finalized = True
        self._stop_sampler()
        self.windows.pop(seq, None)
        return win.recorder.to_dict()

    def discard(self) -> None:
        """Throw away whatever is being recorded (run ends, SIGTERM)."""
        self.active = None
        for win in self.windows.values():
            win.finalized = True
            win.drained.set()
        self.windows = {}
        self._stop_sampler()

    def _start_sampler(self, win: Window) -> None:
        self._stop_sampler()

        def sample() -> None:
            # bounded by the window: the driver closes or discards it, which kills us
            while not win.closing:
                for name, value in self.gauges.items():
                    win.recorder.gauges.setdefault(name, GaugeStats()).sample(value)
                gevent.sleep(GAUGE_SAMPLE_S)

        self.sampler = gevent.spawn(sample)

    def _stop_sampler(self) -> None:
        if self.sampler is not None:
            self.sampler.kill(block=False)
            self.sampler = None


STATE = State()


def now_ns() -> int:
    return time.time_ns()


def sleep_precise(seconds: float) -> None:
    """Sleep `seconds` of real time.

    libev caches "now" per loop iteration; right after a slow start-up (imports) that cache can
    be seconds old and a plain ``gevent.sleep`` returns that much too early. Refresh the cache,
    then top up against ``perf_counter`` (bounded: a few rounds at most).
    """
    end = time.perf_counter() + seconds
    for _ in range(100):
        left = end - time.perf_counter()
        if left <= 0:
            return
        gevent.get_hub().loop.update_now()
        gevent.sleep(left)
