"""One scenario of a run: its servers up, one Locust process over all its cells, records out.

Cells are written as their Locust lines arrive, so a crash or Ctrl-C loses at most the cell in
progress. The target servers are polled while Locust runs; a server that dies is restarted on
its port, the cells it was down for are failed (with its stderr tail), and cells of other
targets that overlapped the restart (it ran on the same CPUs) are marked invalid.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinbench.analysis.validity import CellVerdict, Observation, judge
from twinbench.define.plan import SETTLE_S, CostModel, ScenarioPlan, locust_plan
from twinbench.define.scenarios import find_request
from twinbench.errors import UsageError
from twinbench.results.model import CellConfig, CellResult, CellStatus, Driver, ReasonKind
from twinbench.results.store import ResultsWriter
from twinbench.run import record as cellrec
from twinbench.run.instances import Outage, Servers
from twinbench.run.locust import LocustRun, locust_cwd, locustfiles
from twinbench.run.sampler import Sampler

POLL_S = 0.2
NOT_STARTED = CellVerdict(CellStatus.SKIPPED, ReasonKind.TIME_LIMIT, "not started")
TIME_LIMIT_REACHED = CellVerdict(
    CellStatus.SKIPPED, ReasonKind.TIME_LIMIT, "the run's --max-seconds was reached"
)
LOCUST_TIMEOUT = CellVerdict(
    CellStatus.FAILED, ReasonKind.LOCUST_TIMEOUT, "Locust ran far past the plan's length"
)
LOCUST_EXITED = CellVerdict(
    CellStatus.FAILED, ReasonKind.LOCUST_EXITED, "Locust ended before this phase"
)
LOCUST_SLACK_S = 30.0  # beyond the plan's expected length before Locust is stopped
OPEN_DRAIN_ALLOWANCE_S = 3.0  # per open-model phase: in-flight requests finish after a window
DRAIN_S = 5.0  # a finished Locust gets this long to exit by itself before it is stopped


def reap(draining: list[tuple[LocustRun, float]], force: bool = False) -> None:
    """Stop finished Locust processes that exited, or ran out of time, or all (force)."""
    for item in list(draining):
        locust, until = item
        if force or not locust.alive or time.monotonic() >= until:
            locust.stop()
            draining.remove(item)


@dataclass(frozen=True)
class Context:
    run_id: str
    writer: ResultsWriter
    servers: Servers
    sampler: Sampler
    loader_cpus: tuple[int, ...]
    target_cpus: tuple[int, ...]
    loader_workers: int
    remote_workers: int
    master_bind: str
    master_port: int | None
    work_dir: Path
    log_dir: Path
    deadline: float  # time.monotonic() at which the run must stop
    cost: CostModel
    on_cell: Callable[[CellResult], None]
    on_note: Callable[[str], None]
    draining: list[tuple[LocustRun, float]]  # finished Locust runs left to exit on their own
    before_load: Callable[[], None] | None = None  # RunOptions.before_load


def _write_unmeasured(ctx: Context, cfg: CellConfig, verdict: CellVerdict, tail: str = "") -> None:
    result = cellrec.unmeasured_result(cfg, verdict, tail)
    rows = cellrec.metric_rows(ctx.run_id, cfg, verdict.status, verdict.reason, {})
    ctx.writer.write_cell(result, rows, None)
    ctx.on_cell(result)


def _overlaps(a0: int, a1: int, b0: int, b1: int | None) -> bool:
    return a0 <= (b1 if b1 is not None else time.time_ns()) and b0 <= a1


class ScenarioRun:
    def __init__(self, ctx: Context, sp: ScenarioPlan) -> None:
        self.ctx = ctx
        self.sp = sp
        self.pending: dict[str, CellConfig] = {}
        self.order: list[str] = []
        # (server, its start) → the most connections it held so far and its RSS peak then
        # (see cells.Resources.held_before): a restarted server starts from nothing again
        self.held: dict[tuple[tuple[str, int, int], int], tuple[float, int]] = {}
        self.main_checked = False

    # -- the measured cell --------------------------------------------------------------
    def _record(self, raw: dict[str, Any]) -> None:
        ctx = self.ctx
        try:
            line = cellrec.parse_line(raw)
        except (KeyError, TypeError, ValueError):
            return  # not a phase line we understand; its cell fails at the end
        cfg = self.pending.pop(line.phase_id, None)
        if cfg is None:
            return
        self._check_main_request(line)
        # Phases before this one that never got a line: Locust dropped their window.
        for cid in [c for c in self.order if c in self.pending]:
            if self.order.index(cid) < self.order.index(cfg.cell_id):
                _write_unmeasured(
                    ctx,
                    self.pending.pop(cid),
                    CellVerdict(
                        CellStatus.FAILED,
                        ReasonKind.NO_OUTPUT,
                        "Locust wrote no line for this phase (a window's reports were lost)",
                    ),
                )
        inst = self.sp.instances[cfg.target]
        w = line.window
        ctx.sampler.sample_now()  # a reading after the window end, for interpolation
        running = ctx.servers.running.get(inst.key)
        key = running.sampler_key if running else ""
        held_key = (inst.key, running.starts if running else 0)
        held_before, peak_before = self.held.get(held_key, (0.0, 0))
        tgt = ctx.sampler.usage(key, w.t_measure_start_ns, w.t_measure_end_ns, w.t_start_ns)
        loader = ctx.sampler.usage("loader", w.t_measure_start_ns, w.t_measure_end_ns)
        busy = ctx.sampler.usage("loader_cpus", w.t_measure_start_ns, w.t_measure_end_ns)
        # An external target without a pid file has no process tree here: its CPU and
        # memory are not measured (None), never read as zero.
        measured = running is not None and inst.target.resources_measured
        res = cellrec.Resources(
            target_cpu_s=tgt.cpu_s if measured else None,
            target_cpus=len(ctx.target_cpus),
            target_rss_max=(tgt.rss_max or None) if measured else None,
            target_rss_before=(tgt.rss_before or None) if measured else None,
            loader_cpu_s=loader.cpu_s if loader.samples else None,
            loader_cpus_busy_s=busy.cpu_s if busy.samples else None,
            loader_cpus=len(ctx.loader_cpus),
            loader_processes=max(1, ctx.loader_workers),
            held_before=held_before,
            rss_peak_before=peak_before,
        )
        died: Outage | None = None
        restart: Outage | None = None
        t0, t1 = w.t_start_ns, w.t_measure_end_ns
        for o in ctx.servers.outages:
            if o.key == inst.key and (_overlaps(t0, t1, o.down_ns, o.up_ns) or running is None):
                died = o
            elif _overlaps(t0, t1, o.restart_ns, o.up_ns):
                restart = o
        util, cpus_busy = cellrec.loader_utilisation(line, res)
        verdict = judge(
            Observation(
                driver=cfg.driver,
                rate=cfg.rate,
                measure_s=w.measure_s,
                requests=cellrec.main_request(line, self.sp.scenario)[1].count,
                loader_cpu_util=util,
                loader_cpus_busy=cpus_busy,
                open=line.open,
                target_exit=died.exit if died else "",
                unsettled_after_s=(
                    line.settle.waited_s if line.settle and not line.settle.settled else None
                ),
                held=cellrec.connections_held(line) if self.sp.scenario.connections else None,
                users=cfg.users,
                users_started=line.users_started,
                loader_workers=ctx.loader_workers + ctx.remote_workers,
                loader_reported=line.loader_processes,
                total=line.total.count - (line.open.dropped if line.open else 0),
                failures=line.total.failures - (line.open.dropped if line.open else 0),
                errors=line.errors,
            )
        )
        if verdict.status is CellStatus.OK and restart is not None:
            verdict = CellVerdict(
                CellStatus.INVALID,
                ReasonKind.TARGET_CPUS_SHARED,
                f"{restart.target} was restarting on the target CPUs",
            )
        result = cellrec.measured_result(cfg, line, verdict)
        if died is not None:
            result = dataclasses.replace(result, stderr_tail=died.stderr_tail)
        values = cellrec.figures(line, res, self.sp.scenario)
        self.held[held_key] = (
            max(held_before, cellrec.connections_held(line)),
            max(peak_before, res.target_rss_max or 0),
        )
        rows = cellrec.metric_rows(ctx.run_id, cfg, verdict.status, verdict.reason, values)
        ctx.writer.write_cell(result, rows, cellrec.histograms(line))
        ctx.on_cell(result)

    def _check_main_request(self, line: cellrec.PhaseLine) -> None:
        """A team's `main_request` that its locustfile never sent (a typo, a renamed request)
        would leave every headline and claim without data: after the first phase with
        requests, stop the run with the names the file does send."""
        sc = self.sp.scenario
        if sc.builtin or sc.main_request is None or self.main_checked or not line.requests:
            return
        self.main_checked = True
        if find_request(sc.main_request, line.requests) is None:
            sent = ", ".join(repr(n) for n in sorted(line.requests))
            raise UsageError(
                f"{sc.source}: scenario {sc.name}: main_request {sc.main_request!r} was not "
                f"sent in the first phase; {Path(sc.locustfile).name} sends {sent}"
            )

    # -- the scenario -------------------------------------------------------------------
    def _expected_s(self, cells: tuple[CellConfig, ...]) -> float:
        c = self.ctx.cost
        # Each phase may also wait up to SETTLE_S for its target (plan.SETTLE_S).
        per = sum(c.phase_s(x.warmup_s, x.measure_s) + SETTLE_S for x in cells)
        if self.sp.driver is Driver.OPEN:
            per += OPEN_DRAIN_ALLOWANCE_S * len(cells)
        return c.locust_start_s + per

    def _stop_stale_servers(self) -> None:
        """Stop running servers this scenario must not inherit; `run` starts them afresh."""
        ctx, sp = self.ctx, self.sp
        for inst in sp.instances.values():
            running = ctx.servers.running.get(inst.key)
            if running is None:
                continue
            if sp.scenario.connections:
                # Fresh servers: memory an earlier scenario left in the allocator would be
                # reused by new connections and hide what each costs (Resources.held_before).
                ctx.servers.stop(inst.key)
            elif not running.proc.answers_promptly():
                # Still answering requests an overloaded earlier scenario left queued (a sync
                # pool can take minutes): a restart costs seconds, and no cell is running.
                ctx.on_note(f"{sp.scenario.name}: restarting {inst.target.name} (backlogged)")
                ctx.servers.stop(inst.key)

    def run(self) -> None:
        ctx, sp = self.ctx, self.sp
        name = sp.scenario.name
        if time.monotonic() >= ctx.deadline:
            for pc in sp.cells:
                _write_unmeasured(ctx, pc.config, NOT_STARTED)
            return
        for pc in sp.cells:
            if pc.unsupported:
                _write_unmeasured(
                    ctx,
                    pc.config,
                    CellVerdict(CellStatus.UNSUPPORTED, ReasonKind.UNSUPPORTED, pc.unsupported),
                )
        self._stop_stale_servers()
        missing = [i for i in sp.instances.values() if i.key not in ctx.servers.running]
        if missing:
            ctx.on_note(f"{name}: starting {', '.join(i.target.name for i in missing)}")
        down = ctx.servers.ensure_all(missing)
        runnable = []
        for cfg in sp.runnable:
            if cfg.target in down:
                err = down[cfg.target]
                failed = CellVerdict(CellStatus.FAILED, ReasonKind.START_FAILED, str(err))
                _write_unmeasured(ctx, cfg, failed, err.stderr_tail)
            else:
                runnable.append(cfg)
        if not runnable:
            return
        self.order = [c.cell_id for c in runnable]
        self.pending = {c.cell_id: c for c in runnable}
        keep = {c.cell_id for c in runnable}
        filtered = dataclasses.replace(
            sp, cells=tuple(pc for pc in sp.cells if pc.config.cell_id in keep)
        )
        hosts = {
            t: ctx.servers.running[i.key].config.base_url
            for t, i in sp.instances.items()
            if t not in down
        }
        locust = LocustRun(
            scenario=name,
            locustfile=locustfiles(sp.scenario),
            cwd=locust_cwd(sp.scenario),
            plan=locust_plan(filtered, hosts),
            work_dir=ctx.work_dir,
            log_dir=ctx.log_dir,
            cpus=ctx.loader_cpus,
            workers=ctx.loader_workers,
            remote_workers=ctx.remote_workers,
            master_bind=ctx.master_bind,
            master_port=ctx.master_port,
        )
        if ctx.before_load is not None:
            ctx.before_load()  # may wait for a partner run (the gate's duet pairs)
        limit = time.monotonic() + self._expected_s(tuple(runnable)) + LOCUST_SLACK_S
        stopped: CellVerdict | None = None
        finished = False
        ctx.on_note(f"{name}: starting Locust")
        locust.start()
        ctx.sampler.watch_tree("loader", locust.tree)
        try:
            while self.pending:
                # Servers first: a server that died before a window ended is dead by the time
                # that window's line can be read, so its cell is judged with the outage known.
                polled = time.monotonic()
                if ctx.servers.poll():
                    limit += time.monotonic() - polled  # a restart is not Locust's delay
                for raw in locust.new_lines():
                    self._record(raw)
                if not locust.alive:
                    for raw in locust.new_lines():
                        self._record(raw)
                    break
                now = time.monotonic()
                if now >= ctx.deadline:
                    stopped = TIME_LIMIT_REACHED
                    break
                if now >= limit:
                    stopped = LOCUST_TIMEOUT
                    break
                if self.pending:
                    ctx.on_note(f"{name}: {next(iter(self.pending))}")
                reap(ctx.draining)
                time.sleep(POLL_S)
            finished = not self.pending
        finally:
            ctx.sampler.unwatch("loader")
            if finished and locust.alive and ctx.master_port is None:
                # Every phase is in: Locust stops by itself on its next tick and prints its
                # summary; let it, while the next scenario starts (it is idle by now).
                ctx.draining.append((locust, time.monotonic() + DRAIN_S))
            elif finished and locust.alive:
                # A master on a fixed port (remote workers): the next scenario's master needs
                # that port, so this one must be gone first; it exits by itself (and prints
                # its summary) on its next tick, SIGTERM would cut the summary short.
                until = time.monotonic() + DRAIN_S
                while locust.alive and time.monotonic() < until:
                    time.sleep(0.05)
                locust.stop()
            else:
                locust.stop()
        tail = locust.stderr_tail()
        for cfg in list(self.pending.values()):
            verdict = stopped or LOCUST_EXITED
            _write_unmeasured(
                ctx, cfg, verdict, tail if verdict.status is CellStatus.FAILED else ""
            )
        self.pending.clear()
