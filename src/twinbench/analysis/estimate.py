"""A target's capacity estimated from its CPU time per request, where the load generator
could not saturate it. Pure.

On two cores one Locust process cannot keep one uvicorn worker busy on /json: every such
cell is load-generator-bound (invalid), its throughput is Locust's ceiling, and a report
that only believes valid cells has "no data" for the loudest claim. The target's own CPU
time per request is still measured in those cells (its process tree, the measured window,
divided by the requests it served), and a server bound by its CPU serves at most

    estimated capacity = CPUs it was given × 1,000,000 / CPU µs per request   (req/s)

That is an *estimate*: it assumes the target would scale linearly to 100 % of its CPUs, and
it counts only CPU inside the target's process tree (a PostgreSQL server's own work is not
in it, so on PostgreSQL a database-bound scenario's estimate is an upper bound). It is
labelled as one wherever it appears, with its interval over the repeats, and only used
where no valid cell gives a measured figure. `make capacity-check` validates it against a
native load generator (wrk) that does saturate the target (README: the capacity check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twinbench.analysis.index import RunIndex
from twinbench.results.metrics import Metric
from twinbench.results.model import CellResult, CellStatus, ReasonKind

LABEL = "estimated from CPU time per request"


@dataclass(frozen=True)
class CapacityEstimate:
    target: str
    scenario: str
    level: int  # the ladder level whose cells it comes from (the highest one usable)
    cpus: int  # CPUs the target was pinned to
    cpu_us: tuple[float, ...]  # CPU µs per request, one per repeat
    measured_rps: tuple[float, ...]  # what those cells completed (Locust's ceiling if bound)
    loader_bound: int  # how many of the cells were load-generator-bound
    # How busy the target's CPUs were in those cells (mean share): CPU per request falls as a
    # server nears saturation (more requests per wake-up), so an estimate from a lightly
    # loaded target runs low; the text says how busy it was.
    target_util: float | None = None

    @property
    def repeats(self) -> tuple[float, ...]:
        """Estimated req/s, one per repeat."""
        return tuple(self.cpus * 1e6 / us for us in self.cpu_us)

    @property
    def value(self) -> float:
        return sum(self.repeats) / len(self.repeats)

    @property
    def text(self) -> str:
        mean_us = sum(self.cpu_us) / len(self.cpu_us)
        busy = f", target CPU {self.target_util:.0%} busy" if self.target_util is not None else ""
        return (
            f"≈ {self.value:,.0f} req/s ({LABEL}: {mean_us:.0f} µs × {self.cpus} CPU, "
            f"{len(self.cpu_us)} repeat{'s' * (len(self.cpu_us) != 1)}{busy})"
        )


def _usable(cell: CellResult) -> bool:
    """Cells whose CPU per request describes the target: valid ones, and those invalid only
    because the load generator was the limit (the target's own figures stand)."""
    return cell.status is CellStatus.OK or (
        cell.status is CellStatus.INVALID and cell.reason_kind is ReasonKind.LOAD_GENERATOR_BOUND
    )


def estimable(index: RunIndex, scenario: str) -> bool:
    """Throughput scenarios of plain requests: a held connection (SSE, WebSocket) costs
    memory and wake-ups as well as CPU per message, so no CPU-bound capacity follows."""
    sc = index.scenario(scenario)
    return sc is not None and index.merit(scenario) is Metric.THROUGHPUT and not sc.connections


def estimate(index: RunIndex, scenario: str, target: str) -> CapacityEstimate | None:
    if not estimable(index, scenario):
        return None
    cpus = len(index.results.run.pinning.target_cpus) or index.results.run.machine.logical_cpus
    if cpus <= 0:
        return None
    for level, cells in reversed(index.per_level(scenario, target).items()):
        usable = sorted((c for c in cells if _usable(c)), key=lambda c: c.config.repeat)
        cpu = [(c, v) for c in usable if (v := index.value(c, Metric.CPU_PER_REQUEST))]
        if not cpu:
            continue
        request = index.request_for(scenario)
        utils = [u for c, _ in cpu if (u := index.value(c, Metric.TARGET_CPU_UTIL)) is not None]
        return CapacityEstimate(
            target=target,
            scenario=scenario,
            level=level,
            cpus=cpus,
            cpu_us=tuple(v for _, v in cpu),
            measured_rps=tuple(index.value(c, Metric.THROUGHPUT, request) or 0.0 for c, _ in cpu),
            loader_bound=sum(not c.valid for c, _ in cpu),
            target_util=sum(utils) / len(utils) if utils else None,
        )
    return None


# How far a fit may move the single-level figure, either way: a guard against a slope made of
# noise (a ladder's cells scatter by 10-30 % in CPU per request), not a tuned constant.
MAX_FIT_FACTOR = 1.5
MIN_UTIL_SPREAD = 0.05  # levels closer than this in utilisation give no usable slope


def saturated_cpu_us(points: Sequence[tuple[float, float]], at_top: float) -> float | None:
    """CPU µs per request extrapolated to a fully busy target: a least-squares line of CPU per
    request against target utilisation over one repeat's levels, (utilisation, µs) each,
    evaluated at utilisation 1 and kept within MAX_FIT_FACTOR of `at_top` (the single-level
    figure). None when the levels give no slope (fewer than 2, or too close together).

    A candidate, not what the report prints: `make capacity-check` run with a ladder
    (`--users 4,16,64`) shows it beside the report's estimate and wrk, and README (the
    capacity check) says how it compared. Its premise is weak: under wrk CPU per request
    keeps falling with the number of connections even once the target is fully busy (more
    requests per wake-up), so utilisation alone does not fix the figure at saturation.
    """
    if len(points) < 2 or at_top <= 0:
        return None
    us = [u for u, _ in points]
    if max(us) - min(us) < MIN_UTIL_SPREAD:
        return None
    mean_u = sum(us) / len(us)
    mean_c = sum(c for _, c in points) / len(points)
    sxx = sum((u - mean_u) ** 2 for u in us)
    slope = sum((u - mean_u) * (c - mean_c) for u, c in points) / sxx
    at_full = mean_c + slope * (1.0 - mean_u)
    return min(max(at_full, at_top / MAX_FIT_FACTOR), at_top * MAX_FIT_FACTOR)


def saturated_repeats(index: RunIndex, scenario: str, target: str) -> tuple[float, ...] | None:
    """The candidate's capacity per repeat (CPUs × 1e6 / saturated_cpu_us over the repeat's
    usable levels), or None unless every repeat of the report's estimate has a usable fit."""
    est = estimate(index, scenario, target)
    if est is None:
        return None
    by_repeat: dict[int, list[tuple[float, float]]] = {}
    top: dict[int, float] = {}
    for level, cells in index.per_level(scenario, target).items():
        for cell in cells:
            if not _usable(cell):
                continue
            cpu = index.value(cell, Metric.CPU_PER_REQUEST)
            util = index.value(cell, Metric.TARGET_CPU_UTIL)
            if cpu and util is not None:
                by_repeat.setdefault(cell.config.repeat, []).append((util, cpu))
                if level == est.level:
                    top[cell.config.repeat] = cpu
    out = []
    for repeat, at_top in sorted(top.items()):
        fitted = saturated_cpu_us(by_repeat[repeat], at_top)
        if fitted is None:
            return None
        out.append(est.cpus * 1e6 / fitted)
    return tuple(out) or None


def estimates(index: RunIndex) -> tuple[CapacityEstimate, ...]:
    out = []
    for scenario in index.scenario_names():
        for target in index.targets_of(scenario):
            found = estimate(index, scenario, target)
            if found is not None:
                out.append(found)
    return tuple(out)
