"""Profile × targets × scenarios → cells in run order, and the Locust plan of each scenario. Pure.

Order within a scenario: load level, then repeat, then target — so targets alternate
(A B A B ...) and no target gets all its repeats back to back, which would let a slow drift
of the machine (thermal, another tenant) land on one target only; and a ladder climbs, so a
target overloaded at a high level never leaves its backlog to a lower one. One Locust process
runs a whole scenario: each cell is one phase of its plan, Locust switching host between
phases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twinbench.define.profiles import Level, Profile
from twinbench.define.scenarios import ParamValue, Scenario
from twinbench.define.targets import Target
from twinbench.errors import UsageError
from twinbench.results.model import CellConfig, Driver, LoadModel

PLAN_SCHEMA = 1
# Before each phase, Locust waits up to this long for the phase's target to answer its health
# path promptly (loadtests/twinload/settle.py): a server still draining requests an overloaded
# earlier phase left queued would be measured on that backlog. Unsettled cells are invalid.
SETTLE_S = 6.0


def cell_id(scenario: str, target: str, level: int, repeat: int) -> str:
    """Stable across runs, so one cell can be compared run to run by id."""
    return f"{scenario}.{target}.l{level}.r{repeat}"


@dataclass(frozen=True)
class Instance:
    """One running server a scenario needs: a target with a worker count."""

    target: Target
    workers: int
    threads: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.target.name, self.workers, self.threads)


@dataclass(frozen=True)
class PlannedCell:
    config: CellConfig
    unsupported: str  # "" when the target serves the scenario; else the registry's reason


@dataclass(frozen=True)
class ScenarioPlan:
    scenario: Scenario
    model: LoadModel
    driver: Driver
    cells: tuple[PlannedCell, ...]  # in run order, unsupported ones included in place
    instances: Mapping[str, Instance]  # target name → the server it runs on (supported only)
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the locustfile's, merged

    @property
    def runnable(self) -> tuple[CellConfig, ...]:
        return tuple(c.config for c in self.cells if not c.unsupported)


@dataclass(frozen=True)
class RunPlan:
    scenarios: tuple[ScenarioPlan, ...]

    @property
    def cells(self) -> tuple[CellConfig, ...]:
        return tuple(c.config for sp in self.scenarios for c in sp.cells)

    @property
    def runnable_count(self) -> int:
        return sum(len(sp.runnable) for sp in self.scenarios)


def _driver(sc: Scenario, levels: tuple[Level, ...]) -> Driver:
    """Levels with a rate drive the open model, levels of users the closed one; one Locust
    process runs a scenario's phases with one driver, so a ladder may not mix them."""
    rated = [lv.rate is not None for lv in levels]
    if any(rated) and not all(rated):
        raise UsageError(f"{sc.name}: a ladder mixes rates and users; use one or the other")
    if not any(rated):
        return Driver.CLOSED
    if not sc.open_model:
        if not sc.builtin:
            raise UsageError(
                f"{sc.source}: scenario {sc.name}: rates need a locustfile whose User classes "
                "have plain @task functions (TaskSets run closed only); give it users"
            )
        raise UsageError(f"{sc.name} holds connections and runs closed only; give it users")
    return Driver.OPEN


def own_levels(sc: Scenario) -> tuple[Level, ...]:
    """A config file's scenario brings its own ladder (`users` or `rates`); built-in ones
    take the profile's."""
    if sc.users:
        return tuple(Level(users=u) for u in sc.users)
    return tuple(Level(users=None, rate=r) for r in sc.rates)


def _order(ladder: tuple[Level, ...], repeats: int) -> list[tuple[int, int, Level]]:
    """(repeat, level index, level) in run order: level-major for ladders."""
    levels = list(enumerate(ladder, start=1))
    return [(rep, li, lv) for li, lv in levels for rep in range(1, repeats + 1)]


def _model(driver: Driver, levels: tuple[Level, ...]) -> LoadModel:
    if len(levels) > 1:
        return LoadModel.STEP
    return LoadModel.OPEN if driver is Driver.OPEN else LoadModel.CLOSED


def build_plan(
    profile: Profile,
    targets: Sequence[Target],
    scenarios: Sequence[Scenario],
    *,
    repeats: int,
    target_cpus: int,
    levels: tuple[Level, ...] | None = None,
) -> RunPlan:
    """`levels`, when given, replaces the profile's ladder of every scenario (--users/--rates)."""
    order = 0
    plans = []
    for sc in scenarios:
        ladder = levels or own_levels(sc) or profile.levels_for(sc.name)
        timing = profile.timing_for(sc.name)
        driver = _driver(sc, ladder)
        model = _model(driver, ladder)
        instances = {}
        for t in targets:
            if t.supports(sc.feature):
                workers = sc.workers or t.default_workers(target_cpus)
                instances[t.name] = Instance(t, workers, t.threads)
        cells = []
        # A ladder climbs level by level (every repeat of a level before the next one): a
        # target overloaded at a high level must not leave its backlog to a lower one.
        # Targets still alternate A B A B inside each level.
        for rep, li, level in _order(ladder, repeats):
            for t in targets:
                inst = instances.get(t.name)
                workers = inst.workers if inst else t.default_workers(target_cpus)
                config = CellConfig(
                    cell_id=cell_id(sc.name, t.name, li, rep),
                    scenario=sc.name,
                    target=t.name,
                    app=t.app.value,
                    server=t.server.value,
                    worker_model=t.worker_model.value,
                    workers=workers,
                    threads=t.threads,
                    db_pool_size=t.pool_size(workers, t.threads),
                    model=model,
                    driver=driver,
                    load_level=li,
                    users=level.users,
                    rate=level.rate,
                    repeat=rep,
                    warmup_s=timing.warmup_s,
                    measure_s=timing.measure_s,
                    order=order,
                )
                order += 1
                cells.append(PlannedCell(config, t.unsupported.get(sc.feature, "")))
        params = {**sc.params, **profile.params_for(sc.name)}
        plans.append(ScenarioPlan(sc, model, driver, tuple(cells), instances, params))
    return RunPlan(tuple(plans))


def locust_plan(sp: ScenarioPlan, hosts: Mapping[str, str]) -> dict[str, Any]:
    """The `--tb-plan` JSON (loadtests/README.md): one phase per runnable cell, in order."""
    phases = [
        {
            "id": c.cell_id,
            "host": hosts[c.target],
            "users": c.users,
            "rate": c.rate,
            "warmup_s": c.warmup_s,
            "measure_s": c.measure_s,
            "settle_url": hosts[c.target] + sp.instances[c.target].target.health_path,
        }
        for c in sp.runnable
    ]
    return {
        "schema": PLAN_SCHEMA,
        "scenario": sp.scenario.name,
        "model": sp.driver.value,
        "phases": phases,
        "params": dict(sp.params),
        "settle_s": SETTLE_S,
    }


@dataclass(frozen=True)
class CostModel:
    """Fixed costs in seconds, measured on the 2-core reference machine (README).

    Locust's shape ticks once a second: a phase starts on a tick and its end is noticed on
    the first tick after spawn + warm-up + measure, where one Locust process stops its users
    at once and starts the next phase; so a phase costs ceil(run) ticks, and windows are
    sized to end just before a tick (0.77 s runs cost 1.0 s: measured 0.22 s between
    windows). A master stops its workers' users asynchronously: one more tick per phase
    (`stop_tick`). A new Locust process per scenario starts while the last one finishes:
    measured ~1.2 s between scenarios on an idle machine; an open-model one ~2 s more. Fresh
    servers for a connection scenario: measured 4 s.
    """

    tick_s: float = 1.0
    spawn_s: float = 0.15  # spawning users before warm-up (more with hundreds of users)
    locust_start_s: float = 1.2
    open_start_extra_s: float = 2.0
    instance_start_s: float = 2.0  # one server, start to healthy (starts overlap)
    restart_s: float = 4.0  # stopping and starting a scenario's servers (in parallel)
    run_setup_s: float = 3.0  # database check and init, upstream, run.json
    micro_s: float = 3.0  # the in-process micro-benchmarks after the last scenario
    stop_tick: bool = False  # distributed Locust: users are stopped on a tick of their own

    def phase_s(self, warmup_s: float, measure_s: float) -> float:
        ticks = math.ceil((warmup_s + measure_s + self.spawn_s) / self.tick_s)
        return (ticks + (1 if self.stop_tick else 0)) * self.tick_s


DEFAULT_COST = CostModel()


def estimate_seconds(plan: RunPlan, cost: CostModel = DEFAULT_COST) -> float:
    """Wall-clock estimate of a run; the profile budgets are checked with it."""
    total = cost.run_setup_s + cost.micro_s
    instances = {i.key for sp in plan.scenarios for i in sp.instances.values()}
    total += cost.instance_start_s * len(instances)
    for sp in plan.scenarios:
        cells = sp.runnable
        if sp.scenario.connections and sp.instances:  # fresh servers, started together
            total += cost.restart_s
        if cells:
            total += cost.locust_start_s
            if sp.driver is Driver.OPEN:
                total += cost.open_start_extra_s
        total += sum(cost.phase_s(c.warmup_s, c.measure_s) for c in cells)
    return total
