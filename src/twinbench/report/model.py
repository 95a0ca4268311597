"""Everything the HTML report shows, computed from loaded runs. Pure: no I/O.

One or more runs (oldest first): each gets its headline, cell list and configuration; the
latest gets the charts, capacities and claims; with two or more runs the first and last are
compared (deltas), and the configuration of both is shown with what changed between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from twinbench.analysis import histograms as latency
from twinbench.analysis.ceiling import (
    CapacityFigure,
    CapacityKind,
    LoaderCeiling,
    capacity_figures,
    loader_ceiling,
    loader_ceilings,
)
from twinbench.analysis.headline import (
    COLUMNS,
    MB,
    Column,
    HeadlineRow,
    RunIndex,
    headline,
    target_config_text,
    why_not_valid,
)
from twinbench.analysis.headline import load_label as cell_load_label
from twinbench.analysis.headline import load_of as cell_load
from twinbench.analysis.stats import DEFAULT_RESAMPLES, RatioCI, ratio_ci
from twinbench.analysis.verdicts import (
    Bound,
    CheckOutcome,
    ClaimOutcome,
    Figure,
    MicroFigure,
    judge_check,
    judge_claim,
    judge_micro,
)
from twinbench.define.claims import Check, CheckKind, Claim, Metric
from twinbench.define.targets import App
from twinbench.report.sections import Chart, ScenarioCharts, capacity_charts, scenario_charts
from twinbench.results.model import (
    CellConfig,
    CellResult,
    CellStatus,
    LoadModel,
    RunInfo,
    RunResults,
)

_METRIC_KEYS = {
    Metric.THROUGHPUT: "throughput",
    Metric.P50: "latency_p50",
    Metric.P90: "latency_p90",
    Metric.P99: "latency_p99",
    Metric.P999: "latency_p999",
    Metric.CPU: "cpu_per_request",
    Metric.MEMORY: "target_rss_max",
}
NOT_RUN = "not run"  # a planned cell without a cells.jsonl line


@dataclass(frozen=True)
class CellView:
    """One planned cell (run.json) and what became of it; `cell` None: the run ended first."""

    config: CellConfig
    cell: CellResult | None
    load: str
    throughput: float | None
    p99_ms: float | None

    @property
    def status(self) -> str:
        return self.cell.status.value if self.cell is not None else NOT_RUN

    @property
    def valid(self) -> bool:
        return self.cell is not None and self.cell.status is CellStatus.OK

    @property
    def reason(self) -> str:
        if self.cell is None:
            return "no result: the run stopped (crash or Ctrl-C) before this cell finished"
        return self.cell.reason


@dataclass(frozen=True)
class TargetView:
    name: str
    app: str
    label: str
    config: str
    description: str


@dataclass(frozen=True)
class CapacityView:
    figure: CapacityFigure
    config: str  # the target's configuration in words


@dataclass(frozen=True)
class RunView:
    results: RunResults
    headline: tuple[HeadlineRow, ...]
    charts: tuple[ScenarioCharts, ...]
    capacity_charts: tuple[Chart, ...]
    capacities: tuple[CapacityView, ...]
    cells: tuple[CellView, ...]
    targets: tuple[TargetView, ...]
    loader_cpu_max: float | None  # Locust's highest CPU share (loader_cpu_util), valid cells
    loader_busy_max: float | None  # the loader CPUs' highest busy share, valid cells
    ceiling: LoaderCeiling | None  # the load generator's ceiling, read off the cells
    ceilings: tuple[LoaderCeiling, ...]  # every scenario in which Locust itself saturated


@dataclass(frozen=True)
class Delta:
    scenario: str
    target: str
    column: Column
    before: float
    after: float
    ci: RatioCI | None  # after / before
    load: str


@dataclass(frozen=True)
class ConfigRow:
    """One line of the configuration table: its value in each run, oldest first."""

    name: str
    values: tuple[str, ...]
    compared: bool = True  # False: identity (run id, start time), different by nature

    @property
    def differs(self) -> bool:
        return self.compared and len(set(self.values)) > 1


@dataclass(frozen=True)
class ReportModel:
    title: str
    generated_utc: str
    runs: tuple[RunView, ...]
    claims: tuple[ClaimOutcome, ...]
    deltas: tuple[Delta, ...]
    config: tuple[ConfigRow, ...]
    # Distinct bootstrap resamples of one side with the run's repeats: C(2n-1, n).
    distinct_resamples: int
    resamples: int = DEFAULT_RESAMPLES

    @property
    def latest(self) -> RunView:
        return self.runs[-1]


def _p95_repeats(index: RunIndex, scenario: str, cells: Sequence[CellResult]) -> tuple[float, ...]:
    request = index.request_for(scenario)
    out = []
    for c in cells:
        enc = index.results.histograms.get(c.cell_id, {}).get(request)
        if enc is not None:
            out.append(latency.merged([enc]).percentile_ms(95.0))
    return tuple(out)


def _capacity_figures(index: RunIndex, scenario: str) -> list[Figure]:
    """Capacity in the scenario's figure; a target that missed the lowest level is a bound."""
    out = []
    for cap in capacity_figures(index.results):
        app = index.app_of(cap.target)
        if cap.scenario != scenario or cap.value is None or app is None:
            continue
        config = target_config_text(index.results, cap.target)
        config += f", {cap.text}"
        if cap.kind is CapacityKind.HELD:
            out.append(Figure(cap.target, app, cap.repeats, config, exact=cap.exact, unit=cap.unit))
        elif cap.kind is CapacityKind.BELOW:
            bound = Bound.BELOW
            out.append(Figure(cap.target, app, (cap.value,), config, None, bound, True, cap.unit))
    return out


def figures_for(index: RunIndex, scenario: str, metric: Metric) -> list[Figure]:
    """Valid figures of one metric: per load level, or peak (load None) for throughput."""
    results = index.results
    if metric is Metric.CAPACITY:
        return _capacity_figures(index, scenario)
    out: list[Figure] = []
    for target in index.targets_of(scenario):
        app = index.app_of(target)
        if app not in (App.FLASK, App.FASTAPI):
            continue
        config = target_config_text(results, target)
        per_level = []
        for level in index.valid_levels(scenario, target):
            cells = [c for c in index.per_level(scenario, target)[level] if c.valid]
            if metric is Metric.P95:
                reps = _p95_repeats(index, scenario, cells)
            else:
                scale = MB if metric is Metric.MEMORY else 1.0
                key = _METRIC_KEYS[metric]
                reps = tuple(v / scale for v in index.repeats(scenario, target, level, key))
            if reps:
                per_level.append(Figure(target, app, reps, config, cell_load(cells[0])))
        if metric is Metric.THROUGHPUT and per_level:
            peak = max(per_level, key=lambda f: f.value)
            load = f"{peak.load:g}" if peak.load is not None else "?"
            out.append(Figure(target, app, peak.repeats, f"{config}, peak at {load}"))
        else:
            out.extend(per_level)
    return out


def _absent(results: RunResults, scenario: str, metric: Metric) -> str:
    """Why a scenario that ran gave no (or one-sided) figures: its cells' statuses and reasons,
    counted; for a capacity, that it ran without a ladder or which targets stayed unknown."""
    cells = [c for c in results.cells if c.config.scenario == scenario]
    if not cells:
        return ""
    if metric is Metric.CAPACITY:
        if not any(c.config.model is LoadModel.STEP for c in cells):
            return f"scenario `{scenario}` ran at one load level: a capacity needs a ladder"
        unknown = [
            f"{f.target} unknown ({f.reason})"
            for f in capacity_figures(results)
            if f.scenario == scenario and f.kind is CapacityKind.UNKNOWN
        ]
        if unknown:
            return "; ".join(unknown)
    why = why_not_valid(cells)
    return f"scenario `{scenario}` ran; cells not counted: {why}" if why else ""


def micro_config(results: RunResults) -> str:
    micro = results.micro
    if micro is None:
        return ""
    cpus = ",".join(map(str, micro.cpus)) or "unpinned"
    rounds = {len(b.round_us) for b in micro.benchmarks}
    per = "/".join(str(n) for n in sorted(rounds))
    pyd = results.run.packages.get("pydantic", "?")
    m = results.run.machine
    return (
        f"{per} timed rounds of {micro.batch:,} operations each, pinned to CPU {cpus}, "
        f"pydantic {pyd}, {m.cpu_model} ({m.logical_cpus} CPUs), commit {results.run.git.commit}"
    )


def _judge_micro(check: Check, results: RunResults) -> CheckOutcome:
    figures = {}
    if results.micro is not None:
        figures = {
            b.name: MicroFigure(b.name, b.description, tuple(b.round_us))
            for b in results.micro.benchmarks
            if b.round_us
        }
    return judge_micro(check, figures, micro_config(results))


def judge_claims(claims: Sequence[Claim], results: RunResults) -> tuple[ClaimOutcome, ...]:
    index = RunIndex(results)
    out = []
    for claim in claims:
        outcomes = []
        for check in claim.checks:
            if check.kind is CheckKind.MICRO:
                outcomes.append(_judge_micro(check, results))
                continue
            figs: list[Figure] = []
            absent = ""
            if check.scenario and check.metric:
                figs = figures_for(index, check.scenario, check.metric)
                absent = _absent(results, check.scenario, check.metric)
            outcomes.append(judge_check(check, figs, absent))
        out.append(judge_claim(claim, outcomes))
    return tuple(out)


def _cells(index: RunIndex) -> tuple[CellView, ...]:
    """Every planned cell in run order, then any result the plan does not list: nothing of
    the folder is left out, and a planned cell the run never finished says so."""
    results = {c.cell_id: c for c in index.results.cells}
    planned = sorted(index.results.run.cells, key=lambda c: c.order)
    extra = [c.config for c in index.results.cells if c.cell_id not in {p.cell_id for p in planned}]
    out = []
    for cfg in [*planned, *extra]:
        cell = results.get(cfg.cell_id)
        request = index.request_for(cfg.scenario)
        tput = index.value(cell, "throughput", request) if cell else None
        p99 = index.value(cell, "latency_p99", request) if cell else None
        out.append(CellView(cfg, cell, cell_load_label(cfg), tput, p99))
    return tuple(out)


def _max(values: Sequence[float]) -> float | None:
    return max(values) if values else None


def run_view(results: RunResults, with_charts: bool = True) -> RunView:
    index = RunIndex(results)
    targets = tuple(
        TargetView(t.name, t.app, t.label, target_config_text(results, t.name), t.description)
        for t in results.run.targets
    )
    valid = [c for c in results.cells if c.valid]
    loader = [v for c in valid if (v := index.value(c, "loader_cpu_util")) is not None]
    busy = [v for c in valid if (v := index.value(c, "loader_cpus_busy")) is not None]
    scenarios = [s for s in index.scenarios() if index.targets_of(s)]
    caps = tuple(
        CapacityView(f, target_config_text(results, f.target)) for f in capacity_figures(results)
    )
    return RunView(
        results,
        headline(results),
        tuple(scenario_charts(index, s) for s in scenarios) if with_charts else (),
        capacity_charts(results) if with_charts else (),
        caps,
        _cells(index),
        targets,
        _max(loader),
        _max(busy),
        loader_ceiling(results),
        loader_ceilings(results),
    )


def deltas(before: RunResults, after: RunResults) -> tuple[Delta, ...]:
    """Each target × scenario in both runs, at the highest level valid in both."""
    a, b = RunIndex(before), RunIndex(after)
    out = []
    for scenario in b.scenarios():
        for target in b.targets_of(scenario):
            common = set(a.valid_levels(scenario, target)) & set(b.valid_levels(scenario, target))
            if not common:
                continue
            level = max(common)
            load = cell_load_label(b.per_level(scenario, target)[level][0])
            for col in COLUMNS:
                x = [v / col.scale for v in a.repeats(scenario, target, level, col.key)]
                y = [v / col.scale for v in b.repeats(scenario, target, level, col.key)]
                if x and y:
                    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
                    out.append(Delta(scenario, target, col, mean_x, mean_y, ratio_ci(y, x), load))
    return tuple(out)


_IDENTITY = frozenset({"run", "started", "command"})


def _config_values(run: RunInfo) -> list[tuple[str, str]]:
    m, p = run.machine, run.pinning
    cpus = ",".join(map(str, p.target_cpus)) or "unpinned"
    loader = ",".join(map(str, p.loader_cpus)) or "unpinned"
    return [
        ("run", run.run_id),
        ("started", run.started_utc),
        (
            "machine",
            f"{m.cpu_model}, {m.logical_cpus} logical / {m.physical_cpus} physical CPUs, "
            f"{m.memory_bytes / 2**30:.1f} GiB, {m.os}, Python {m.python}",
        ),
        ("git commit", run.git.commit + (" (with uncommitted changes)" if run.git.dirty else "")),
        ("database", f"{run.database_kind}: {run.database}"),
        (
            "pinning",
            f"targets on CPUs {cpus}; Locust on {loader}; mock upstream on "
            f"{','.join(map(str, p.upstream_cpus)) or 'unpinned'}; database: {p.database}",
        ),
        (
            "profile",
            f"{run.profile}, {run.repeats} repeat(s), SLO p99 ≤ {run.slo.p99_ms:g} ms and "
            f"errors < {run.slo.max_error_rate * 100:g} %",
        ),
        (
            "load generator",
            f"a Locust master and {run.loader_workers} workers"
            if run.loader_workers
            else "one Locust process",
        ),
        ("command", " ".join(run.command)),
        ("packages", ", ".join(f"{k} {v}" for k, v in sorted(run.packages.items()))),
    ]


def config_rows(runs: Sequence[RunInfo]) -> tuple[ConfigRow, ...]:
    """The configuration of every run side by side; when package versions differ, the row
    names the packages that changed, so the reader need not diff two long lists."""
    per_run = [dict(_config_values(r)) for r in runs]
    names = list(dict.fromkeys(k for r in runs for k, _ in _config_values(r)))
    rows = []
    for n in names:
        label = n
        if n == "packages":
            versions = [dict(r.packages) for r in runs]
            keys = sorted({k for v in versions for k in v})
            changed = [k for k in keys if len({v.get(k) for v in versions}) > 1]
            if changed:
                label = f"packages (changed: {', '.join(changed)})"
        values = tuple(v.get(n, "not recorded") for v in per_run)
        rows.append(ConfigRow(label, values, n not in _IDENTITY))
    return tuple(rows)


def build_model(
    runs: Sequence[RunResults],
    claims: Sequence[Claim],
    generated_utc: str,
    title: str = "",
    with_charts: bool = True,  # tests of the tables skip the (slow) charts
) -> ReportModel:
    if not runs:
        raise ValueError("a report needs at least one run")
    # Charts only for the run they are shown for (the latest): the others cost time unseen.
    views = tuple(run_view(r, with_charts and i == len(runs) - 1) for i, r in enumerate(runs))
    n = runs[-1].run.repeats
    return ReportModel(
        title or f"twinbench report: {runs[-1].run.run_id}",
        generated_utc,
        views,
        judge_claims(claims, runs[-1]),
        deltas(runs[0], runs[-1]) if len(runs) > 1 else (),
        config_rows([r.run for r in runs]),
        math.comb(2 * n - 1, n) if n > 0 else 0,
    )
