"""What a naive port gets: the anti-pattern targets against idiomatic FastAPI and Flask. Pure.

Migration plans port blocking code into `async def` endpoints (or into plain `def` ones, in
Starlette's thread pool) and call it done. The registry keeps those ports as targets marked
anti-patterns (define/targets.py: `Target.antipattern`); they are never the "best" FastAPI
of the headline or a claim. This module compares each one, scenario by scenario, with the
idiomatic FastAPI target and with each Flask target, at the highest load where both have
valid cells: throughput and p99 there (ratios naive / other, bootstrap 95 % intervals), and
the capacity at the SLO where the scenario ran a ladder.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinbench.analysis.capacity import CapacityFigure, CapacityKind
from twinbench.analysis.headline import best_target
from twinbench.analysis.index import RunIndex, load_label
from twinbench.analysis.stats import RatioCI, ratio_ci
from twinbench.define.scenarios import SloRule
from twinbench.define.targets import App
from twinbench.results.metrics import Metric

# The figures a naive port is compared on, in the order the report shows them.
COMPARED = (Metric.THROUGHPUT, Metric.LATENCY_P99)


@dataclass(frozen=True)
class NaiveFigure:
    metric: Metric
    naive: float  # mean over the level's valid repeats
    other: float
    ci: RatioCI | None  # naive / other

    @property
    def better(self) -> bool | None:
        """True when the naive port is significantly better, False significantly worse."""
        if self.ci is None or not self.ci.significant:
            return None
        return (self.ci.ratio > 1) == self.metric.higher_is_better


@dataclass(frozen=True)
class NaiveComparison:
    scenario: str
    naive: str  # the anti-pattern target
    antipattern: str  # what is wrong with it, in words
    other: str  # the target it is compared with
    other_role: str  # "idiomatic FastAPI" or "Flask"
    load: str  # the common load level, in words ("" when there is none)
    figures: tuple[NaiveFigure, ...]
    naive_capacity: CapacityFigure | None
    other_capacity: CapacityFigure | None
    note: str  # why nothing is compared, when nothing is


def _capacity(index: RunIndex, scenario: str, target: str) -> CapacityFigure | None:
    return next((c for c in index.capacities if (c.scenario, c.target) == (scenario, target)), None)


def _compare(
    index: RunIndex, scenario: str, naive: str, wrong: str, other: str, role: str
) -> NaiveComparison:
    both = set(index.valid_levels(scenario, naive)) & set(index.valid_levels(scenario, other))
    figures: list[NaiveFigure] = []
    load = note = ""
    if both:
        level = max(both)
        load = load_label(index.per_level(scenario, naive)[level][0])
        for metric in COMPARED:
            a = index.repeats(scenario, naive, level, metric)
            b = index.repeats(scenario, other, level, metric)
            if a and b:
                figures.append(
                    NaiveFigure(metric, sum(a) / len(a), sum(b) / len(b), ratio_ci(a, b))
                )
    else:
        note = "no load level with valid cells for both"
    return NaiveComparison(
        scenario,
        naive,
        wrong,
        other,
        role,
        load,
        tuple(figures),
        _capacity(index, scenario, naive),
        _capacity(index, scenario, other),
        note,
    )


# Flask's own naive configuration: sync workers hold a whole process per request, and on a
# scenario whose requests wait on an upstream that is all they do (the slow-upstream claims).
SYNC_ON_UPSTREAM = (
    "sync workers on a slow upstream: each waiting request holds a whole worker process, "
    "so the pool caps the requests in flight"
)


def _naive_of(index: RunIndex, scenario: str) -> dict[str, str]:
    """The scenario's naive targets and what is wrong with each."""
    found = {t: index.antipattern(t) for t in index.targets_of(scenario) if index.antipattern(t)}
    sc = index.scenario(scenario)
    if sc is not None and sc.slo_rule is SloRule.P99_OVER_WAIT:
        for t in index.standard_targets_of(scenario):
            cfg = index.targets.get(t)
            if cfg is not None and cfg.app == App.FLASK.value and cfg.worker_model == "sync":
                found[t] = SYNC_ON_UPSTREAM
    return found


def naive_ports(index: RunIndex) -> tuple[NaiveComparison, ...]:
    """Every anti-pattern target of the run (and sync Flask on a slow upstream) against
    idiomatic FastAPI (the best non-naive FastAPI target) and the other Flask targets, per
    scenario it ran."""
    out = []
    for scenario in index.scenario_names():
        naive = _naive_of(index, scenario)
        if not naive:
            continue
        others: list[tuple[str, str]] = []
        fastapi = best_target(index, scenario, App.FASTAPI)
        if fastapi is not None:
            others.append((fastapi, "idiomatic FastAPI"))
        others += [
            (t, "Flask")
            for t in index.standard_targets_of(scenario)
            if index.app_of(t) is App.FLASK
        ]
        for target, wrong in naive.items():
            measured = [c for c in index.cells.get((scenario, target), ()) if c.window]
            if not measured:
                continue  # unsupported, or never ran: the cell table says why
            out += [
                _compare(index, scenario, target, wrong, o, role)
                for o, role in others
                if o != target and o not in naive
            ]
    return tuple(out)


def capacity_text(cap: CapacityFigure | None) -> str:
    if cap is None:
        return "–"
    return cap.text if cap.kind is not CapacityKind.UNKNOWN else "unknown"
