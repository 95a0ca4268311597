"""Which cells describe the target, and the capacity found by a step ladder. Pure.

A cell whose load generator ran out of CPU measures Locust, not the framework: its latency
includes time the request spent waiting in Locust's event loop, and its throughput is
Locust's ceiling. Such cells are kept (so nothing is silently missing) but marked invalid,
and capacity is only ever taken from valid cells.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twinbench.define import scenarios as scenario_catalogue
from twinbench.define.scenarios import Scenario, SloRule, wait_ms
from twinbench.errors import UsageError
from twinbench.results.model import (
    Capacity,
    CellResult,
    CellStatus,
    Driver,
    LoadModel,
    MetricRow,
    OpenLoad,
    Slo,
)

LOADER_BUSY_LIMIT = 0.90  # share of the loader CPUs; above it Locust is the bottleneck
RATE_TOLERANCE = 0.05  # open model: attempted sends may miss the intended rate by this much
LATE_TOLERANCE = 0.05  # open model: share of sends that may start late
DEFAULT_SLO = Slo(p99_ms=100.0, max_error_rate=0.001)
# Connection scenarios: share of the users' connections that must be open at once. SSE users
# reconnect between short streams, so a sample can miss a few.
HELD_SHARE = 0.9


@dataclass(frozen=True)
class Observation:
    """What the runner measured for one cell, reduced to what the rules need."""

    driver: Driver
    rate: float | None
    measure_s: float
    requests: int
    loader_cpu_util: float | None  # Locust processes' CPU / (window × loader CPUs)
    loader_cpus_busy: float | None  # the loader CPUs' busy share, whatever ran on them
    open: OpenLoad | None
    target_exit: str  # "" while the target lived through the cell, else how it ended
    # The target was still answering slowly after the settle wait (an earlier phase's
    # backlog): seconds waited, or None when it settled (or was not checked).
    unsettled_after_s: float | None = None
    # Connection scenarios: the most streams/sessions open at once, and how many users asked.
    held: float | None = None
    users: int | None = None
    users_started: int | None = None  # closed model: users running when the window opened


@dataclass(frozen=True)
class Verdict:
    status: CellStatus
    reason: str


def judge(obs: Observation) -> Verdict:
    if obs.target_exit:
        return Verdict(CellStatus.FAILED, f"target-died: {obs.target_exit}")
    if obs.unsettled_after_s is not None:
        return Verdict(
            CellStatus.INVALID,
            f"target-backlogged: it was still answering requests queued by an earlier phase "
            f"after {obs.unsettled_after_s:.0f} s; this window measured that backlog",
        )
    if (
        obs.driver is Driver.CLOSED
        and obs.users_started is not None
        and obs.users
        and obs.users_started < obs.users
    ):
        return Verdict(
            CellStatus.INVALID,
            f"spawn-short: only {obs.users_started} of {obs.users} users were running when "
            "the window opened (Locust could not start them in time)",
        )
    if obs.requests == 0:
        return Verdict(CellStatus.INVALID, "no-requests: nothing completed in the window")
    for who, value in (
        ("the Locust processes", obs.loader_cpu_util),
        ("everything on them", obs.loader_cpus_busy),
    ):
        if value is not None and value >= LOADER_BUSY_LIMIT:
            return Verdict(
                CellStatus.INVALID,
                f"load-generator-bound: {who} kept the loader CPUs {value:.0%} busy "
                f"(limit {LOADER_BUSY_LIMIT:.0%})",
            )
    if obs.driver is Driver.OPEN and obs.rate and obs.open is not None and obs.measure_s > 0:
        expected = obs.rate * obs.measure_s
        attempted = obs.open.sent + obs.open.dropped  # a drop is the target's doing, not ours
        if attempted < (1 - RATE_TOLERANCE) * expected:
            return Verdict(
                CellStatus.INVALID,
                f"load-generator-bound: sent {attempted / obs.measure_s:.1f}/s of the intended "
                f"{obs.rate:g}/s ({attempted / expected:.0%})",
            )
        if obs.open.sent and obs.open.late > LATE_TOLERANCE * obs.open.sent:
            return Verdict(
                CellStatus.INVALID,
                f"load-generator-bound: {obs.open.late / obs.open.sent:.0%} of sends started "
                "late (limit 5%)",
            )
    # After the loader checks: a saturated Locust cannot finish its handshakes either, and
    # then the load generator, not the target, is to blame.
    if obs.held is not None and obs.users and obs.held < HELD_SHARE * obs.users:
        # The figures then describe the few sessions the server took (a thread pool holds one
        # WebSocket per thread), not the load level: they must not win a comparison.
        return Verdict(
            CellStatus.INVALID,
            f"connections-not-held: the target held {obs.held:.0f} of {obs.users} "
            "connections at most; the others waited to be accepted",
        )
    return Verdict(CellStatus.OK, "")


# -- capacity ------------------------------------------------------------------------------
def _metric(metrics: Sequence[MetricRow]) -> Mapping[tuple[str, str, str], float]:
    out = {}
    for m in metrics:
        if m.value is not None:
            out[(m.cell_id, m.request, m.metric)] = m.value
    return out


def _scenario(name: str) -> Scenario | None:
    try:
        return scenario_catalogue.get(name)
    except UsageError:
        return None


def _main(values: Mapping[tuple[str, str, str], float], cell_id: str, sc: Scenario | None) -> str:
    if sc is not None and sc.main_request is not None:
        for cid, request, _ in values:
            if cid == cell_id and request.endswith(sc.main_request):
                return request
    return "total"


def _level_p99(
    values: Mapping[tuple[str, str, str], float],
    group: Sequence[CellResult],
    sc: Scenario | None,
    slo: Slo,
) -> tuple[float, str]:
    """(the p99 that binds, "" or why the level misses the SLO), medians over repeats."""

    def median_of(request: str) -> float:
        # A repeat without the request's p99 (nothing of it completed) is as bad as it gets.
        return statistics.median(
            values.get((c.cell_id, request, "latency_p99"), math.inf) for c in group
        )

    ids = {c.cell_id for c in group}
    if sc is not None and sc.slo_rule is SloRule.P99_OVER_WAIT:
        waits = sorted(
            {(w, r) for (cid, r, _) in values if cid in ids if (w := wait_ms(r)) is not None}
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
    p99 = median_of(_main(values, group[0].cell_id, sc))
    return p99, (f"p99 {p99:.1f} ms" if p99 > slo.p99_ms else "")


def capacities(
    cells: Sequence[CellResult], metrics: Sequence[MetricRow], slo: Slo
) -> tuple[Capacity, ...]:
    """For every target × step scenario: the highest level whose repeats all passed.

    A level passes when every repeat is OK (valid), the median p99 is within the SLO (the
    scenario's rule: of its main request, or of every upstream wait over that wait) and
    failures over all its repeats are below the SLO's error rate.
    """
    values = _metric(metrics)
    ladders: dict[tuple[str, str], dict[int, list[CellResult]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for c in cells:
        if c.config.model is LoadModel.STEP:
            ladders[(c.config.target, c.config.scenario)][c.config.load_level].append(c)
    found = []
    for (target, scenario), levels in ladders.items():
        sc = _scenario(scenario)
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
            p99, over = _level_p99(values, group, sc, slo)
            reqs = sum(values.get((c.cell_id, "total", "requests"), 0.0) for c in group)
            fails = sum(values.get((c.cell_id, "total", "failures"), 0.0) for c in group)
            err = fails / reqs if reqs else 1.0
            if over or err >= slo.max_error_rate:
                why.append(f"l{level}: {over or f'p99 {p99:.1f} ms'}, errors {err:.2%}")
                continue

            def median(metric: str, request: str = "total") -> float:
                return statistics.median(
                    values.get((c.cell_id, request, metric), 0.0)
                    for c in group  # noqa: B023
                )

            main = _main(values, cfg.cell_id, sc)
            best = Capacity(
                target,
                scenario,
                cfg.driver,
                level,
                cfg.users,
                cfg.rate,
                median("throughput", main),
                p99,
                "",
                inflight=median("inflight"),
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
