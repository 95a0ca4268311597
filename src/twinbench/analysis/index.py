"""One run's derived data, computed once: figures by cell, cells by scenario and target, each
scenario as it ran, its main request, the targets' capacities and capacity estimates. Pure.

Every consumer (the headline, the claims' figures, the charts, the summary, the gate) takes
a `RunIndex` built by `analysis.derive.analyse`, instead of re-deriving these from the raw
records each time. Scenarios are read from the run itself (`RunInfo.scenario_defs`), never
from the catalogue of the twinbench version reading the folder, so a team's own scenarios
and an older run's are judged by what they were.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twinbench.define.scenarios import Scenario, find_request
from twinbench.define.targets import App
from twinbench.results.metrics import Metric
from twinbench.results.model import (
    NOT_MEASURED_EXTERNAL,
    CellConfig,
    CellResult,
    Driver,
    RunResults,
    TargetConfig,
)

if TYPE_CHECKING:
    from twinbench.analysis.capacity import CapacityFigure
    from twinbench.analysis.estimate import CapacityEstimate

TOTAL = "total"  # the request name of every request of a cell together


@dataclass(frozen=True)
class RunIndex:
    results: RunResults
    # cell id → (request, metric name) → value (None: the cell measured nothing)
    values: Mapping[str, Mapping[tuple[str, str], float | None]]
    # (scenario, target) → its cells, in run order
    cells: Mapping[tuple[str, str], tuple[CellResult, ...]]
    targets: Mapping[str, TargetConfig]
    scenarios: Mapping[str, Scenario]  # as run (RunInfo.scenario_defs)
    # scenario → the request its per-request figures count ("total", or the main request's
    # full name, e.g. "WS ws-echo rtt")
    main_requests: Mapping[str, str]
    capacities: tuple[CapacityFigure, ...] = field(default=())
    # (scenario, target) → its capacity estimated from CPU time per request (analysis.estimate)
    estimates: Mapping[tuple[str, str], CapacityEstimate] = field(default_factory=dict)

    # -- lookups ----------------------------------------------------------------------------
    def value(self, cell: CellResult, metric: Metric | str, request: str = TOTAL) -> float | None:
        name = metric.value if isinstance(metric, Metric) else metric
        return self.values.get(cell.cell_id, {}).get((request, name))

    def request_for(self, scenario: str) -> str:
        """The request a scenario's per-request figures come from: the scenario's main request
        for streams and WebSockets, whose "total" mixes unlike samples (a handshake with echo
        round trips, time to headers with event gaps); otherwise "total"."""
        return self.main_requests.get(scenario, TOTAL)

    def estimate(self, scenario: str, target: str) -> CapacityEstimate | None:
        return self.estimates.get((scenario, target))

    def scenario(self, name: str) -> Scenario | None:
        return self.scenarios.get(name)

    def scenario_names(self) -> list[str]:
        """Scenarios in run order, then any a cell names that run.json does not."""
        seen = dict.fromkeys(self.results.run.scenarios)
        seen.update(dict.fromkeys(c.config.scenario for c in self.results.cells))
        return list(seen)

    def targets_of(self, scenario: str) -> list[str]:
        names = [t.name for t in self.results.run.targets]
        names += [c.config.target for c in self.results.cells if c.config.target not in names]
        return [n for n in dict.fromkeys(names) if (scenario, n) in self.cells]

    def per_level(self, scenario: str, target: str) -> dict[int, list[CellResult]]:
        out: dict[int, list[CellResult]] = defaultdict(list)
        for cell in self.cells.get((scenario, target), ()):
            out[cell.config.load_level].append(cell)
        return dict(sorted(out.items()))

    def repeats(
        self,
        scenario: str,
        target: str,
        level: int,
        metric: Metric | str,
        request: str | None = None,
    ) -> tuple[float, ...]:
        """Values of one metric over the level's *valid* repeats, in repeat order.

        Per-request metrics (throughput, latency) come from the scenario's main request;
        process-wide ones (CPU, memory, gauges) only exist for "total".
        """
        if request is None:
            per_request = isinstance(metric, Metric) and metric.per_request
            request = self.request_for(scenario) if per_request else TOTAL
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

    def antipattern(self, target: str) -> str:
        """What is wrong with a target kept to show an anti-pattern ("" for the others)."""
        cfg = self.targets.get(target)
        return cfg.antipattern if cfg is not None else ""

    def standard_targets_of(self, scenario: str) -> list[str]:
        """The scenario's targets but the anti-patterns: the ones that can be "best"."""
        return [t for t in self.targets_of(scenario) if not self.antipattern(t)]

    def merit(self, scenario: str) -> Metric:
        """The scenario's figure of merit (throughput for one this run does not define)."""
        sc = self.scenarios.get(scenario)
        return sc.merit if sc is not None else Metric.THROUGHPUT


def build_index(results: RunResults) -> RunIndex:
    """The index without capacities (analysis.derive.analyse adds them)."""
    values: dict[str, dict[tuple[str, str], float | None]] = defaultdict(dict)
    for row in results.metrics:
        values[row.cell_id][(row.request, row.metric)] = row.value
    cells: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
    for cell in results.cells:
        cells[(cell.config.scenario, cell.config.target)].append(cell)
    scenarios = {s.name: s for s in results.run.scenario_defs}
    return RunIndex(
        results=results,
        values=dict(values),
        cells={k: tuple(v) for k, v in cells.items()},
        targets={t.name: t for t in results.run.targets},
        scenarios=scenarios,
        main_requests=_main_requests(results, scenarios, values),
    )


def _main_requests(
    results: RunResults,
    scenarios: Mapping[str, Scenario],
    values: Mapping[str, Mapping[tuple[str, str], float | None]],
) -> dict[str, str]:
    """Matched by suffix, because the plugin prefixes names with the request type ("WS");
    a scenario whose main request no cell recorded keeps the bare suffix, so its figures are
    missing rather than silently taken from "total"."""
    out: dict[str, str] = {}
    for name, sc in scenarios.items():
        suffix = sc.main_request
        if suffix is None:
            out[name] = TOTAL
            continue
        found = find_request(
            suffix,
            {
                request
                for cell in results.cells
                if cell.config.scenario == name
                for request, _ in values.get(cell.cell_id, {})
            },
        )
        out[name] = found or TOTAL
    return out


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
    if cfg.url:  # not started here: its workers and pinning are whatever started it did
        resources = f"from {cfg.pid_file}" if cfg.pid_file else NOT_MEASURED_EXTERNAL
        return f"{cfg.server} {cfg.worker_model}, external at {cfg.url}, CPU and memory {resources}"
    threads = f" × {cfg.threads} threads" if cfg.threads > 1 else ""
    # The pool size is the twins' setting (TWINBENCH_DB_POOL); a team's app has its own.
    pool = f", db pool {cfg.db_pool_size}" if cfg.source == "builtin" else ""
    return (
        f"{cfg.server} {cfg.worker_model}, {cfg.workers} worker{'s' * (cfg.workers != 1)}"
        f"{threads}{pool}, {pinned}"
    )
