"""Everything the HTML report shows, computed from loaded runs. Pure: no I/O.

The figures come from the analysis core (one RunIndex per run, built once by
analysis.derive.analyse); this module arranges them into views the template renders.

One or more runs (oldest first): each gets its headline, cell list and configuration; the
latest gets the charts, capacities and claims; with two or more runs the first and last are
compared (deltas), and the configuration of both is shown with what changed between them;
with three or more, the trend (analysis.trend) shows the headline ratios and each target's
figure of merit across the runs in time order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from twinbench.analysis.capacity import CapacityFigure
from twinbench.analysis.ceiling import LoaderCeiling, loader_ceiling, loader_ceilings
from twinbench.analysis.compare import Delta, deltas
from twinbench.analysis.derive import analyse
from twinbench.analysis.figures import judge_claims
from twinbench.analysis.headline import HeadlineRow, headline
from twinbench.analysis.index import RunIndex, load_label, target_config_text
from twinbench.analysis.naive import NaiveComparison, naive_ports
from twinbench.analysis.stats import DEFAULT_RESAMPLES
from twinbench.analysis.summary import Summary, summarise
from twinbench.analysis.trend import Trend, trend
from twinbench.analysis.verdicts import ClaimOutcome
from twinbench.define.claims import CheckKind, Claim
from twinbench.report.sections import (
    Chart,
    ScenarioCharts,
    capacity_charts,
    scenario_charts,
    summary_chart,
    trend_charts,
)
from twinbench.results.metrics import Metric
from twinbench.results.model import CellConfig, CellResult, CellStatus, RunInfo, RunResults

TREND_FROM = 3  # runs: two keep the before/after deltas only
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
    naive: tuple[NaiveComparison, ...] = ()  # what a naive port gets (analysis.naive)


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
    summary: Summary  # the first screen: the latest run's verdict (analysis.summary)
    summary_chart: Chart | None  # None when charts are skipped (tests of the tables)
    resamples: int = DEFAULT_RESAMPLES
    # Three runs or more: the headline ratios and figures of merit across them (time order).
    trend: Trend | None = None
    trend_charts: tuple[Chart, ...] = ()

    @property
    def latest(self) -> RunView:
        return self.runs[-1]


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
        tput = index.value(cell, Metric.THROUGHPUT, request) if cell else None
        p99 = index.value(cell, Metric.LATENCY_P99, request) if cell else None
        out.append(CellView(cfg, cell, load_label(cfg), tput, p99))
    return tuple(out)


def _max(values: Sequence[float]) -> float | None:
    return max(values) if values else None


def run_view(index: RunIndex, with_charts: bool = True) -> RunView:
    results = index.results
    targets = tuple(
        TargetView(t.name, t.app, t.label, target_config_text(results, t.name), t.description)
        for t in results.run.targets
    )
    valid = [c for c in results.cells if c.valid]
    loader = [v for c in valid if (v := index.value(c, Metric.LOADER_CPU_UTIL)) is not None]
    busy = [v for c in valid if (v := index.value(c, Metric.LOADER_CPUS_BUSY)) is not None]
    scenarios = [s for s in index.scenario_names() if index.targets_of(s)]
    caps = tuple(CapacityView(f, target_config_text(results, f.target)) for f in index.capacities)
    return RunView(
        results,
        headline(index),
        tuple(scenario_charts(index, s) for s in scenarios) if with_charts else (),
        capacity_charts(index) if with_charts else (),
        caps,
        _cells(index),
        targets,
        _max(loader),
        _max(busy),
        loader_ceiling(index),
        loader_ceilings(index),
        naive_ports(index),
    )


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


def claims_for(runs: Sequence[RunResults], ledger: Sequence[Claim]) -> tuple[Claim, ...]:
    """The claims a report judges (on its latest run): the ledger's (the seed claims, about
    the twins) that the latest run measured some part of (a built-in scenario they name, or
    the micro-benchmarks every run of a built-in scenario ends with), then the claims each
    run stored from its config file (the latest run's wording wins for an id). A run of a
    team's own scenarios only is judged on its own claims."""
    run = runs[-1].run
    ran = {s.name for s in run.scenario_defs if s.builtin}
    seed = [
        c
        for c in ledger
        if set(c.scenarios) & ran or (ran and any(k.kind is CheckKind.MICRO for k in c.checks))
    ]
    own: dict[str, Claim] = {}
    for r in runs:
        own.update({c.id: c for c in r.run.claims})
    taken = {c.id for c in seed}
    return (*seed, *(c for c in own.values() if c.id not in taken))


def build_model(
    runs: Sequence[RunResults],
    claims: Sequence[Claim],
    generated_utc: str,
    title: str = "",
    with_charts: bool = True,  # tests of the tables skip the (slow) charts
) -> ReportModel:
    if not runs:
        raise ValueError("a report needs at least one run")
    indexes = [analyse(r) for r in runs]  # each run's derived data, once
    # Charts only for the run they are shown for (the latest): the others cost time unseen.
    last = len(runs) - 1
    views = tuple(run_view(ix, with_charts and i == last) for i, ix in enumerate(indexes))
    n = runs[-1].run.repeats
    claims_judged = judge_claims(claims, indexes[-1])
    summary = summarise(indexes[-1], views[-1].headline, claims_judged)
    runs_trend = None
    if len(runs) >= TREND_FROM:
        summaries = [
            summarise(ix, v.headline, ()) for ix, v in zip(indexes[:-1], views[:-1], strict=True)
        ]
        runs_trend = trend(indexes, [*summaries, summary])
    return ReportModel(
        title or f"twinbench report: {runs[-1].run.run_id}",
        generated_utc,
        views,
        claims_judged,
        deltas(indexes[0], indexes[-1]) if len(runs) > 1 else (),
        config_rows([r.run for r in runs]),
        math.comb(2 * n - 1, n) if n > 0 else 0,
        summary,
        summary_chart(summary) if with_charts else None,
        trend=runs_trend,
        trend_charts=trend_charts(runs_trend) if runs_trend is not None and with_charts else (),
    )
