"""Runs phases: the plan-driven LoadTestShape, the measurement windows, the distributed merge.

Roles: the local runner and the master drive (shape, windows, output); workers (and the local
runner, which talks to itself through `LocalRunner.send_message`) record. Messages:

- `tb_phase`  driver -> recorders: model, per-process open rate and in-flight cap, before spawn
- `tb_window` driver -> recorders: `{"op": "open"|"close", "seq": k}`
- `tb_report` recorder -> driver: `{"seq": k, "report": PhaseRecorder.to_dict()}`
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import gevent
from gevent.event import Event
from locust import LoadTestShape, User
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, Runner, WorkerRunner

from . import output
from .openmodel import set_pool_size
from .plan import Phase, Plan
from .recorder import merge
from .settle import wait_quiet
from .state import STATE, PhaseConf, sleep_precise

log = logging.getLogger(__name__)

SPAWN_PER_S_FACTOR = 5.0  # closed model: spawn all users in ~0.2 s
STOP_RATE = 10_000.0  # users are killed, not ramped down: any high rate will do
POLL_S = 0.02
REPORT_GRACE_S = 15.0  # besides the drain, how long the driver waits for recorders' reports
LOST_POLL_S = 0.25  # while waiting for reports: how often to look for a lost worker


def loader_processes(runner: Runner) -> int:
    return max(1, runner.worker_count) if isinstance(runner, MasterRunner) else 1


class Recorders:
    """The recorder side of the protocol (every process that runs users)."""

    def __init__(self, env: Environment, open_cls: type[User] | None) -> None:
        self.env = env
        self.open_cls = open_cls

    def register(self, runner: Runner) -> None:
        runner.register_message("tb_phase", self.on_phase)
        # concurrent: closing may wait for the open model's in-flight requests (the drain)
        runner.register_message("tb_window", self.on_window, concurrent=True)

    def on_phase(self, environment: Environment, msg: Any, **_: Any) -> None:
        d = msg.data
        STATE.begin_phase()
        STATE.model_open = d["model"] == "open"
        STATE.params = dict(d.get("params") or {})
        if STATE.model_open:
            STATE.phase_conf = PhaseConf(rate=d["rate"], cap=d["cap"], late_ms=d["late_ms"])
            if self.open_cls is not None:
                set_pool_size(self.open_cls, d["cap"])

    def on_window(self, environment: Environment, msg: Any, **_: Any) -> None:
        d = msg.data
        if d["op"] == "open":
            STATE.open_window(d["seq"])
        elif d["op"] == "close":
            report = STATE.close_window(d["seq"], float(d.get("drain_s", 0.0)))
            if report is not None:
                environment.runner.send_message("tb_report", {"seq": d["seq"], "report": report})


class Driver:
    """Drives measured windows and writes the output (local runner or master)."""

    def __init__(self, env: Environment, scenario: str, out_path: str, opts: Any) -> None:
        self.env = env
        self.scenario = scenario
        self.out_path = out_path
        self.opts = opts
        self.seq = 0
        self.reports: dict[int, list[dict[str, Any]]] = {}
        self.expected = 1
        self.got_all = Event()
        self.stopping = False  # the run is being torn down: discard what is in progress
        self.params: dict[str, Any] = {}  # the plan's "params", forwarded to every recorder

    @property
    def runner(self) -> Runner:
        assert self.env.runner is not None
        return self.env.runner

    def register(self, runner: Runner) -> None:
        runner.register_message("tb_report", self.on_report)

    def on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        d = msg.data
        bucket = self.reports.get(d["seq"])
        if bucket is None:
            return  # a late report of an abandoned window
        bucket.append(d["report"])
        if len(bucket) >= self.expected:
            self.got_all.set()

    def send_phase(self, model: str, rate: float | None, cap: int) -> None:
        n = loader_processes(self.runner)
        self.runner.send_message(
            "tb_phase",
            {
                "model": model,
                "rate": (rate or 0.0) / n,
                "cap": max(1, math.ceil(cap / n)),
                "late_ms": float(self.opts.tb_late_ms),
                "params": self.params,
            },
        )

    def open_window(self) -> int:
        self.seq += 1
        self.expected = loader_processes(self.runner)
        self.reports[self.seq] = []
        self.got_all.clear()
        self.runner.send_message("tb_window", {"op": "open", "seq": self.seq})
        return self.seq

    def close_window(self, seq: int, drain_s: float) -> dict[str, Any] | None:
        self.runner.send_message("tb_window", {"op": "close", "seq": seq, "drain_s": drain_s})
        deadline = time.monotonic() + drain_s + REPORT_GRACE_S
        while not self.got_all.wait(timeout=LOST_POLL_S):
            got = len(self.reports.get(seq, []))
            if got and got >= self.runner.worker_count and self.lost_workers():
                # A worker went missing (Locust's heartbeat): it will never report. The window
                # is written with the processes that did, and says how many those were.
                log.warning("window %d: %d of %d workers reported (lost)", seq, got, self.expected)
                break
            if time.monotonic() >= deadline:
                log.error(
                    "window %d: %d of %d reports arrived; phase not written",
                    seq,
                    got,
                    self.expected,
                )
                self.reports.pop(seq, None)
                return None
        reports = self.reports.pop(seq)
        raw_out = getattr(self.opts, "tb_raw_out", "")
        if raw_out and not self.stopping:
            for i, rep in enumerate(reports):
                output.append_line(raw_out, {"seq": seq, "process": i, **rep})
        return {**merge(reports), "loader_counts": [r["total"]["count"] for r in reports]}

    def lost_workers(self) -> bool:
        """Whether this master has fewer workers than the window opened with."""
        return isinstance(self.runner, MasterRunner) and self.runner.worker_count < self.expected

    def write(self, line: dict[str, Any]) -> None:
        if self.out_path and not self.stopping:
            output.append_line(self.out_path, line)


class PlanShape(LoadTestShape):
    """Phase by phase: stop everyone, set the host, spawn, warm up, measure, write, repeat.

    Locust calls `tick()` about once a second; the measured windows are timed by a separate
    greenlet (`_run_phase`) to the millisecond, so the tick cadence only adds idle time between
    phases (stop and spawn), never measured time.
    """

    def __init__(
        self,
        driver: Driver,
        plan: Plan,
        closed_classes: list[type[User]],
        open_cls: type[User] | None,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.plan = plan
        self.classes: list[type[User]] = (
            [open_cls] if plan.model == "open" and open_cls is not None else closed_classes
        )
        self.idx = 0
        self.stage = "stop"
        self.target: tuple[int, float, list[type[User]]] | None = None
        self.ctl: gevent.Greenlet | None = None
        self.settle: dict[str, float | bool] | None = None  # the current phase's wait

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        if self.driver.stopping or self.idx >= len(self.plan.phases):
            return None
        if self.stage == "run":
            assert self.ctl is not None and self.target is not None
            if not self.ctl.ready():
                return self.target
            self.idx += 1
            self.stage = "stop"
            if self.idx >= len(self.plan.phases):
                return None
            self._stop_users_now()
        # stage "stop": no user may survive into the next phase (it would hit the old host)
        if self.get_current_user_count() > 0:
            return (0, STOP_RATE, self.classes)
        phase = self.plan.phases[self.idx]
        if phase.settle_url and self.plan.settle_s > 0:
            self.settle = wait_quiet(phase.settle_url, self.plan.settle_s)
        else:
            self.settle = None
        return self._start_phase(phase)

    def _stop_users_now(self) -> None:
        """One process: stop every user here and now, so the next phase starts on this tick.

        Returning 0 users instead costs a whole shape tick (1 s) per phase, as long as a short
        window. A master's workers stop asynchronously, so there the 0-user tick stays.
        """
        runner = self.driver.runner
        if isinstance(runner, LocalRunner):
            running = {name: n for name, n in runner.user_classes_count.items() if n}
            if running:
                runner.stop_users(running)

    def _start_phase(self, phase: Phase) -> tuple[int, float, list[type[User]]]:
        d = self.driver
        # Workers take the host from the master's spawn message (WorkerRunner: "spawn" sets
        # environment.host = job["host"]), users read it when they are created.
        d.env.host = phase.host
        n = loader_processes(d.runner)
        if self.plan.model == "open":
            cap = phase.users if phase.users is not None else int(d.opts.tb_max_inflight)
            d.send_phase("open", phase.rate, cap)
            users, spawn_rate = n, float(n) * SPAWN_PER_S_FACTOR
        else:
            d.send_phase("closed", None, 1)
            assert phase.users is not None
            users, spawn_rate = phase.users, max(1.0, phase.users * SPAWN_PER_S_FACTOR)
        # Locust only acts on a tick that differs from the last one: two phases in a row with the
        # same users (A B A B) would otherwise look like one, and nobody would be spawned.
        spawn_rate += (self.idx % 2) * 1e-6
        self.target = (users, spawn_rate, self.classes)
        self.stage = "run"
        self.ctl = gevent.spawn(self._run_phase, phase, users, time.time_ns())
        return self.target

    def _run_phase(self, phase: Phase, users: int, t_start_ns: int) -> None:
        d = self.driver
        runner = d.runner
        # spawning is not measured: wait (bounded) until every user runs
        deadline = time.monotonic() + 30.0 + users / 50.0
        while time.monotonic() < deadline and (
            runner.user_count < users or runner.state not in ("running",)
        ):
            gevent.sleep(POLL_S)
        users_started = runner.user_count
        if users_started < users:
            log.warning("phase %s: only %d of %d users after spawn", phase.id, users_started, users)
        sleep_precise(phase.warmup_s)
        seq = d.open_window()
        t_ms = time.time_ns()
        sleep_precise(phase.measure_s)
        t_me = time.time_ns()
        drain = float(d.opts.tb_drain_s) if self.plan.model == "open" else 0.0
        merged = d.close_window(seq, drain)
        if merged is None:
            return
        d.write(
            output.phase_line(
                phase_id=phase.id,
                scenario=d.scenario,
                host=phase.host,
                model=self.plan.model,
                users=phase.users,
                rate=phase.rate,
                loader_processes=len(merged["loader_counts"]),
                t_start_ns=t_start_ns,
                t_measure_start_ns=t_ms,
                t_measure_end_ns=t_me,
                merged=merged,
                settle=self.settle,
                users_started=users_started,
            )
        )

    def abort(self) -> None:
        if self.ctl is not None:
            self.ctl.kill(block=False)


class FreeRun:
    """No plan but --tb-out: the whole (closed-model) run is one phase with id "run"."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.seq: int | None = None
        self.t_start_ns = 0
        self.t_ms = 0
        self.opener: gevent.Greenlet | None = None

    def on_test_start(self, **_: Any) -> None:
        self.t_start_ns = time.time_ns()
        # The phase begins as users start (their handshakes count); the window after warm-up.
        self.driver.send_phase("closed", None, 1)
        self.opener = gevent.spawn(self._open_after, float(self.driver.opts.tb_warmup))

    def _open_after(self, warmup: float) -> None:
        sleep_precise(warmup)
        self.seq = self.driver.open_window()
        self.t_ms = time.time_ns()

    def on_test_stopping(self, **_: Any) -> None:
        if self.opener is not None:
            self.opener.kill(block=False)
        seq, self.seq = self.seq, None
        if seq is None or self.driver.stopping:
            return
        t_me = time.time_ns()
        merged = self.driver.close_window(seq, 0.0)
        if merged is None:
            return
        env = self.driver.env
        runner = self.driver.runner
        self.driver.write(
            output.phase_line(
                phase_id="run",
                scenario=self.driver.scenario,
                host=env.host or "",
                model="closed",
                users=runner.target_user_count,
                rate=None,
                loader_processes=len(merged["loader_counts"]),
                t_start_ns=self.t_start_ns,
                t_measure_start_ns=self.t_ms,
                t_measure_end_ns=t_me,
                merged=merged,
            )
        )


__all__ = ["Driver", "FreeRun", "PlanShape", "Recorders", "WorkerRunner"]
