"""`twinbench gate`: baseline against candidate, run by run, until the rule decides.

Order of work: resolve and prepare both sides (sides.py; worktrees removed on any exit),
check that every target exists on both, probe the baseline for an arrival rate (unless
--rate), then pairs in ABBA order (A B, B A, A B, ...), each run a complete `twinbench run`
of one side (its own folder under runs/, a fresh upstream and fresh servers, the server on
the target CPUs and Locust on the loader CPUs, PYTHONHASHSEED fixed). A run whose cells are
not all valid (the loader saturated, the rate missed) or whose requests failed is discarded
and run again, up to --max-discards. After each batch of pairs analysis.gate.assess says
whether to stop. --max-seconds bounds everything: when the next run would not fit, the gate
decides on what it has (a slowdown not yet confirmed is then inconclusive).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from twinbench.analysis.gate import (
    Assessment,
    CellFigures,
    GateRun,
    GateState,
    Subject,
    assess,
    complete_pairs,
    discard_reason,
)
from twinbench.analysis.gate_throughput import SaturationCell, SaturationRun
from twinbench.analysis.validity import DEFAULT_SLO
from twinbench.apps.common.settings import DatabaseURL
from twinbench.define import profiles
from twinbench.define.gate import Design, GateRule, Side
from twinbench.define.profiles import Level, Profile
from twinbench.define.scenarios import Scenario
from twinbench.errors import TwinbenchError, UsageError
from twinbench.results.gate import GateRecord, SideInfo
from twinbench.results.metrics import Metric
from twinbench.results.model import RunResults, Slo
from twinbench.results.store import load_run
from twinbench.run.duet import run_together
from twinbench.run.locust import check_locustfile
from twinbench.run.runner import RunOptions, execute
from twinbench.run.sides import (
    HASH_SEED,
    PreparedSide,
    Sides,
    gate_scenario_names,
    iter_names,
    resolve,
    side_scenario,
)

GATED = (Metric.CPU_PER_REQUEST, Metric.LATENCY_P50, Metric.LATENCY_P99)
DEFAULT_SCENARIO = "json"  # without --scenarios and without config scenarios
RUN_OVERHEAD_S = 6.0  # a run's start-up and tear-down beyond its windows (first guess)


@dataclass(frozen=True)
class GateOptions:
    baseline: str
    candidate: str
    targets: tuple[str, ...]
    # Scenario names, each built in or a [[scenario]] of the config (resolved per side, from
    # that side's copy); None: the config's own scenarios that both sides define, else json.
    scenarios: tuple[str, ...] | None
    out_dir: Path
    gate_id: str
    database: DatabaseURL
    target_cpus: tuple[int, ...]
    loader_cpus: tuple[int, ...]
    repo: Path  # the git repository revisions are taken from
    rule: GateRule = dataclasses.field(default_factory=GateRule)
    baseline_python: str | None = None
    candidate_python: str | None = None
    config: Path | None = None  # relative to each side's root
    rate: float | None = None  # None: probe the baseline
    max_seconds: float = 600.0
    max_discards: int = 6
    warmup_s: float = 2.0
    measure_s: float = 5.0
    probe_rate: float = 100.0
    # At 200 req/s a fast endpoint's CPU per request on a VM is mostly the cost of waking the
    # server for each request (uvicorn /json: ~600 µs at 200/s, ~190 µs at 600/s, 80 µs
    # saturated), so a slowdown of the code itself shows about 3× smaller than at 600/s.
    # (Pair-to-pair noise across fresh servers was the same, ±22 %, at both rates on
    # 2026-12-02.) One Locust process sent 600/s on time with a quarter of its CPU.
    max_rate: float = 600.0
    # Of the capacity the probe's CPU per request implies, for all the gate's load at once (a
    # duet's two sides take half each); the probe runs at 100 req/s and overstates the CPU
    # per request of a fast target, so the real share is lower.
    rate_share: float = 0.5
    command: tuple[str, ...] = ()
    # Throughput at saturation, reported after the verdict (never gated): closed-model runs
    # (ABBA: at most 4) at this many users, each only if it fits in --max-seconds.
    saturation_runs: int = 4
    saturation_users: int = 64
    design: Design = Design.DUET


@dataclass(frozen=True)
class RunRecord:
    """One run as gate.json keeps it (figures per subject, where its folder is)."""

    run: GateRun
    folder: str  # relative to the gate folder
    elapsed_s: float


@dataclass(frozen=True)
class GateResult:
    options: GateOptions
    sides: tuple[PreparedSide, PreparedSide]
    subjects: tuple[Subject, ...]
    rate: float
    rate_source: str  # "--rate" or how the probe found it
    runs: tuple[RunRecord, ...]
    assessment: Assessment
    saturation: tuple[SaturationRun, ...]
    saturation_folders: dict[int, str]
    elapsed_s: float
    stopped: str  # "" or why the gate stopped before the rule was done (time, discards)
    started_utc: str
    finished_utc: str


def gate_profile(warmup_s: float, measure_s: float) -> Profile:
    quick = profiles.get("quick")
    return dataclasses.replace(
        quick,
        name="gate",
        description="twinbench gate: one cell per target and scenario, open model",
        repeats=1,
        warmup_s=warmup_s,
        measure_s=measure_s,
        timing={},
    )


def abba(pair: int) -> tuple[Side, Side]:
    """Pair 1 runs A then B, pair 2 B then A, ...: drift cancels over each two pairs."""
    if pair % 2:
        return (Side.BASELINE, Side.CANDIDATE)
    return (Side.CANDIDATE, Side.BASELINE)


def _total_rows(results: RunResults) -> dict[tuple[str, str], float]:
    """Every cell's figures over all its requests, by (cell id, metric name)."""
    return {
        (r.cell_id, r.metric): r.value
        for r in results.metrics
        if r.request == "total" and r.value is not None
    }


def figures_of(folder: Path, subjects: tuple[Subject, ...]) -> tuple[dict[str, CellFigures], str]:
    """The run's figures per subject key, and why it must be discarded ("" to keep it)."""
    results = load_run(folder)
    cells: dict[str, CellFigures] = {}
    reason = ""
    rows = _total_rows(results)
    for c in results.cells:
        key = f"{c.config.scenario}/{c.config.target}"
        total = next((r for r in c.requests if r.name == "total"), None)
        requests = total.count if total else 0
        failures = total.failures if total else 0
        values = {m: rows[(c.cell_id, m.value)] for m in GATED if (c.cell_id, m.value) in rows}
        cells[key] = CellFigures(values, requests, failures)
        if reason:
            continue

        def fig(m: Metric, cell_id: str = c.cell_id) -> float | None:
            return rows.get((cell_id, m.value))

        reason = discard_reason(
            status=c.status.value,
            reason_kind=c.reason_kind.value if c.reason_kind else None,
            requests=requests,
            failures=failures,
            max_error_rate=DEFAULT_SLO.max_error_rate,
            loader_util=fig(Metric.LOADER_CPU_UTIL),
            send_ratio=fig(Metric.SEND_RATE_RATIO),
            late=fig(Metric.OPEN_LATE),
            sent=fig(Metric.OPEN_SENT),
        )
        if not reason and Metric.CPU_PER_REQUEST not in values:
            reason = "no CPU reading"
    missing = [s.key for s in subjects if s.key not in cells]
    if missing and not reason:
        reason = f"not measured: {missing[0]}"
    return cells, reason


def _at(rate: float) -> Level:
    return Level(users=None, rate=rate)


def saturation_cells(folder: Path) -> dict[str, SaturationCell]:
    """A saturation run's throughput per subject key, with its cell's status."""
    results = load_run(folder)
    rows = _total_rows(results)
    return {
        f"{c.config.scenario}/{c.config.target}": SaturationCell(
            rps=rows.get((c.cell_id, Metric.THROUGHPUT.value)),
            status=c.status.value,
            reason_kind=c.reason_kind.value if c.reason_kind else None,
            target_util=rows.get((c.cell_id, Metric.TARGET_CPU_UTIL.value)),
        )
        for c in results.cells
    }


class _Clock:
    def __init__(self, max_seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + max_seconds
        self.durations: list[float] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def fits(self, guess: float) -> bool:
        """Another run fits before the deadline (its expected length, with a margin)."""
        expect = max(self.durations[-4:]) if self.durations else guess
        return time.monotonic() + expect * 1.15 + 2.0 <= self.deadline


def _now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Gate:
    def __init__(self, opts: GateOptions, say: Callable[[str], None]) -> None:
        self.opts = opts
        self.say = say
        self.runs: list[RunRecord] = []
        self.order = 0
        self.discards = 0
        self.clock = _Clock(opts.max_seconds)
        self.scenarios: dict[Side, tuple[Scenario, ...]] = {}
        self.subjects: tuple[Subject, ...] = ()
        self.saturation_folders: dict[int, str] = {}

    def choose(self, sides: tuple[PreparedSide, PreparedSide]) -> tuple[str, ...]:
        """Each side's own definition of every scenario (UsageError before anything runs);
        returns the config scenarios left out (defined on one side only)."""
        names, left_out = gate_scenario_names(sides, self.opts.scenarios, DEFAULT_SCENARIO)
        for s in sides:
            chosen = tuple(side_scenario(s, n) for n in names)
            self.scenarios[s.side] = tuple(sc for sc in chosen if sc is not None)
            for sc in self.scenarios[s.side]:
                problem = "" if sc.open_model else "streams and sessions are closed-model only"
                if not sc.builtin and not problem:
                    # Loaded in Locust as a run will: TaskSets and the like cannot be drawn
                    # at a fixed arrival rate (the gate's open model).
                    info = check_locustfile(sc)
                    problem = "" if info.open_model else info.open_problem or "not open-model"
                if problem:
                    where = "" if sc.builtin else f" ({s.side.value} side, {sc.locustfile})"
                    raise UsageError(
                        f"--scenarios {sc.name}{where}: cannot run at a fixed arrival rate, "
                        f"the gate's open model: {problem}"
                    )
        self.subjects = tuple(Subject(t, n) for n in names for t in self.opts.targets)
        return left_out

    # -- one run of one side --------------------------------------------------------------
    def _options(
        self, side: PreparedSide, name: str, level: Level, windows: tuple[float, float]
    ) -> RunOptions:
        opts = self.opts
        return RunOptions(
            profile=gate_profile(*windows),
            targets=tuple(side.targets[t] for t in opts.targets),
            scenarios=self.scenarios[side.side],
            out_dir=opts.out_dir / "runs" / name,
            run_id=f"{opts.gate_id}-{name}",
            database=opts.database,
            repeats=1,
            target_cpus=opts.target_cpus,
            loader_cpus=opts.loader_cpus,
            loader_workers=0,
            slo=Slo(DEFAULT_SLO.p99_ms, DEFAULT_SLO.max_error_rate),
            max_seconds=max(1.0, self.clock.deadline - time.monotonic()),
            command=opts.command,
            target_sources={t: f"{side.side.value} {side.spec}" for t in opts.targets},
            pin_self=True,
            show_progress=False,
            micro=False,
            levels=(level,),
        )

    def _run(
        self, side: PreparedSide, name: str, level: Level, windows: tuple[float, float]
    ) -> tuple[Path, float]:
        run = self._options(side, name, level, windows)
        started = time.monotonic()
        execute(run)
        return run.out_dir, time.monotonic() - started

    def probe(self, side: PreparedSide) -> tuple[float, str]:
        """A short run of the baseline at a low rate: its CPU per request gives each target's
        capacity; the gate's load takes `rate_share` of the lowest in all (a duet's two sides
        half each), at most `max_rate` per side."""
        opts = self.opts
        self.say(f"gate: probing {side.describe()} at {opts.probe_rate:g} req/s")
        folder, _ = self._run(side, "000-probe-A", _at(opts.probe_rate), (1.0, 3.0))
        cells, reason = figures_of(folder, self.subjects)
        cpu = [c.values.get(Metric.CPU_PER_REQUEST) for c in cells.values()]
        usable = [v for v in cpu if v is not None and v > 0]
        if not usable:
            raise TwinbenchError(
                "the probe of the baseline measured no CPU time per request "
                f"({reason or 'no cells'}); see {folder}/logs, or give --rate"
            )
        worst = max(usable)
        capacity = len(opts.target_cpus) * 1e6 / worst
        at_once = 2 if opts.design is Design.DUET else 1
        share = opts.rate_share / at_once
        rate = max(10.0, min(opts.max_rate, math.floor(capacity * share / 10) * 10))
        how = (
            f"probe: {worst:.0f} µs of CPU per request at {opts.probe_rate:g} req/s → capacity "
            f"≈ {capacity:.0f} req/s on {len(opts.target_cpus)} CPU; "
            f"{share:.0%} of it per side"
            + (" (a duet: both sides at once)" if at_once == 2 else "")
            + f", at most {opts.max_rate:g}"
        )
        return rate, how

    def _keep(
        self, side: Side, order: int, pair: int, folder: Path, took: float, reason: str,
        cells: dict[str, CellFigures],
    ) -> GateRun:  # fmt: skip
        """Record one run (kept when `reason` is empty) and say what it measured."""
        run = GateRun(side, order, pair, not reason, reason, cells)
        rel = str(folder.relative_to(self.opts.out_dir))
        self.runs.append(RunRecord(run, rel, round(took, 2)))
        cpu = "; ".join(
            f"{k} {c.values.get(Metric.CPU_PER_REQUEST, math.nan):.0f} µs/req"
            for k, c in cells.items()
        )
        state = "kept" if run.kept else f"discarded ({reason})"
        self.say(f"gate: run {order} pair {pair} {side.value}: {cpu}; {state}")
        return run

    def measured_run(self, side: PreparedSide, pair: int, rate: float) -> GateRun | None:
        """Run `side` for `pair` until a run is kept; None when time or discards run out."""
        opts = self.opts
        guess = opts.warmup_s + opts.measure_s + RUN_OVERHEAD_S
        while True:
            if not self.clock.fits(guess):
                return None
            self.order += 1
            name = f"{self.order:03d}-p{pair:02d}-{side.side.letter}"
            folder, took = self._run(side, name, _at(rate), (opts.warmup_s, opts.measure_s))
            self.clock.durations.append(took)
            cells, reason = figures_of(folder, self.subjects)
            run = self._keep(side.side, self.order, pair, folder, took, reason, cells)
            if run.kept:
                return run
            self.discards += 1
            if self.discards > opts.max_discards:
                return None

    def measured_duet(self, sides: dict[Side, PreparedSide], pair: int, rate: float) -> bool:
        """Run both sides of `pair` at once (run/duet.py) until both runs are kept; False when
        time or discards run out. A pair is kept or discarded whole: a run measured beside a
        discarded partner saw a different machine than the next attempt's partner will."""
        opts = self.opts
        guess = opts.warmup_s + opts.measure_s + RUN_OVERHEAD_S
        while True:
            if not self.clock.fits(guess):
                return False
            named: list[tuple[Side, int, RunOptions]] = []
            for s in abba(pair):  # who starts first alternates, as ABBA's order does
                self.order += 1
                name = f"{self.order:03d}-p{pair:02d}-{s.letter}"
                named.append((s, self.order, self._options(sides[s], name, _at(rate), (
                    opts.warmup_s, opts.measure_s))))  # fmt: skip
            started = time.monotonic()
            run_together([o for _, _, o in named], timeout_s=guess * 4 + 60)
            took = time.monotonic() - started
            self.clock.durations.append(took)
            figures = {s: figures_of(o.out_dir, self.subjects) for s, _, o in named}
            kept = True
            for s, order, o in named:
                cells, reason = figures[s]
                other = figures[Side.CANDIDATE if s is Side.BASELINE else Side.BASELINE][1]
                if not reason and other:
                    reason = f"its partner was discarded ({other})"
                kept = self._keep(s, order, pair, o.out_dir, took, reason, cells).kept and kept
            if kept:
                return True
            self.discards += 1
            if self.discards > opts.max_discards:
                return False

    def saturate(self, sides: dict[Side, PreparedSide]) -> tuple[SaturationRun, ...]:
        """After the verdict, while time is left: closed-model runs at `saturation_users`,
        ABBA, for throughput at saturation (reported, never gated: gate_throughput.py)."""
        opts = self.opts
        out: list[SaturationRun] = []
        guess = opts.warmup_s + opts.measure_s + RUN_OVERHEAD_S
        order = (Side.BASELINE, Side.CANDIDATE, Side.CANDIDATE, Side.BASELINE)
        for s in order[: opts.saturation_runs]:
            if not self.clock.fits(guess):
                self.say("gate: throughput at saturation: no time left for another run")
                break
            self.order += 1
            name = f"{self.order:03d}-sat-{s.letter}"
            users = Level(users=opts.saturation_users)
            folder, took = self._run(sides[s], name, users, (opts.warmup_s, opts.measure_s))
            self.clock.durations.append(took)
            cells = saturation_cells(folder)
            out.append(SaturationRun(s, self.order, opts.saturation_users, cells))
            self.saturation_folders[self.order] = str(folder.relative_to(opts.out_dir))
            shown = "; ".join(
                f"{k} {c.rps:,.0f} req/s" + (" (loader-bound)" if c.loader_bound else "")
                for k, c in cells.items()
                if c.rps is not None
            )
            self.say(f"gate: saturation run {self.order} {s.value}: {shown or 'no figure'}")
        return tuple(out)

    def pairs(self, sides: dict[Side, PreparedSide], rate: float) -> Iterator[int]:
        """Runs pair after pair; yields the number of complete pairs after each pair."""
        pair = 0
        while True:
            pair += 1
            if self.opts.design is Design.DUET:
                if not self.measured_duet(sides, pair, rate):
                    return
            else:
                for s in abba(pair):
                    if self.measured_run(sides[s], pair, rate) is None:
                        return
            yield len(complete_pairs([r.run for r in self.runs]))


def execute_gate(opts: GateOptions, say: Callable[[str], None]) -> GateResult:
    """Prepare, measure and decide. Raises UsageError (exit 2) for bad input before any
    measurement; the worktrees it made are removed on every exit."""
    started_utc = _now_utc()
    srcs = (
        resolve(Side.BASELINE, opts.baseline, opts.repo),
        resolve(Side.CANDIDATE, opts.candidate, opts.repo),
    )
    if opts.config is not None and opts.config.is_absolute():
        raise UsageError(f"--config {opts.config}: must be relative to each side's root")
    gate = Gate(opts, say)
    previous_seed = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = HASH_SEED  # Locust and the upstream too
    try:
        with Sides(opts.repo) as sides:
            a = sides.prepare(srcs[0], opts.baseline_python, opts.config)
            b = sides.prepare(srcs[1], opts.candidate_python, opts.config)
            missing = list(iter_names((a, b), opts.targets))
            if missing:
                raise UsageError(f"--targets: {missing[0]} is not defined on that side")
            for s in (a, b):
                for name in opts.targets:
                    if s.targets[name].external:
                        raise UsageError(
                            f"--targets {name}: an external target (url) on the {s.side.value} "
                            "side; the gate starts each side's own server, so give a command"
                        )
            left_out = gate.choose((a, b))
            for s in (a, b):
                say(f"gate: {s.describe()}, Python {s.python_version} ({s.python})")
            for name in left_out:
                say(f"gate: scenario {name}: not gated, it has nothing to compare against")
            for sc_a, sc_b in zip(
                gate.scenarios[Side.BASELINE], gate.scenarios[Side.CANDIDATE], strict=True
            ):
                if sc_a.locustfile_sha256 != sc_b.locustfile_sha256:
                    say(
                        f"gate: scenario {sc_a.name}: the locustfile differs between the sides "
                        f"(sha256 {sc_a.locustfile_sha256[:12]} / {sc_b.locustfile_sha256[:12]}); "
                        "each side runs its own, so a difference may be the workload's"
                    )
            opts.out_dir.mkdir(parents=True, exist_ok=True)
            if opts.rate is not None:
                rate, how = opts.rate, "--rate"
            else:
                rate, how = gate.probe(a)
            say(f"gate: {rate:g} req/s ({how})")
            by_side = {Side.BASELINE: a, Side.CANDIDATE: b}
            rule = opts.rule
            state = GateState()
            want = rule.first_pairs
            stopped = ""
            final = False
            assessment: Assessment | None = None
            pairs = gate.pairs(by_side, rate)
            while True:
                n = len(complete_pairs([r.run for r in gate.runs]))
                while n < want:
                    got = next(pairs, None)
                    if got is None:
                        final = True
                        stopped = (
                            f"--max-discards {opts.max_discards} reached"
                            if gate.discards > opts.max_discards
                            else f"--max-seconds {opts.max_seconds:g} reached"
                        )
                        break
                    n = got
                assessment = assess(
                    gate.subjects, [r.run for r in gate.runs], rule, state, final=final
                )
                if assessment.want_pairs is None:
                    break
                state, want = assessment.state, assessment.want_pairs
            assert assessment is not None
            saturation = gate.saturate(by_side) if not stopped else ()
            return GateResult(
                options=opts,
                sides=(a, b),
                subjects=gate.subjects,
                rate=rate,
                rate_source=how,
                runs=tuple(gate.runs),
                assessment=assessment,
                saturation=saturation,
                saturation_folders=gate.saturation_folders,
                elapsed_s=round(gate.clock.elapsed(), 2),
                stopped=stopped,
                started_utc=started_utc,
                finished_utc=_now_utc(),
            )
    finally:
        if previous_seed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = previous_seed


def to_record(result: GateResult) -> tuple[GateRecord, dict[int, float]]:
    """What gate.json keeps of a finished gate (and each run's length)."""
    opts = result.options
    sides = tuple(
        SideInfo(
            side=s.side,
            spec=s.spec,
            root=str(s.root) if not s.temporary else f"(temporary worktree of {s.revision[:12]})",
            revision=s.revision,
            dirty=s.dirty,
            python=s.python,
            python_version=s.python_version,
            packages=dict(s.packages),
            config=str(Path(s.config).relative_to(s.root)) if s.config else "",
            locustfiles={
                n: s.scenarios[n].locustfile_sha256
                for n in dict.fromkeys(sub.scenario for sub in result.subjects)
                if n in s.scenarios
            },
        )
        for s in result.sides
    )
    record = GateRecord(
        gate_id=opts.gate_id,
        started_utc=result.started_utc,
        finished_utc=result.finished_utc,
        elapsed_s=result.elapsed_s,
        command=opts.command,
        rate=result.rate,
        rate_source=result.rate_source,
        stopped=result.stopped,
        rule=opts.rule,
        sides=(sides[0], sides[1]),
        subjects=result.subjects,
        runs=tuple(r.run for r in result.runs),
        folders={r.run.order: r.folder for r in result.runs},
        max_seconds=opts.max_seconds,
        windows=(opts.warmup_s, opts.measure_s),
        saturation=result.saturation,
        saturation_folders=result.saturation_folders,
        design=opts.design,
    )
    return record, {r.run.order: r.elapsed_s for r in result.runs}
