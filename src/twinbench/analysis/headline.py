"""Best Flask target against best FastAPI target, per scenario, from a RunResults. Pure.

"Best" follows the scenario's figure of merit (twinbench.define.scenarios: peak throughput for most,
p99 for the latency-bound ones, requests in flight held within the SLO for the slow upstream).
Both targets are then compared at the same load: the highest load level where both have
valid cells, so latency, CPU and memory describe equal work. Ratios are FastAPI/Flask over
the per-repeat values (independent runs), with a bootstrap 95 % interval (twinbench.analysis.stats).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from twinbench.analysis.ceiling import CapacityKind, capacity_figures
from twinbench.analysis.stats import RatioCI, ratio_ci
from twinbench.define import scenarios as scenario_catalogue
from twinbench.define.scenarios import Merit, Scenario
from twinbench.define.targets import App
from twinbench.errors import UsageError
from twinbench.results.model import (
    CellConfig,
    CellResult,
    CellStatus,
    Driver,
    RunResults,
    TargetConfig,
)

# Decimal megabytes, the unit the migration plans write ("150 MB → 120 MB").
MB = 1e6
PER_REQUEST = frozenset(
    {"throughput", "requests", "failures", "error_rate"}
    | {f"latency_{p}" for p in ("p50", "p90", "p99", "p999", "max", "mean")}
)


@dataclass(frozen=True)
class Column:
    key: str  # metric name in metrics.csv
    title: str
    unit: str
    scale: float = 1.0  # stored value / scale = shown value
    higher_is_better: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("throughput", "throughput", "req/s", higher_is_better=True),
    Column("latency_p50", "p50", "ms"),
    Column("latency_p99", "p99", "ms"),
    Column("cpu_per_request", "CPU", "µs/req"),
    Column("target_rss_max", "memory", "MB", scale=MB),
)


def scenario_of(name: str) -> Scenario | None:
    """The catalogue's scenario, or None for a name this version does not know."""
    try:
        return scenario_catalogue.get(name)
    except UsageError:
        return None


class RunIndex:
    """metrics.csv rows of one run by cell, and cells by (scenario, target, level)."""

    def __init__(self, results: RunResults) -> None:
        self.results = results
        self.values: dict[str, dict[tuple[str, str], float | None]] = defaultdict(dict)
        for row in results.metrics:
            self.values[row.cell_id][(row.request, row.metric)] = row.value
        self.cells: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
        for cell in results.cells:
            self.cells[(cell.config.scenario, cell.config.target)].append(cell)
        self.targets: dict[str, TargetConfig] = {t.name: t for t in results.run.targets}

    def value(self, cell: CellResult, metric: str, request: str = "total") -> float | None:
        return self.values.get(cell.cell_id, {}).get((request, metric))

    def request_for(self, scenario: str) -> str:
        """The request name a scenario's per-request figures come from.

        `Scenario.main_request` for streams and WebSockets, whose "total" mixes unlike samples
        (a handshake with echo round trips, time to headers with event gaps); matched by suffix
        because the plugin prefixes names with the request type. Otherwise "total".
        """
        sc = scenario_of(scenario)
        suffix = sc.main_request if sc is not None else None
        if suffix is None:
            return "total"
        for cell in self.results.cells:
            if cell.config.scenario == scenario:
                for request, _ in self.values.get(cell.cell_id, {}):
                    if request.endswith(suffix):
                        return request
        return "total"

    def scenarios(self) -> list[str]:
        seen = dict.fromkeys(self.results.run.scenarios)
        seen.update(dict.fromkeys(c.config.scenario for c in self.results.cells))
        return list(seen)

    def targets_of(self, scenario: str) -> list[str]:
        names = [t.name for t in self.results.run.targets]
        names += [c.config.target for c in self.results.cells if c.config.target not in names]
        return [n for n in names if (scenario, n) in self.cells]

    def per_level(self, scenario: str, target: str) -> dict[int, list[CellResult]]:
        out: dict[int, list[CellResult]] = defaultdict(list)
        for cell in self.cells.get((scenario, target), []):
            out[cell.config.load_level].append(cell)
        return dict(sorted(out.items()))

    def repeats(
        self, scenario: str, target: str, level: int, metric: str, request: str | None = None
    ) -> tuple[float, ...]:
        """Values of one metric over the level's *valid* repeats, in repeat order.

        Per-request metrics (throughput, latency) come from the scenario's main request;
        process-wide ones (CPU, memory, gauges) only exist for "total".
        """
        if request is None:
            request = self.request_for(scenario) if metric in PER_REQUEST else "total"
        cells = sorted(
            self.per_level(scenario, target).get(level, []), key=lambda c: c.config.repeat
        )
        vals = (self.value(c, metric, request) for c in cells if c.valid)
        return tuple(v for v in vals if v is not None)

    def valid_levels(self, scenario: str, target: str) -> list[int]:
        return [
            lvl
            for lvl, cells in self.per_level(scenario, target).items()
            if any(c.valid for c in cells)
        ]

    def app_of(self, target: str) -> App | None:
        cfg = self.targets.get(target)
        app = (
            cfg.app
            if cfg
            else next((c.config.app for c in self.results.cells if c.config.target == target), None)
        )
        try:
            return App(app) if app else None
        except ValueError:
            return None


def load_of(cell: CellResult) -> float:
    """The x of every load chart: offered rate (open model) or concurrent users (closed)."""
    cfg = cell.config
    if cfg.driver is Driver.OPEN and cfg.rate is not None:
        return float(cfg.rate)
    return float(cfg.users or 0)


def load_label(cell: CellResult | CellConfig) -> str:
    cfg = cell.config if isinstance(cell, CellResult) else cell
    if cfg.driver is Driver.OPEN and cfg.rate is not None:
        return f"{cfg.rate:g} req/s offered (≤ {cfg.users} in flight)"
    return f"{cfg.users} users"


def target_config_text(results: RunResults, target: str) -> str:
    """Server, worker class, workers, threads, CPU pinning: beside every number."""
    cfg = next((t for t in results.run.targets if t.name == target), None)
    cpus = results.run.pinning.target_cpus
    pinned = f"CPUs {','.join(map(str, cpus))}" if cpus else "unpinned"
    if cfg is None:
        return f"{target} ({pinned})"
    threads = f" × {cfg.threads} threads" if cfg.threads > 1 else ""
    return (
        f"{cfg.server} {cfg.worker_model}, {cfg.workers} worker{'s' * (cfg.workers != 1)}"
        f"{threads}, db pool {cfg.db_pool_size}, {pinned}"
    )


@dataclass(frozen=True)
class Cellvalue:
    """One headline column: both sides' means (shown units) and the FastAPI/Flask ratio."""

    column: Column
    flask: float | None
    fastapi: float | None
    ci: RatioCI | None


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
    note: str  # why a side is missing, if one is


def why_not_valid(cells: list[CellResult]) -> str:
    """'3 × invalid: load-generator-bound; 1 × failed': the statuses of cells that don't count."""
    counts: dict[str, int] = defaultdict(int)
    for c in cells:
        if c.status is CellStatus.UNSUPPORTED:
            counts[c.status.value] += 1  # the registry's reason is a sentence, not a kind
        elif not c.valid:
            kind = c.reason.split(":")[0].strip()
            counts[f"{c.status.value}: {kind}" if kind else c.status.value] += 1
    return "; ".join(f"{n} × {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def merit_of(scenario: str) -> tuple[str, bool]:
    sc = scenario_of(scenario)
    if sc is None:
        return ("throughput", True)
    return (sc.merit.metric, sc.merit.higher_is_better)


def _score(index: RunIndex, scenario: str, target: str, metric: str, higher: bool) -> float | None:
    """The target's figure of merit at its best valid level (peak throughput, lowest p99).

    Requests in flight are only a merit within the SLO: a sync worker pool with 256 users
    queued has as many "in flight" as users, all of them waiting. So that merit is read off
    the capacity (the highest level within the SLO), never off any valid level.
    """
    if metric == Merit.INFLIGHT.metric:
        for cap in capacity_figures(index.results):
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


def best_target(index: RunIndex, scenario: str, app: App) -> str | None:
    """The app's best target by the scenario's merit; by throughput if no cell has the merit."""
    candidates = [t for t in index.targets_of(scenario) if index.app_of(t) is app]
    for metric, higher in (merit_of(scenario), ("throughput", True)):
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
        request = index.request_for(scenario)
        return HeadlineRow(scenario, fl, fa, fl_cfg, fa_cfg, "", None, request, (), note)
    values = []
    for col in COLUMNS:
        a = [v / col.scale for v in index.repeats(scenario, fa, level, col.key)]
        b = [v / col.scale for v in index.repeats(scenario, fl, level, col.key)]
        values.append(
            Cellvalue(
                col,
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


def headline(results: RunResults) -> tuple[HeadlineRow, ...]:
    index = RunIndex(results)
    return tuple(headline_row(index, s) for s in index.scenarios() if index.targets_of(s))


def invalid_cells(results: RunResults) -> tuple[CellResult, ...]:
    return tuple(c for c in results.cells if not c.valid)


def status_counts(results: RunResults) -> Mapping[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for c in results.cells:
        counts[c.status.value] += 1
    return dict(counts)
