"""`twinbench run`: plan the cells, bring up the database and upstream, run every scenario.

Order of work: check everything that can be checked before a process starts (options, CPUs,
ports, database), write run.json, then scenario by scenario (scenario_run.py). Children are
started from this (main) thread, so the kernel's parent-death signal stays tied to a thread
that lives as long as the run; `finally` stops every one of them on any exit, Ctrl-C included.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from twinbench import __version__
from twinbench.analysis.capacity import capacities
from twinbench.analysis.index import build_index
from twinbench.apps.common.settings import DatabaseKind, DatabaseURL
from twinbench.define.claims import Claim
from twinbench.define.plan import DEFAULT_COST, CostModel, RunPlan, build_plan, estimate_seconds
from twinbench.define.profiles import Level, Profile
from twinbench.define.scenarios import Scenario
from twinbench.define.targets import Target
from twinbench.results.model import (
    SCHEMA_VERSION,
    CellResult,
    CellStatus,
    MicroResults,
    Pinning,
    RunInfo,
    RunSummary,
    Slo,
    TargetConfig,
    from_json,
)
from twinbench.results.store import ResultsWriter, load_run
from twinbench.run.database import init_database
from twinbench.run.instances import Servers
from twinbench.run.locust import LocustRun
from twinbench.run.machine import git_info, machine_info, package_versions
from twinbench.run.ports import check_port_free, free_port
from twinbench.run.process import ManagedProcess, ProcessSpec
from twinbench.run.progress import RunProgress
from twinbench.run.sampler import Sampler
from twinbench.run.scenario import Context, ScenarioRun, reap
from twinbench.run.servers import ServeConfig, upstream_process

HOST = "127.0.0.1"


@dataclass(frozen=True)
class RunOptions:
    profile: Profile
    targets: tuple[Target, ...]
    scenarios: tuple[Scenario, ...]
    out_dir: Path
    run_id: str
    database: DatabaseURL
    repeats: int
    target_cpus: tuple[int, ...]
    loader_cpus: tuple[int, ...]
    loader_workers: int
    slo: Slo
    max_seconds: float
    command: tuple[str, ...]
    target_sources: Mapping[str, str]  # target name → "builtin" or the config file
    access_log: bool = False  # servers log every request to stdout (tests count them)
    base_port: int | None = None  # fixed ports: upstream on it, servers on the next ones
    remote_workers: int = 0  # Locust workers started by hand elsewhere (README)
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    target_host: str = HOST  # where servers listen; another address only for remote workers
    pin_self: bool = False  # pin this process to the loader CPUs (the CLI does)
    show_progress: bool = True
    micro: bool = True  # run the in-process micro-benchmarks (micro.json) at the end
    levels: tuple[Level, ...] | None = None  # --users/--rates: every scenario's ladder
    claims: tuple[Claim, ...] = ()  # the config file's [[claim]]s, stored in run.json
    # Called just before each scenario's Locust starts (the gate's duet pairs meet there, so
    # two runs' windows coincide: run/duet.py). Not stored.
    before_load: Callable[[], None] | None = None
    # The caller created and seeded the database already (run/duet.py: two runs seeding one
    # SQLite file at once would lock each other out).
    database_ready: bool = False


def database_location(db: DatabaseURL) -> str:
    if db.kind is DatabaseKind.SQLITE:
        return f"SQLite file {db.sqlite_path}, opened inside each target process (target CPUs)"
    return f"PostgreSQL {db.display}: a system service, not pinned (any CPU)"


def _target_config(t: Target, opts: RunOptions) -> TargetConfig:
    workers = t.default_workers(len(opts.target_cpus))
    cfg = ServeConfig(t, HOST, 0, workers, t.threads, opts.target_cpus, opts.database, "")
    return TargetConfig(
        name=t.name,
        app=t.app.value,
        server=t.server.value,
        worker_model=t.worker_model.value,
        workers=workers,
        threads=t.threads,
        db_pool_size=cfg.pool_size,
        label=t.label,
        description=t.description,
        source=opts.target_sources.get(t.name, "builtin"),
        antipattern=t.antipattern,
        url=t.url,
        pid_file=t.pid_file,
        cwd=t.cwd,
    )


def run_info(opts: RunOptions, plan: RunPlan, upstream_url: str) -> RunInfo:
    return RunInfo(
        schema_version=SCHEMA_VERSION,
        run_id=opts.run_id,
        started_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        twinbench_version=__version__,
        command=opts.command,
        git=git_info(Path.cwd()),  # the project being measured, not twinbench's own
        packages=package_versions(),
        machine=machine_info(),
        pinning=Pinning(
            target_cpus=opts.target_cpus,
            loader_cpus=opts.loader_cpus,
            upstream_cpus=opts.loader_cpus,
            harness_cpus=opts.loader_cpus if opts.pin_self else (),
            database=database_location(opts.database),
        ),
        profile=opts.profile.name,
        database=opts.database.display,
        database_kind=opts.database.kind.value,
        upstream_url=upstream_url,
        loader_workers=opts.loader_workers + opts.remote_workers,
        slo=opts.slo,
        max_seconds=opts.max_seconds,
        repeats=opts.repeats,
        targets=tuple(_target_config(t, opts) for t in opts.targets),
        scenarios=tuple(s.name for s in opts.scenarios),
        scenario_defs=tuple(opts.scenarios),
        claims=opts.claims,
        cells=plan.cells,
    )


MICRO_TIMEOUT_S = 60.0


def run_micro(cpus: tuple[int, ...], log_dir: Path, deadline: float) -> MicroResults | None:
    """`python -m twinbench.run.micro` pinned to the target CPUs; None if it fails or overruns
    (the run's cells stand without it; its stderr is in logs/)."""
    out = log_dir / "micro.json"
    proc = ManagedProcess(
        ProcessSpec(
            "micro", (sys.executable, "-m", "twinbench.run.micro", str(out)), log_dir, cpus=cpus
        )
    ).start()
    limit = min(deadline, time.monotonic() + MICRO_TIMEOUT_S)
    try:
        while proc.alive and time.monotonic() < limit:
            time.sleep(0.05)
    finally:
        proc.stop()
    if proc.returncode != 0 or not out.exists():
        return None
    return from_json(MicroResults, json.loads(out.read_text(encoding="utf-8")))


def fixed_ports(opts: RunOptions, plan: RunPlan) -> dict[tuple[str, int, int], int]:
    """--base-port: upstream on base, then one port per server instance in plan order."""
    if opts.base_port is None:
        return {}
    keys: list[tuple[str, int, int]] = []
    for sp in plan.scenarios:
        keys += [
            i.key for i in sp.instances.values() if i.key not in keys and not i.target.external
        ]
    return {k: opts.base_port + 1 + n for n, k in enumerate(keys)}


def check_ports(opts: RunOptions) -> None:
    """Fail (exit 2) before anything starts if a fixed port is taken."""
    if opts.base_port is not None:
        check_port_free(HOST, opts.base_port)
        for port in fixed_ports(opts, make_plan(opts)).values():
            check_port_free(opts.target_host, port)


def make_plan(opts: RunOptions) -> RunPlan:
    return build_plan(
        opts.profile,
        opts.targets,
        opts.scenarios,
        repeats=opts.repeats,
        target_cpus=len(opts.target_cpus),
        levels=opts.levels,
    )


def execute(opts: RunOptions, cost: CostModel = DEFAULT_COST) -> RunSummary:
    """Run the whole plan into opts.out_dir. Raises KeyboardInterrupt after cleaning up."""
    started = time.monotonic()
    deadline = started + opts.max_seconds
    plan = make_plan(opts)
    if opts.loader_workers or opts.remote_workers:
        cost = dataclasses.replace(cost, stop_tick=True)
    writer = ResultsWriter(opts.out_dir)
    log_dir = opts.out_dir / "logs"
    if opts.pin_self:
        os.sched_setaffinity(0, set(opts.loader_cpus))
    if not opts.database_ready:
        init_database(opts.database)
    sampler = Sampler().start()
    sampler.watch_cpus("loader_cpus", opts.loader_cpus)
    upstream: ManagedProcess | None = None
    servers: Servers | None = None
    stopped_early = ""
    draining: list[tuple[LocustRun, float]] = []
    try:
        up_port = opts.base_port or free_port(HOST)
        upstream = upstream_process(HOST, up_port, log_dir, cpus=opts.loader_cpus).start()
        upstream_url = f"http://{HOST}:{up_port}"
        writer.write_run(run_info(opts, plan, upstream_url))
        servers = Servers(
            host=opts.target_host,
            cpus=opts.target_cpus,
            database=opts.database,
            upstream_url=upstream_url,
            log_dir=log_dir,
            sampler=sampler,
            access_log=opts.access_log,
            ports=fixed_ports(opts, plan),
        )
        # The first servers start (target CPUs) while the upstream does (loader CPUs).
        if plan.scenarios:
            servers.ensure_all(list(plan.scenarios[0].instances.values()))
        upstream.wait_healthy(30)
        with RunProgress(len(plan.cells), enabled=opts.show_progress) as progress:
            # Estimated seconds of work left: the plan's estimate, less what is done.
            setup = time.monotonic() - started
            remaining = {"s": max(0.0, estimate_seconds(plan, cost) - setup)}

            def on_cell(result: CellResult) -> None:
                if result.window is not None:
                    c = result.config
                    remaining["s"] -= cost.phase_s(c.warmup_s, c.measure_s)
                progress.cell(result)

            def on_note(text: str) -> None:
                progress.note(text, max(0.0, remaining["s"]))

            ctx = Context(
                run_id=opts.run_id,
                writer=writer,
                servers=servers,
                sampler=sampler,
                loader_cpus=opts.loader_cpus,
                target_cpus=opts.target_cpus,
                loader_workers=opts.loader_workers,
                remote_workers=opts.remote_workers,
                master_bind=opts.master_bind,
                master_port=opts.master_port,
                work_dir=opts.out_dir / "locust",
                log_dir=log_dir,
                deadline=deadline,
                cost=cost,
                on_cell=on_cell,
                on_note=on_note,
                draining=draining,
                before_load=opts.before_load,
            )
            for i, sp in enumerate(plan.scenarios):
                ScenarioRun(ctx, sp).run()
                if sp.runnable:
                    remaining["s"] -= cost.locust_start_s
                progress.scenario_done(sp.scenario.name)
                # Stop servers no later scenario needs (e.g. the one-worker broadcast ones).
                later = {k.key for s in plan.scenarios[i + 1 :] for k in s.instances.values()}
                for key in [k for k in servers.running if k not in later]:
                    servers.stop(key)
        while draining:  # the last Locust: let it exit by itself (bounded by DRAIN_S)
            reap(draining)
            time.sleep(0.05)
        if time.monotonic() >= deadline:
            stopped_early = f"time-limit: --max-seconds {opts.max_seconds:g} reached"
        elif opts.micro and any(sc.builtin for sc in opts.scenarios):
            # the micro-benchmarks judge seed claims about the twins: not for a team's own
            servers.stop_all()  # the target CPUs to itself
            micro = run_micro(opts.target_cpus, log_dir, deadline)
            if micro is not None:
                writer.write_micro(micro)
    finally:
        reap(draining, force=True)
        if servers is not None:
            servers.stop_all()
        if upstream is not None:
            upstream.stop()
        sampler.stop()
    results = load_run(opts.out_dir)
    counts: dict[str, int] = {}
    for c in results.cells:
        counts[c.status.value] = counts.get(c.status.value, 0) + 1
    summary = RunSummary(
        run_id=opts.run_id,
        finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        elapsed_s=round(time.monotonic() - started, 3),
        stopped_early=stopped_early,
        counts={s.value: counts.get(s.value, 0) for s in CellStatus},
        capacities=capacities(build_index(results), opts.slo),
    )
    writer.write_summary(summary)
    return summary
