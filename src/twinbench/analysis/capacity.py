"""Each target's capacity: the highest level of a step ladder within the SLO. Pure.

`capacities` judges the ladder (the runner stores the result in complete.json); a level
passes when every repeat is OK (valid), the median p99 is within the SLO (the scenario's
rule: of its main request, or of every upstream wait over that wait) and failures over all
its repeats are below the SLO's error rate.

`capacity_figures` states each capacity in the scenario's figure: users for closed ladders,
the arrival rate for open ones, and requests in flight (Little's law) where that is the
figure of merit (the slow upstream). A target that met no level is not dropped: when its own
cells show it missed the lowest level, its capacity is *below* that level, an upper bound a
ratio can use.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from twinbench.analysis.index import TOTAL, RunIndex
from twinbench.define.scenarios import SloRule, wait_ms
from twinbench.results.metrics import Metric
from twinbench.results.model import Capacity, CellResult, CellStatus, Driver, LoadModel, Slo

Ladders = dict[tuple[str, str], dict[int, list[CellResult]]]


def _ladders(index: RunIndex) -> Ladders:
    ladders: Ladders = defaultdict(lambda: defaultdict(list))
    for c in index.results.cells:
        if c.config.model is LoadModel.STEP:
            ladders[(c.config.target, c.config.scenario)][c.config.load_level].append(c)
    return ladders


def _level_p99(
    index: RunIndex, scenario: str, group: list[CellResult], slo: Slo
) -> tuple[float, str]:
    """(the p99 that binds, "" or why the level misses the SLO), medians over repeats."""

    def median_of(request: str) -> float:
        # A repeat without the request's p99 (nothing of it completed) is as bad as it gets.
        return statistics.median(
            v if (v := index.value(c, Metric.LATENCY_P99, request)) is not None else math.inf
            for c in group
        )

    sc = index.scenario(scenario)
    if sc is not None and sc.slo_rule is SloRule.P99_OVER_WAIT:
        waits = sorted(
            {
                (w, request)
                for c in group
                for request, _ in index.values.get(c.cell_id, {})
                if (w := wait_ms(request)) is not None
            }
        )
        # The binding p99 is that of the wait it exceeds the most.
        binding, excess, over = 0.0, float("-inf"), ""
        for wait, request in waits:
            p99 = median_of(request)
            if p99 - wait > excess:
                binding, excess = p99, p99 - wait
            if p99 > wait + slo.p99_ms and not over:
                over = f"p99 {p99:.1f} ms on the {wait} ms wait"
        return binding, over
    p99 = median_of(index.request_for(scenario))
    return p99, (f"p99 {p99:.1f} ms" if p99 > slo.p99_ms else "")


def capacities(index: RunIndex, slo: Slo) -> tuple[Capacity, ...]:
    """For every target × step scenario: the highest level whose repeats all passed."""
    found = []
    run_slo = slo
    for (target, scenario), levels in _ladders(index).items():
        sc = index.scenario(scenario)
        # A config file's scenario may bring its own SLO (`slo_p99_ms`).
        slo = (
            dataclasses.replace(run_slo, p99_ms=sc.slo_p99_ms) if sc and sc.slo_p99_ms else run_slo
        )
        rule = (sc.slo_rule if sc is not None else SloRule.P99).describe(slo.p99_ms)
        best: Capacity | None = None
        why = []
        for level in sorted(levels):
            group = levels[level]
            cfg = group[0].config
            bad = [c for c in group if c.status is not CellStatus.OK]
            if bad:
                why.append(f"l{level}: {bad[0].status.value} ({bad[0].reason})")
                continue
            p99, over = _level_p99(index, scenario, group, slo)
            reqs = sum(index.value(c, Metric.REQUESTS) or 0.0 for c in group)
            fails = sum(index.value(c, Metric.FAILURES) or 0.0 for c in group)
            err = fails / reqs if reqs else 1.0
            if over or err >= slo.max_error_rate:
                why.append(f"l{level}: {over or f'p99 {p99:.1f} ms'}, errors {err:.2%}")
                continue
            main = index.request_for(scenario)

            def median(metric: Metric, request: str = TOTAL) -> float:
                return statistics.median(
                    index.value(c, metric, request) or 0.0
                    for c in group  # noqa: B023
                )

            best = Capacity(
                target,
                scenario,
                cfg.driver,
                level,
                cfg.users,
                cfg.rate,
                median(Metric.THROUGHPUT, main),
                p99,
                "",
                inflight=median(Metric.INFLIGHT),
                slo=rule,
            )
        if best is None:
            cfg = next(iter(levels.values()))[0].config
            reason = "no level met the SLO: " + "; ".join(why)
            best = Capacity(
                target, scenario, cfg.driver, None, None, None, None, None, reason, slo=rule
            )
        found.append(best)
    return tuple(sorted(found, key=lambda c: (c.scenario, c.target)))


# -- in the scenario's figure -------------------------------------------------------------
class CapacityKind(enum.Enum):
    HELD = "held"  # a level met the SLO: the figure is that level's
    BELOW = "below"  # the target itself missed the lowest level: capacity < that level
    UNKNOWN = "unknown"  # the lowest level was not validly measured (not the target's doing)


@dataclass(frozen=True)
class CapacityFigure:
    """One target's capacity on one step scenario, in the scenario's figure of merit."""

    target: str
    scenario: str
    kind: CapacityKind
    unit: str  # "users", "req/s" or "requests in flight"
    # HELD: the figure (mean of `repeats`); BELOW: the bound (capacity < value); else None.
    value: float | None
    # Per-repeat figures at the level: in-flight counts are measured (they vary by repeat);
    # a level's users or rate is one exact value, held in every repeat.
    repeats: tuple[float, ...]
    exact: bool  # True: a ladder level (no sampling error); False: a measured quantity
    level: int | None  # the level held (HELD) or missed (BELOW), 1-based
    levels: int  # rungs in the ladder
    users: int | None  # of that level
    rate: float | None
    throughput_rps: float | None
    p99_ms: float | None
    slo: str  # the rule, in words
    reason: str  # why no level qualified ("" when HELD)

    @property
    def load(self) -> str:
        if self.rate is not None and self.users is None:
            return f"{self.rate:g} req/s"
        if self.rate is not None:
            return f"{self.rate:g} req/s (≤ {self.users} in flight)"
        return f"{self.users} users"

    @property
    def text(self) -> str:
        """'14.9 requests in flight (at 16 users, level 1 of 2)' or 'none (below the lowest
        level, 16 users)': what the table and the chart print."""
        if self.kind is CapacityKind.HELD and self.value is not None:
            figure = f"{_num(self.value)} {self.unit}"
            if self.unit != "users" or self.rate is not None:
                figure += f" (at {self.load}, level {self.level} of {self.levels})"
            else:
                figure += f" (level {self.level} of {self.levels})"
            return figure
        if self.kind is CapacityKind.BELOW:
            return f"none (below the lowest level, {self.load})"
        return "unknown (the lowest level was not validly measured)"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def merit_unit(index: RunIndex, scenario: str, driver: Driver) -> str:
    if index.merit(scenario) is Metric.INFLIGHT:
        return "requests in flight"
    return "req/s" if driver is Driver.OPEN else "users"


def run_capacities(index: RunIndex) -> tuple[Capacity, ...]:
    """complete.json's capacities, or recomputed from the cells of an interrupted run."""
    results = index.results
    if results.summary is not None:
        return tuple(results.summary.capacities)
    return capacities(index, results.run.slo)


def _lowest_missed_by_target(cells: list[CellResult]) -> bool:
    """The lowest level failed because of the target: every repeat was measured validly or
    ended for a reason that is the target's own doing."""
    return bool(cells) and all(
        c.status is CellStatus.OK or (c.reason_kind is not None and c.reason_kind.target_caused)
        for c in cells
    )


def capacity_figures(index: RunIndex) -> tuple[CapacityFigure, ...]:
    ladders = _ladders(index)
    out = []
    for cap in run_capacities(index):
        levels = ladders.get((cap.target, cap.scenario), {})
        unit = merit_unit(index, cap.scenario, cap.driver)
        held = _held(index, cap, unit, levels.get(cap.load_level or 0, []))
        if held is not None:
            out.append(_figure(cap, unit, len(levels), CapacityKind.HELD, *held))
            continue
        lowest = min(levels) if levels else None
        cells = levels.get(lowest, []) if lowest is not None else []
        users = cells[0].config.users if cells else None
        rate = cells[0].config.rate if cells else None
        bound = _lower_level_bound(unit, users, rate)
        if bound is not None and _lowest_missed_by_target(cells):
            fig = _figure(cap, unit, len(levels), CapacityKind.BELOW, bound, (), True)
            out.append(dataclasses.replace(fig, level=lowest, users=users, rate=rate))
        else:
            out.append(_figure(cap, unit, len(levels), CapacityKind.UNKNOWN, None, (), True))
    return tuple(out)


def _held(
    index: RunIndex, cap: Capacity, unit: str, group: list[CellResult]
) -> tuple[float, tuple[float, ...], bool] | None:
    """(figure, per-repeat figures, exact) of a level that met the SLO, None if none did."""
    if cap.load_level is None:
        return None
    if unit == "requests in flight":
        reps = tuple(
            v for c in group if c.valid and (v := index.value(c, Metric.INFLIGHT)) is not None
        )
        if not reps and cap.inflight is not None:
            reps = (cap.inflight,)
        return (statistics.fmean(reps), reps, False) if reps else None
    level_value = cap.rate if unit == "req/s" else cap.users
    if level_value is None:
        return None
    return float(level_value), (float(level_value),), True


def _figure(
    cap: Capacity,
    unit: str,
    levels: int,
    kind: CapacityKind,
    value: float | None,
    repeats: tuple[float, ...],
    exact: bool,
) -> CapacityFigure:
    return CapacityFigure(
        target=cap.target,
        scenario=cap.scenario,
        kind=kind,
        unit=unit,
        value=value,
        repeats=repeats,
        exact=exact,
        level=cap.load_level,
        levels=levels,
        users=cap.users,
        rate=cap.rate,
        throughput_rps=cap.throughput_rps,
        p99_ms=cap.p99_ms,
        slo=cap.slo,
        reason="" if kind is CapacityKind.HELD else cap.reason,
    )


def _lower_level_bound(unit: str, users: int | None, rate: float | None) -> float | None:
    """What 'below the lowest level' bounds, in the figure's unit. In flight: a closed user
    has at most one request in flight, so a level of N users (or an open level capped at N in
    flight) holds at most N; an uncapped open level bounds nothing."""
    if unit == "req/s":
        return rate
    return float(users) if users is not None else None
