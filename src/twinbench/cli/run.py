"""`twinbench run`: options → RunOptions (every check before any process starts) → runner."""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import click

from twinbench.analysis.validity import DEFAULT_SLO
from twinbench.define import profiles
from twinbench.define import scenarios as scenario_catalogue
from twinbench.define.profiles import Level
from twinbench.define.targets import BUILTIN_TARGETS, Registry
from twinbench.errors import UsageError
from twinbench.inputs import load_config
from twinbench.results.model import Slo
from twinbench.results.store import check_out_dir, new_run_id
from twinbench.run.cpus import available_cpus, check_available, format_cpu_list, parse_cpu_list
from twinbench.run.database import check_reachable, resolve_database
from twinbench.run.locust import check_locustfile
from twinbench.run.ports import is_loopback
from twinbench.run.runner import RunOptions, check_ports, execute, make_plan
from twinbench.run.servers import check_external


def _split(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def default_cpus() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Target on the first half of the CPUs, Locust on the rest (2 cores: 0 and 1)."""
    have = available_cpus()
    if len(have) < 2:
        raise UsageError("twinbench run needs 2 CPUs: one for the target, one for Locust")
    half = len(have) // 2
    return have[:half], have[half:]


def _numbers(flag: str, text: str, kind: type[int] | type[float]) -> list[float]:
    out: list[float] = []
    for part in text.split(","):
        try:
            value = kind(part.strip())
        except ValueError:
            raise UsageError(f"{flag} {text!r}: {part.strip()!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"{flag} {text!r}: {part.strip()!r} must be a finite number above 0")
        out.append(value)
    return out


def with_windows(
    prof: profiles.Profile, warmup_s: float | None, measure_s: float | None
) -> profiles.Profile:
    """The profile with --warmup-s / --measure-s applied to every scenario, each keeping its
    own value of the one not given (upstream's long warm-up survives --measure-s 5)."""

    def merged(t: profiles.Timing) -> profiles.Timing:
        return profiles.Timing(
            warmup_s if warmup_s is not None else t.warmup_s,
            measure_s if measure_s is not None else t.measure_s,
        )

    return dataclasses.replace(
        prof,
        warmup_s=merged(profiles.Timing(prof.warmup_s, prof.measure_s)).warmup_s,
        measure_s=merged(profiles.Timing(prof.warmup_s, prof.measure_s)).measure_s,
        timing={name: merged(t) for name, t in prof.timing.items()},
    )


def parse_levels(users: str | None, rates: str | None) -> tuple[Level, ...] | None:
    """--users/--rates → a ladder (None: the profile's). With both, users cap the in-flight
    requests of each open-model level (one cap, or one per rate)."""
    if not users and not rates:
        return None
    u = [int(x) for x in _numbers("--users", users, int)] if users else []
    if not rates:
        return tuple(Level(users=n) for n in u)
    r = _numbers("--rates", rates, float)
    if len(u) > 1 and len(u) != len(r):
        raise UsageError(f"--users {users!r}: give one in-flight cap, or one per rate in --rates")
    caps: list[int | None] = [u[0]] * len(r) if len(u) == 1 else list(u) or [None] * len(r)
    return tuple(Level(users=c, rate=x) for c, x in zip(caps, r, strict=True))


def _checked(sc: scenario_catalogue.Scenario) -> scenario_catalogue.Scenario:
    info = check_locustfile(sc)
    return sc if info.open_model else dataclasses.replace(sc, open_model=False)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up exactly like Ctrl-C


@click.command()
@click.option(
    "--profile",
    type=click.Choice([p.name for p in profiles.PROFILES]),
    default="quick",
    show_default=True,
    help="smoke (≤ 90 s, every scenario once on 2 targets), quick (≤ 5 min, 3 targets, "
    "3 repeats), full (≤ 45 min, every target but the anti-patterns, step ladders for "
    "capacity), naive (≤ 5 min: the naive FastAPI ports beside idiomatic FastAPI and Flask, "
    "database and slow-upstream scenarios).",
)
@click.option("--targets", help="Comma-separated target names [default: the profile's].")
@click.option(
    "--scenarios",
    help="Comma-separated scenario names, built-in or the --config file's [default: all "
    "built-in ones, or the config file's].",
)
@click.option("--out", type=click.Path(path_type=Path), help="Results folder [results/<run-id>].")
@click.option(
    "--database",
    envvar="TWINBENCH_DATABASE_URL",
    help="postgresql://user@host:port/db or sqlite:///path [default: .twinbench/ SQLite file].",
)
@click.option("--repeats", type=click.IntRange(1, 100), help="Repeats per cell [profile's].")
@click.option("--target-cpus", help="CPUs for the target servers, e.g. 0 [first half].")
@click.option("--loader-cpus", help="CPUs for Locust and the mock upstream, e.g. 1 [the rest].")
@click.option(
    "--loader-workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="0: one Locust process; N: a Locust master and N workers on the loader CPUs.",
)
@click.option(
    "--remote-workers",
    type=click.IntRange(0, 1024),
    default=0,
    show_default=True,
    help="Locust workers you start on other machines (README: Running benchmarks); the "
    "master waits for them. Needs --master-bind and --master-port.",
)
@click.option(
    "--master-bind", default="127.0.0.1", show_default=True, help="Locust master address."
)
@click.option("--master-port", type=click.IntRange(1, 65535), help="Locust master port.")
@click.option(
    "--target-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the servers listen on (another one only so remote workers reach them).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML file of your own targets, scenarios (your locustfile) and claims "
    "([[target]], [[scenario]], [[claim]]; README: Measure your own service). With "
    "scenarios and targets in it, those are the defaults.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow non-loopback addresses (database, --target-host, --master-bind).",
)
@click.option(
    "--slo-p99-ms",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_SLO.p99_ms,
    show_default=True,
    help="Step ladders: a level counts towards capacity only if its p99 is at most this.",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=1),
    help="Hard time limit; cells not started by then are recorded as skipped [profile's].",
)
@click.option(
    "--base-port",
    type=click.IntRange(1, 65535),
    help="Fixed loopback ports: the upstream on it, servers on the next ones [free ports].",
)
@click.option(
    "--users",
    help="Closed model: users per load level, e.g. 16 or 8,64,256 (several: a step ladder); "
    "replaces the profile's levels of every chosen scenario.",
)
@click.option(
    "--rates",
    help="Open model: requests per second per level, e.g. 500 or 250,1000,4000; latency is "
    "counted from each request's intended send time. With --users, the in-flight cap.",
)
@click.option(
    "--measure-s",
    type=click.FloatRange(min=0.1),
    help="Measured seconds per cell [profile's]. Warm-up: --warmup-s.",
)
@click.option(
    "--warmup-s",
    type=click.FloatRange(min=0.0),
    help="Seconds of warm-up per cell, never counted [profile's].",
)
@click.option("--no-progress", is_flag=True, help="No live progress display.")
@click.option("--server-access-log", is_flag=True, hidden=True, help="Servers log requests.")
def run(
    profile: str,
    targets: str | None,
    scenarios: str | None,
    out: Path | None,
    database: str | None,
    repeats: int | None,
    target_cpus: str | None,
    loader_cpus: str | None,
    loader_workers: int,
    remote_workers: int,
    master_bind: str,
    master_port: int | None,
    target_host: str,
    config_path: Path | None,
    allow_remote: bool,
    slo_p99_ms: float,
    max_seconds: float | None,
    base_port: int | None,
    users: str | None,
    rates: str | None,
    measure_s: float | None,
    warmup_s: float | None,
    no_progress: bool,
    server_access_log: bool,
) -> None:
    """Measure targets × scenarios and write a results folder.

    \b
    A CELL is one target × scenario × load level × repeat: one Locust phase, a warm-up
    (never counted) then a measured window. Cells are interleaved (A B A B, repeat by
    repeat), the target pinned to --target-cpus and Locust to --loader-cpus.
    Every cell ends as one of:
      ok           measured, and the numbers describe the target
      invalid      measured, but Locust was the bottleneck (its CPUs ≥ 90 % busy, or the
                   open model missed its send rate by > 5 %): never reported as capacity
      failed       the target died or did not start (its stderr tail is kept); the run
                   goes on and restarts it for later cells
      unsupported  the target cannot serve the scenario (e.g. WebSocket on sync workers)
      skipped      --max-seconds came first

    \b
    Results: results/<run-id>/ with run.json, cells.jsonl, metrics.csv (pandas-ready),
    hist/ (raw HdrHistograms) and complete.json (docs/results-format.md).

    \b
    Examples:
      twinbench run --profile smoke
      twinbench run --targets fastapi-uvicorn,flask-gunicorn-gevent --scenarios json,db
      twinbench run --profile full --database postgresql://root@127.0.0.1:5432/test
      twinbench run --config twinbench.toml --targets my-app,fastapi-uvicorn
      twinbench run --loader-workers 2 --target-cpus 0-1 --loader-cpus 2-3
      twinbench run --scenarios upstream --users 8,64,512 --measure-s 5   # a step ladder
      twinbench run --scenarios db --rates 500,2000 --users 1000          # open model
    """
    prof = profiles.get(profile)
    if measure_s is not None or warmup_s is not None:
        prof = with_windows(prof, warmup_s, measure_s)
    ladder = parse_levels(users, rates)
    config = load_config(config_path) if config_path else None
    extra = config.targets if config else ()
    own = config.scenarios if config else ()
    registry = Registry((*BUILTIN_TARGETS, *extra))
    # A config file with its own scenarios and targets runs those by default.
    default_targets = [t.name for t in extra] if own and extra else None
    chosen = registry.select(
        _split(targets) or default_targets or list(prof.targets or registry.standard_names)
    )
    chosen_scenarios = scenario_catalogue.select(
        _split(scenarios) or (None if own else list(prof.scenarios)), own
    )
    # A team's locustfile is loaded in Locust now, before anything starts: one that does not
    # import or defines no User is one line here, not a failed run.
    chosen_scenarios = tuple(sc if sc.builtin else _checked(sc) for sc in chosen_scenarios)
    for t in chosen:
        if t.external:  # measured where it runs: it must answer before anything starts
            check_external(t, allow_remote)
    if target_cpus or loader_cpus:
        default_t, default_l = default_cpus()
        t_cpus = check_available(parse_cpu_list(target_cpus)) if target_cpus else default_t
        l_cpus = check_available(parse_cpu_list(loader_cpus)) if loader_cpus else default_l
    else:
        t_cpus, l_cpus = default_cpus()
    shared = sorted(set(t_cpus) & set(l_cpus))
    if shared:
        raise UsageError(
            f"--target-cpus {format_cpu_list(t_cpus)} and --loader-cpus "
            f"{format_cpu_list(l_cpus)} overlap on CPU {shared[0]}: they must be disjoint"
        )
    for flag, addr in (("--master-bind", master_bind), ("--target-host", target_host)):
        if not is_loopback(addr) and not allow_remote:
            raise UsageError(f"{flag} {addr} is not loopback; pass --allow-remote to allow it")
    if remote_workers and master_port is None:
        raise UsageError("--remote-workers needs --master-port, so the workers can find it")
    db = resolve_database(database)
    host = urlsplit(db.url).hostname if db.kind.value != "sqlite" else None
    if host and not is_loopback(host) and not allow_remote:
        raise UsageError(f"--database host {host} is not loopback; pass --allow-remote to allow it")
    check_reachable(db)
    run_id = new_run_id()
    opts = RunOptions(
        profile=prof,
        targets=tuple(chosen),
        scenarios=chosen_scenarios,
        out_dir=out or Path("results") / run_id,
        run_id=run_id,
        database=db,
        repeats=repeats or prof.repeats,
        target_cpus=t_cpus,
        loader_cpus=l_cpus,
        loader_workers=loader_workers,
        slo=Slo(slo_p99_ms, DEFAULT_SLO.max_error_rate),
        max_seconds=max_seconds or prof.max_seconds,
        command=("twinbench", *sys.argv[1:]),
        target_sources={t.name: str(config_path) for t in extra},
        claims=config.claims if config else (),
        pin_self=True,
        show_progress=not no_progress,
        access_log=server_access_log,
        base_port=base_port,
        remote_workers=remote_workers,
        master_bind=master_bind,
        master_port=master_port,
        target_host=target_host,
        levels=ladder,
    )
    make_plan(opts)  # a ladder a scenario cannot run (rates on SSE, ...) fails here
    check_ports(opts)
    check_out_dir(opts.out_dir)  # last: it creates the (empty) folder
    click.echo(f"twinbench: run {run_id} → {opts.out_dir}", err=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = execute(opts)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    counts = ", ".join(f"{n} {s}" for s, n in summary.counts.items() if n)
    click.echo(f"twinbench: {summary.elapsed_s:.0f} s, cells: {counts}; results in {opts.out_dir}")
