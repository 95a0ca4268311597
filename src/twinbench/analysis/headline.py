"""Best Flask target against best FastAPI target, per scenario, from a RunIndex. Pure.

"Best" follows the scenario's figure of merit (the scenario's `merit`: peak throughput for
most, p99 for the latency-bound ones, requests in flight held within the SLO for the slow
upstream), and is never an anti-pattern target (analysis.naive shows those on their own).
Both targets are then compared at the same load: the highest load level where both have
valid cells, so latency, CPU and memory describe equal work. Ratios are FastAPI/Flask over
the per-repeat values (independent runs), with a bootstrap 95 % interval (analysis.stats).

Where no such level exists because the load generator could not saturate a side (every
FastAPI /json cell on two cores), the row compares both sides' capacities *estimated* from
CPU time per request (analysis.estimate), flagged as estimates, with the CPU per request of
the same cells; latency at the same load still needs a valid cell, and the note says how to
get one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from twinbench.analysis.capacity import CapacityKind
from twinbench.analysis.estimate import LABEL, CapacityEstimate
from twinbench.analysis.index import RunIndex, load_label, target_config_text
from twinbench.analysis.stats import RatioCI, ratio_ci
from twinbench.analysis.validity import why_not_valid
from twinbench.define.targets import App
from twinbench.results.metrics import HEADLINE, Metric
from twinbench.results.model import CellResult, RunResults


@dataclass(frozen=True)
class Cellvalue:
    """One headline column: both sides' means (shown units) and the FastAPI/Flask ratio."""

    metric: Metric
    flask: float | None
    fastapi: float | None
    ci: RatioCI | None
    estimate: bool = False  # both sides estimated (analysis.estimate), not measured


@dataclass(frozen=True)
class HeadlineRow:
    scenario: str
    flask_target: str | None
    fastapi_target: str | None
    flask_config: str
    fastapi_config: str
    load: str  # the common load level, in words
    level: int | None
    request: str  # the request name per-request figures count ("total" or the main one)
    values: tuple[Cellvalue, ...]
    note: str  # why a side is missing, if one is; for an estimated row, how it was estimated
    estimated: bool = False  # the throughput is estimated from CPU time per request


def _score(
    index: RunIndex, scenario: str, target: str, metric: Metric, higher: bool
) -> float | None:
    """The target's figure of merit at its best valid level (peak throughput, lowest p99).

    Requests in flight are only a merit within the SLO: a sync worker pool with 256 users
    queued has as many "in flight" as users, all of them waiting. So that merit is read off
    the capacity (the highest level within the SLO), never off any valid level.
    """
    if metric is Metric.INFLIGHT:
        for cap in index.capacities:
            if (cap.scenario, cap.target) == (scenario, target):
                return cap.value if cap.kind is CapacityKind.HELD else None
        return None
    best: float | None = None
    for level in index.valid_levels(scenario, target):
        vals = index.repeats(scenario, target, level, metric)
        if not vals:
            continue
        mean = sum(vals) / len(vals)
        if best is None or (mean > best if higher else mean < best):
            best = mean
    return best


def merit_score(index: RunIndex, scenario: str, target: str, metric: Metric) -> float | None:
    """The target's figure of merit at its best valid level (stored unit), as "best" ranks it."""
    return _score(index, scenario, target, metric, metric.higher_is_better)


def best_target(index: RunIndex, scenario: str, app: App) -> str | None:
    """The app's best target by the scenario's merit; by throughput if no cell has the merit."""
    candidates = [t for t in index.standard_targets_of(scenario) if index.app_of(t) is app]
    merit = index.merit(scenario)
    for metric, higher in ((merit, merit.higher_is_better), (Metric.THROUGHPUT, True)):
        scored = [
            (s if higher else -s, t)
            for t in candidates
            if (s := _score(index, scenario, t, metric, higher)) is not None
        ]
        if scored:
            return max(scored)[1]
    return None


def common_level(index: RunIndex, scenario: str, a: str, b: str) -> int | None:
    both = set(index.valid_levels(scenario, a)) & set(index.valid_levels(scenario, b))
    return max(both) if both else None


def _best_estimate(index: RunIndex, scenario: str, app: App) -> CapacityEstimate | None:
    found = [
        e
        for t in index.standard_targets_of(scenario)
        if index.app_of(t) is app and (e := index.estimate(scenario, t)) is not None
    ]
    return max(found, key=lambda e: e.value) if found else None


def _estimated_row(
    index: RunIndex, scenario: str, fl: CapacityEstimate, fa: CapacityEstimate, why: str
) -> HeadlineRow:
    """Both sides' capacities estimated from CPU time per request, with that CPU time."""
    results = index.results
    throughput = Cellvalue(
        Metric.THROUGHPUT, fl.value, fa.value, ratio_ci(fa.repeats, fl.repeats), estimate=True
    )
    cpu = Cellvalue(
        Metric.CPU_PER_REQUEST,
        sum(fl.cpu_us) / len(fl.cpu_us),
        sum(fa.cpu_us) / len(fa.cpu_us),
        ratio_ci(fa.cpu_us, fl.cpu_us),
    )
    note = (
        f"Estimated, not measured: {why}, so both sides' capacity is {LABEL} × the CPUs "
        f"each was given ({fa.cpus}); CPU per request from the same cells. Latency at the same "
        "load needs a valid cell: more load generators (`--loader-workers N` on more loader "
        "CPUs, or remote workers) would measure it."
    )
    loads = dict.fromkeys(
        load_label(index.per_level(scenario, e.target)[e.level][0]) for e in (fl, fa)
    )
    load = f"capacity estimated from cells at {' and '.join(loads)} (no level valid for both)"
    return HeadlineRow(
        scenario,
        fl.target,
        fa.target,
        target_config_text(results, fl.target),
        target_config_text(results, fa.target),
        load,
        None,
        index.request_for(scenario),
        (throughput, cpu),
        note,
        estimated=True,
    )


def headline_row(index: RunIndex, scenario: str) -> HeadlineRow:
    fl = best_target(index, scenario, App.FLASK)
    fa = best_target(index, scenario, App.FASTAPI)
    results = index.results
    fl_cfg = target_config_text(results, fl) if fl else ""
    fa_cfg = target_config_text(results, fa) if fa else ""
    level = common_level(index, scenario, fl, fa) if fl and fa else None
    if level is None or fl is None or fa is None:
        missing = [n for n, t in (("Flask", fl), ("FastAPI", fa)) if t is None]
        note = f"no valid cells for {' or '.join(missing)}" if missing else "no common valid load"
        cells = [c for (s, _), cs in index.cells.items() if s == scenario for c in cs]
        if why := why_not_valid(cells):
            note += f" ({why})"
        est_fl = _best_estimate(index, scenario, App.FLASK)
        est_fa = _best_estimate(index, scenario, App.FASTAPI)
        if (
            est_fl is not None
            and est_fa is not None
            and (est_fl.loader_bound or est_fa.loader_bound)
        ):
            return _estimated_row(index, scenario, est_fl, est_fa, note)
        request = index.request_for(scenario)
        return HeadlineRow(scenario, fl, fa, fl_cfg, fa_cfg, "", None, request, (), note)
    values = []
    for metric in HEADLINE:
        a = [v / metric.scale for v in index.repeats(scenario, fa, level, metric)]
        b = [v / metric.scale for v in index.repeats(scenario, fl, level, metric)]
        values.append(
            Cellvalue(
                metric,
                sum(b) / len(b) if b else None,
                sum(a) / len(a) if a else None,
                ratio_ci(a, b),
            )
        )
    cell = index.per_level(scenario, fa)[level][0]
    request = index.request_for(scenario)
    return HeadlineRow(
        scenario, fl, fa, fl_cfg, fa_cfg, load_label(cell), level, request, tuple(values), ""
    )


def headline(index: RunIndex) -> tuple[HeadlineRow, ...]:
    return tuple(headline_row(index, s) for s in index.scenario_names() if index.targets_of(s))


def invalid_cells(results: RunResults) -> tuple[CellResult, ...]:
    return tuple(c for c in results.cells if not c.valid)


def status_counts(results: RunResults) -> Mapping[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for c in results.cells:
        counts[c.status.value] += 1
    return dict(counts)
