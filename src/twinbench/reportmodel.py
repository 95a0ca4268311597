"""Everything the HTML report shows, computed from loaded runs. Pure: no I/O.

One or more runs (oldest first): each gets its headline, charts and cell list; the claims are
judged on the last run; with two or more runs the first and last are compared (deltas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import latency
from .ceiling import LoaderCeiling, loader_ceiling
from .claims import Claim, Metric
from .headline import (
    COLUMNS,
    MB,
    Column,
    HeadlineRow,
    RunIndex,
    headline,
    target_config_text,
    why_not_valid,
)
from .headline import load_label as cell_load_label
from .headline import load_of as cell_load
from .registry import App
from .results import CellResult, RunResults
from .sections import Chart, ScenarioCharts, capacity_chart, scenario_charts
from .stats import RatioCI, ratio_ci
from .verdicts import ClaimOutcome, Figure, judge_check, judge_claim

_METRIC_KEYS = {
    Metric.THROUGHPUT: "throughput",
    Metric.P50: "latency_p50",
    Metric.P90: "latency_p90",
    Metric.P99: "latency_p99",
    Metric.P999: "latency_p999",
    Metric.CPU: "cpu_per_request",
    Metric.MEMORY: "target_rss_max",
}


@dataclass(frozen=True)
class CellView:
    cell: CellResult
    load: str
    throughput: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class TargetView:
    name: str
    app: str
    label: str
    config: str
    description: str


@dataclass(frozen=True)
class RunView:
    results: RunResults
    headline: tuple[HeadlineRow, ...]
    charts: tuple[ScenarioCharts, ...]
    capacity: Chart | None
    cells: tuple[CellView, ...]
    targets: tuple[TargetView, ...]
    loader_cpu_max: float | None  # highest loader CPU utilisation seen in a valid cell
    ceiling: LoaderCeiling | None  # the load generator's ceiling, read off the cells


@dataclass(frozen=True)
class Delta:
    scenario: str
    target: str
    column: Column
    before: float
    after: float
    ci: RatioCI | None  # after / before


@dataclass(frozen=True)
class ReportModel:
    title: str
    generated_utc: str
    runs: tuple[RunView, ...]
    claims: tuple[ClaimOutcome, ...]
    deltas: tuple[Delta, ...]

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


def figures_for(index: RunIndex, scenario: str, metric: Metric) -> list[Figure]:
    """Valid figures of one metric: per load level, or peak (load None) for throughput."""
    results = index.results
    out: list[Figure] = []
    if metric is Metric.CAPACITY:
        caps = results.summary.capacities if results.summary else ()
        for cap in caps:
            value = cap.rate if cap.rate is not None and cap.users is None else cap.users
            app = index.app_of(cap.target)
            if cap.scenario == scenario and cap.load_level is not None and value and app:
                config = target_config_text(results, cap.target)
                out.append(Figure(cap.target, app, (float(value),), config))
        return out
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
                reps = tuple(v / scale for v in index.repeats(scenario, target, level,
                                                              _METRIC_KEYS[metric]))  # fmt: skip
            if reps:
                per_level.append(Figure(target, app, reps, config, cell_load(cells[0])))
        if metric is Metric.THROUGHPUT and per_level:
            peak = max(per_level, key=lambda f: f.value)
            out.append(Figure(target, app, peak.repeats, f"{config}, at {peak.load:g}"))
        else:
            out.extend(per_level)
    return out


def _absent(results: RunResults, scenario: str) -> str:
    """Why a scenario that ran gave no figure: its cells' statuses and reasons, counted."""
    cells = [c for c in results.cells if c.config.scenario == scenario]
    if not cells:
        return ""
    return f"scenario `{scenario}` ran but gave no usable figure ({why_not_valid(cells)})"


def judge_claims(claims: Sequence[Claim], results: RunResults) -> tuple[ClaimOutcome, ...]:
    index = RunIndex(results)
    out = []
    for claim in claims:
        outcomes = []
        for check in claim.checks:
            figs: list[Figure] = []
            absent = ""
            if check.scenario and check.metric:
                figs = figures_for(index, check.scenario, check.metric)
                absent = _absent(results, check.scenario)
            outcomes.append(judge_check(check, figs, absent))
        out.append(judge_claim(claim, outcomes))
    return tuple(out)


def _cells(index: RunIndex) -> tuple[CellView, ...]:
    out = []
    for c in sorted(index.results.cells, key=lambda c: c.config.order):
        request = index.request_for(c.config.scenario)
        out.append(
            CellView(
                c,
                cell_load_label(c),
                index.value(c, "throughput", request),
                index.value(c, "latency_p99", request),
            )
        )
    return tuple(out)


def run_view(results: RunResults, with_charts: bool = True) -> RunView:
    index = RunIndex(results)
    targets = tuple(
        TargetView(t.name, t.app, t.label, target_config_text(results, t.name), t.description)
        for t in results.run.targets
    )
    loader = [
        v for c in results.cells if c.valid and (v := index.value(c, "loader_cpu_util")) is not None
    ]
    scenarios = [s for s in index.scenarios() if index.targets_of(s)]
    return RunView(
        results,
        headline(results),
        tuple(scenario_charts(index, s) for s in scenarios) if with_charts else (),
        capacity_chart(results) if with_charts else None,
        _cells(index),
        targets,
        max(loader) if loader else None,
        loader_ceiling(results),
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
            for col in COLUMNS:
                x = [v / col.scale for v in a.repeats(scenario, target, level, col.key)]
                y = [v / col.scale for v in b.repeats(scenario, target, level, col.key)]
                if x and y:
                    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
                    out.append(Delta(scenario, target, col, mean_x, mean_y, ratio_ci(y, x)))
    return tuple(out)


def build_model(
    runs: Sequence[RunResults],
    claims: Sequence[Claim],
    generated_utc: str,
    title: str = "",
    with_charts: bool = True,  # tests of the tables skip the (slow) charts
) -> ReportModel:
    if not runs:
        raise ValueError("a report needs at least one run")
    views = tuple(run_view(r, with_charts) for r in runs)
    return ReportModel(
        title or f"twinbench report: {runs[-1].run.run_id}",
        generated_utc,
        views,
        judge_claims(claims, runs[-1]),
        deltas(runs[0], runs[-1]) if len(runs) > 1 else (),
    )
