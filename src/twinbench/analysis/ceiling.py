"""The load generator's ceiling, read off a run's cells. Pure.

The load generator's ceiling needs no separate measurement: a cell in which the Locust
processes themselves used ≥ 90 % of the CPU they can use (the `loader_cpu_util` metric, the
same figure validity.judge holds to that limit) measured exactly that ceiling, on the same
loader CPUs and Locust processes as every other cell of the run. Busy loader CPUs alone
(`loader_cpus_busy`) are not Locust's ceiling: the rest is the kernel's loopback network work,
which runs on the sending CPU, and any neighbours. When Locust never saturated, the most it
ever completed is a lower bound, and says so; if its CPUs were saturated all the same, the line
says that too, with the most such a cell completed, because those cells are invalid and a
reader must not take "never ran out" to mean the loader had room to spare.

"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from twinbench.analysis.index import TOTAL, RunIndex
from twinbench.analysis.validity import LOADER_BUSY_LIMIT
from twinbench.results.metrics import Metric
from twinbench.results.model import CellResult

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


def _total(index: RunIndex, metric: Metric) -> dict[str, float]:
    return {
        cell_id: v
        for cell_id, figures in index.values.items()
        if (v := figures.get((TOTAL, metric.value))) is not None
    }


def loader_ceilings(index: RunIndex) -> tuple[LoaderCeiling, ...]:
    """Per scenario, the busiest cell in which Locust itself saturated, probes first."""
    results = index.results
    rps, util = _total(index, Metric.THROUGHPUT), _total(index, Metric.LOADER_CPU_UTIL)
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
    return tuple(_ceiling(index, *best[s], True, util) for s in order)


def _ceiling(
    index: RunIndex, rps: float, cell: CellResult, saturated: bool, util: dict[str, float]
) -> LoaderCeiling:
    return LoaderCeiling(
        rps=float(rps),
        saturated=saturated,
        loader_util=util.get(cell.cell_id),
        cell_id=cell.cell_id,
        scenario=cell.config.scenario,
        target=cell.config.target,
        loader_cpus=index.results.run.pinning.loader_cpus,
        loader_processes=cell.loader_processes,
    )


def loader_ceiling(index: RunIndex) -> LoaderCeiling | None:
    """The one line a summary prints: a probe scenario's saturated cell, else any saturated
    cell, else the most a valid probe cell (then any valid cell) completed, as a lower bound."""
    saturated = loader_ceilings(index)
    if saturated:
        return saturated[0]
    rps, util = _total(index, Metric.THROUGHPUT), _total(index, Metric.LOADER_CPU_UTIL)
    valid = [(rps[c.cell_id], c) for c in index.results.cells if c.valid and c.cell_id in rps]
    if not valid:
        return None
    ceiling = _ceiling(index, *_busiest(valid), False, util)
    return dataclasses.replace(ceiling, cpus_busy=_cpus_busy(index, rps))


def _busiest(pairs: list[tuple[float, CellResult]]) -> tuple[float, CellResult]:
    """The (rps, cell) that completed the most, probe scenarios first: a streaming scenario's
    "requests" are events, which say little about the load generator. `pairs` is not empty."""
    probes = [p for p in pairs if p[1].config.scenario in _PROBES]
    return max(probes or pairs, key=lambda p: p[0])


def _cpus_busy(index: RunIndex, rps: dict[str, float]) -> CpusBusy | None:
    busy = _total(index, Metric.LOADER_CPUS_BUSY)
    hits = [
        (rps[c.cell_id], c)
        for c in index.results.cells
        if busy.get(c.cell_id, 0.0) >= LOADER_BUSY_LIMIT and c.cell_id in rps
    ]
    if not hits:
        return None
    r, cell = _busiest(hits)
    return CpusBusy(len(hits), float(r), cell.cell_id, cell.config.scenario, cell.config.target)
