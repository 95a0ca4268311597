"""Builders of results records for the runner's unit tests (no I/O)."""

from __future__ import annotations

import contextlib

from twinbench.define import scenarios as catalogue
from twinbench.errors import UsageError
from twinbench.results.model import (
    SCHEMA_VERSION,
    CellConfig,
    CellResult,
    CellStatus,
    Driver,
    GitInfo,
    LoadModel,
    MachineInfo,
    MetricRow,
    Pinning,
    ReasonKind,
    RequestStats,
    RunInfo,
    Slo,
    TargetConfig,
    Window,
)


def cell_config(
    cell_id: str = "json.fastapi-uvicorn.l1.r1",
    *,
    target: str = "fastapi-uvicorn",
    scenario: str = "json",
    level: int = 1,
    users: int | None = 8,
    rate: float | None = None,
    repeat: int = 1,
    model: LoadModel = LoadModel.CLOSED,
) -> CellConfig:
    return CellConfig(
        cell_id=cell_id,
        scenario=scenario,
        target=target,
        app="fastapi",
        server="uvicorn",
        worker_model="asyncio",
        workers=1,
        threads=1,
        db_pool_size=16,
        model=model,
        driver=Driver.OPEN if rate is not None else Driver.CLOSED,
        load_level=level,
        users=users,
        rate=rate,
        repeat=repeat,
        warmup_s=0.5,
        measure_s=1.5,
        order=0,
    )


def scenario_defs(cells: tuple[CellConfig, ...]) -> tuple[catalogue.Scenario, ...]:
    """The catalogue's definitions of the scenarios the cells name (json when none)."""
    names = dict.fromkeys([c.scenario for c in cells] or ["json"])
    out = []
    for name in names:
        with contextlib.suppress(UsageError):
            out.append(catalogue.get(name))
    return tuple(out)


def reason_kind(status: CellStatus, reason: str) -> ReasonKind | None:
    """The kind a runner would have stored with this reason (its first word)."""
    if status is CellStatus.OK:
        return None
    if status is CellStatus.UNSUPPORTED:
        return ReasonKind.UNSUPPORTED
    try:
        return ReasonKind(reason.split(":", 1)[0].strip())
    except ValueError:
        return None


def run_info(cells: tuple[CellConfig, ...] = ()) -> RunInfo:
    return RunInfo(
        schema_version=SCHEMA_VERSION,
        run_id="20250101T000000Z-abcd",
        started_utc="2025-01-01T00:00:00Z",
        twinbench_version="0.1.0",
        command=("twinbench", "run"),
        git=GitInfo("deadbeef", True),
        packages={"flask": "3.1.0", "locust": "2.30"},
        machine=MachineInfo("Test CPU", 2, 1, 1 << 30, "Linux", "3.11"),
        pinning=Pinning((0,), (1,), (1,), (1,), "SQLite inside the target process"),
        profile="smoke",
        database="sqlite:///x.sqlite3",
        database_kind="sqlite",
        upstream_url="http://127.0.0.1:8100",
        loader_workers=0,
        slo=Slo(100.0, 0.001),
        max_seconds=120.0,
        repeats=1,
        targets=(
            TargetConfig(
                "fastapi-uvicorn", "fastapi", "uvicorn", "asyncio", 1, 1, 16, "l", "d", "builtin"
            ),
        ),
        scenarios=tuple(s.name for s in scenario_defs(cells)),
        cells=cells,
        scenario_defs=scenario_defs(cells),
    )


def cell_result(
    config: CellConfig, status: CellStatus = CellStatus.OK, reason: str = ""
) -> CellResult:
    return CellResult(
        cell_id=config.cell_id,
        config=config,
        status=status,
        reason=reason,
        stderr_tail="",
        window=Window(1, 2, 1_500_000_002),
        loader_processes=1,
        requests=(RequestStats("total", 100, 1), RequestStats("/json", 100, 1)),
        open=None,
        errors={"boom": 1},
        finished_utc="2025-01-01T00:00:02Z",
        reason_kind=reason_kind(status, reason),
    )


def metric_row(
    config: CellConfig,
    metric: str,
    value: float | None,
    valid: bool = True,
    request: str = "total",
) -> MetricRow:
    return MetricRow(
        run_id="20250101T000000Z-abcd",
        cell_id=config.cell_id,
        target=config.target,
        app=config.app,
        server=config.server,
        worker_model=config.worker_model,
        workers=config.workers,
        threads=config.threads,
        scenario=config.scenario,
        model=config.model.value,
        load_level=config.load_level,
        users=config.users,
        rate=config.rate,
        repeat=config.repeat,
        request=request,
        metric=metric,
        value=value,
        unit="ms",
        status="ok" if valid else "invalid",
        valid=valid,
        reason="" if valid else "load-generator-bound",
    )
