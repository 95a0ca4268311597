"""Ceilings read off a run's cells: the load generator's own, and each target's capacity. Pure.

The load generator's ceiling needs no separate measurement: a cell in which the Locust
processes themselves used ≥ 90 % of the CPU they can use (the `loader_cpu_util` metric, the
same figure validity.judge holds to that limit) measured exactly that ceiling, on the same
loader CPUs and Locust processes as every other cell of the run. Busy loader CPUs alone
(`loader_cpus_busy`) are not Locust's ceiling: the rest is the kernel's loopback network work,
which runs on the sending CPU, and any neighbours. When Locust never saturated, the most it
ever completed is a lower bound, and says so; if its CPUs were saturated all the same, the line
says that too, with the most such a cell completed, because those cells are invalid and a
reader must not take "never ran out" to mean the loader had room to spare.

A target's capacity is the highest level of a step ladder within the SLO (validity.capacities,
stored in complete.json), stated in the scenario's figure: users for closed ladders, the
arrival rate for open ones, and requests in flight (Little's law) where that is the merit
(the slow upstream). A target that met no level is not dropped: when its own cells show it
missed the lowest level, its capacity is *below* that level, an upper bound a ratio can use.
"""

from __future__ import annotations

import dataclasses
import enum
import statistics
from collections import defaultdict
from dataclasses import dataclass

from twinbench.analysis.validity import LOADER_BUSY_LIMIT, capacities
from twinbench.define import scenarios as scenario_catalogue
from twinbench.define.scenarios import Merit
from twinbench.errors import UsageError
from twinbench.results.model import Capacity, CellResult, CellStatus, Driver, LoadModel, RunResults

# Trivial endpoints first: their cells measure Locust, not the app, once Locust saturates.
_PROBES = ("plaintext", "json")


@dataclass(frozen=True)
class CpusBusy:
    """Cells in which the loader CPUs, not Locust's own share of them, reached the limit."""

    cells: int
    rps: float  # the most one of them completed
    cell_id: str
    scenario: str
    target: str


@dataclass(frozen=True)
class LoaderCeiling:
    rps: float  # requests per second Locust completed in that cell (all request names)
    saturated: bool  # True: Locust was the bottleneck, so this is the ceiling itself
    loader_util: float | None  # the cell's loader_cpu_util (Locust's share of its CPUs)
    cell_id: str
    scenario: str
    target: str
    loader_cpus: tuple[int, ...]
    loader_processes: int
    # Not saturated: the busiest cell whose loader CPUs were >= 90 % busy all the same.
    cpus_busy: CpusBusy | None = None

    @property
    def text(self) -> str:
        cpus = ",".join(map(str, self.loader_cpus)) or "unpinned"
        procs = f"{self.loader_processes} Locust process" + (
            "es" if self.loader_processes != 1 else ""
        )
        if self.saturated:
            util = f" ({self.loader_util:.0%} of its CPU)" if self.loader_util is not None else ""
            return (
                f"{self.rps:,.0f} req/s: {procs} on CPU {cpus} ran out of CPU{util} against "
                f"{self.scenario} of {self.target} (cell {self.cell_id}); figures near this "
                "are the load generator's, not the target's"
            )
        text = (
            f"≥ {self.rps:,.0f} req/s: {procs} on CPU {cpus} never used {LOADER_BUSY_LIMIT:.0%} "
            f"of its CPU in this run (highest valid: {self.scenario} of {self.target}, "
            f"cell {self.cell_id})"
        )
        if self.cpus_busy is not None:
            b = self.cpus_busy
            text += (
                f"; but CPU {cpus} itself was ≥ {LOADER_BUSY_LIMIT:.0%} busy (Locust, the "
                f"kernel's loopback network work, neighbours) in {b.cells} cell"
                f"{'s' if b.cells != 1 else ''}, the busiest completing {b.rps:,.0f} req/s "
                f"({b.scenario} of {b.target}, cell {b.cell_id}): those cells are invalid, and "
                "figures near that rate are bound by the loader CPUs"
            )
        return text


def _total(results: RunResults, metric: str) -> dict[str, float]:
    return {
        m.cell_id: m.value
        for m in results.metrics
        if m.metric == metric and m.request == "total" and m.value is not None
    }


def loader_ceilings(results: RunResults) -> tuple[LoaderCeiling, ...]:
    """Per scenario, the busiest cell in which Locust itself saturated, probes first."""
    rps, util = _total(results, "throughput"), _total(results, "loader_cpu_util")
    best: dict[str, tuple[float, CellResult]] = {}
    for cell in results.cells:
        u = util.get(cell.cell_id)
        r = rps.get(cell.cell_id)
        if u is None or r is None or u < LOADER_BUSY_LIMIT:
            continue
        scenario = cell.config.scenario
        if scenario not in best or r > best[scenario][0]:
            best[scenario] = (r, cell)
    order = sorted(best, key=lambda s: (_PROBES.index(s) if s in _PROBES else len(_PROBES), s))
    return tuple(_ceiling(results, *best[s], True, util) for s in order)


def _ceiling(
    results: RunResults, rps: float, cell: CellResult, saturated: bool, util: dict[str, float]
) -> LoaderCeiling:
    return LoaderCeiling(
        rps=float(rps),
        saturated=saturated,
        loader_util=util.get(cell.cell_id),
        cell_id=cell.cell_id,
        scenario=cell.config.scenario,
        target=cell.config.target,
        loader_cpus=results.run.pinning.loader_cpus,
        loader_processes=cell.loader_processes,
    )


def loader_ceiling(results: RunResults) -> LoaderCeiling | None:
    """The one line a summary prints: a probe scenario's saturated cell, else any saturated
    cell, else the most a valid probe cell (then any valid cell) completed, as a lower bound."""
    saturated = loader_ceilings(results)
    if saturated:
        return saturated[0]
    rps, util = _total(results, "throughput"), _total(results, "loader_cpu_util")
    valid = [(rps[c.cell_id], c) for c in results.cells if c.valid and c.cell_id in rps]
    if not valid:
        return None
    ceiling = _ceiling(results, *_busiest(valid), False, util)
    return dataclasses.replace(ceiling, cpus_busy=_cpus_busy(results, rps))


def _busiest(pairs: list[tuple[float, CellResult]]) -> tuple[float, CellResult]:
    """The (rps, cell) that completed the most, probe scenarios first: a streaming scenario's
    "requests" are events, which say little about the load generator. `pairs` is not empty."""
    probes = [p for p in pairs if p[1].config.scenario in _PROBES]
    return max(probes or pairs, key=lambda p: p[0])


def _cpus_busy(results: RunResults, rps: dict[str, float]) -> CpusBusy | None:
    busy = _total(results, "loader_cpus_busy")
    hits = [
        (rps[c.cell_id], c)
        for c in results.cells
        if busy.get(c.cell_id, 0.0) >= LOADER_BUSY_LIMIT and c.cell_id in rps
    ]
    if not hits:
        return None
    r, cell = _busiest(hits)
    return CpusBusy(len(hits), float(r), cell.cell_id, cell.config.scenario, cell.config.target)


# -- the targets' ceilings: capacity at the SLO ------------------------------------------
class CapacityKind(enum.Enum):
    HELD = "held"  # a level met the SLO: the figure is that level's
    BELOW = "below"  # the target itself missed the lowest level: capacity < that level
    UNKNOWN = "unknown"  # the lowest level was not validly measured (not the target's doing)


# Reasons (their fixed first word, docs/results-format.md) that are the target's own doing:
# a target that completed nothing, was still draining its backlog, or died under the lowest
# level did not hold it. Anything else (the load generator, the time limit) says nothing.
TARGET_CAUSED = frozenset({"no-requests", "target-backlogged", "target-died"})


def reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].strip()


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


def merit_unit(scenario: str, driver: Driver) -> str:
    try:
        merit = scenario_catalogue.get(scenario).merit
    except UsageError:
        merit = None
    if merit is Merit.INFLIGHT:
        return "requests in flight"
    return "req/s" if driver is Driver.OPEN else "users"


def run_capacities(results: RunResults) -> tuple[Capacity, ...]:
    """complete.json's capacities, or recomputed from the cells of an interrupted run."""
    if results.summary is not None:
        return results.summary.capacities
    return capacities(results.cells, results.metrics, results.run.slo)


def _lowest_missed_by_target(cells: list[CellResult]) -> bool:
    """The lowest level failed because of the target: every repeat was measured validly or
    ended for a reason that is the target's own doing."""
    return bool(cells) and all(
        c.status is CellStatus.OK or reason_kind(c.reason) in TARGET_CAUSED for c in cells
    )


def capacity_figures(results: RunResults) -> tuple[CapacityFigure, ...]:
    ladders: dict[tuple[str, str], dict[int, list[CellResult]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for c in results.cells:
        if c.config.model is LoadModel.STEP:
            ladders[(c.config.target, c.config.scenario)][c.config.load_level].append(c)
    inflight = _total(results, "inflight")
    out = []
    for cap in run_capacities(results):
        levels = ladders.get((cap.target, cap.scenario), {})
        unit = merit_unit(cap.scenario, cap.driver)
        held = _held(cap, unit, levels.get(cap.load_level or 0, []), inflight)
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
    cap: Capacity, unit: str, group: list[CellResult], inflight: dict[str, float]
) -> tuple[float, tuple[float, ...], bool] | None:
    """(figure, per-repeat figures, exact) of a level that met the SLO, None if none did."""
    if cap.load_level is None:
        return None
    if unit == "requests in flight":
        reps = tuple(inflight[c.cell_id] for c in group if c.valid and c.cell_id in inflight)
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
