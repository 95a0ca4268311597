"""The measured figures each claim is judged on, and the claims judged. Pure.

For a check (a scenario and a metric) this gathers every valid figure of the run: per load
level for latency, CPU and memory, the peak over load for throughput, the capacity in the
scenario's figure for ladders (a target that missed the lowest level is a bound), p95 from
the raw histograms. analysis.verdicts then decides. When a scenario ran but gave nothing to
judge, `absent` says why (its cells' statuses), so "no data" always has a reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from twinbench.analysis import histograms
from twinbench.analysis.capacity import CapacityKind
from twinbench.analysis.index import RunIndex, load_of, target_config_text
from twinbench.analysis.validity import why_not_valid
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
from twinbench.define.claims import Check, CheckKind, Claim
from twinbench.results.metrics import Metric
from twinbench.results.model import CellResult, LoadModel, RunResults


def _histogram_repeats(
    index: RunIndex, scenario: str, cells: Sequence[CellResult], metric: Metric
) -> tuple[float, ...]:
    """A latency percentile metrics.csv does not store (p95), from each repeat's histogram."""
    request = index.request_for(scenario)
    q = metric.quantile
    assert q is not None
    out = []
    for c in cells:
        enc = index.results.histograms.get(c.cell_id, {}).get(request)
        if enc is not None:
            out.append(histograms.merged([enc]).percentile_ms(q))
    return tuple(out)


def _capacity_figures(index: RunIndex, scenario: str) -> list[Figure]:
    """Capacity in the scenario's figure; a target that missed the lowest level is a bound."""
    out = []
    for cap in index.capacities:
        app = index.app_of(cap.target)
        if cap.scenario != scenario or cap.value is None or app is None:
            continue
        if index.antipattern(cap.target):
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
    for target in index.standard_targets_of(scenario):  # an anti-pattern judges no claim
        app = index.app_of(target)
        if app is None:  # a target the run does not describe: no side to put it on
            continue
        config = target_config_text(results, target)
        per_level = []
        for level in index.valid_levels(scenario, target):
            cells = [c for c in index.per_level(scenario, target)[level] if c.valid]
            if not metric.info.stored:
                reps = _histogram_repeats(index, scenario, cells, metric)
            else:
                reps = tuple(
                    v / metric.scale for v in index.repeats(scenario, target, level, metric)
                )
            if reps:
                per_level.append(Figure(target, app, reps, config, load_of(cells[0])))
        if metric is Metric.THROUGHPUT and per_level:
            peak = max(per_level, key=lambda f: f.value)
            load = f"{peak.load:g}" if peak.load is not None else "?"
            out.append(Figure(target, app, peak.repeats, f"{config}, peak at {load}"))
        else:
            out.extend(per_level)
        est = index.estimate(scenario, target) if metric is Metric.THROUGHPUT else None
        if est is not None:
            # Used only where a side has no measured peak (verdicts._pair): capacity from
            # CPU time per request, both sides alike.
            out.append(Figure(target, app, est.repeats, f"{config}, {est.text}", estimate=True))
    return out


def absent(index: RunIndex, scenario: str, metric: Metric) -> str:
    """Why a scenario that ran gave no (or one-sided) figures: its cells' statuses and reasons,
    counted; for a capacity, that it ran without a ladder or which targets stayed unknown."""
    cells = [c for c in index.results.cells if c.config.scenario == scenario]
    if not cells:
        return ""
    if metric is Metric.CAPACITY:
        if not any(c.config.model is LoadModel.STEP for c in cells):
            return f"scenario `{scenario}` ran at one load level: a capacity needs a ladder"
        unknown = [
            f"{f.target} unknown ({f.reason})"
            for f in index.capacities
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


def judge_claims(claims: Sequence[Claim], index: RunIndex) -> tuple[ClaimOutcome, ...]:
    out = []
    for claim in claims:
        outcomes = []
        for check in claim.checks:
            if check.kind is CheckKind.MICRO:
                outcomes.append(_judge_micro(check, index.results))
                continue
            figs: list[Figure] = []
            why = ""
            if check.scenario and check.metric:
                figs = figures_for(index, check.scenario, check.metric)
                why = absent(index, check.scenario, check.metric)
            outcomes.append(judge_check(check, figs, why))
        out.append(judge_claim(claim, outcomes))
    return tuple(out)
