"""A SYNTHETIC results folder for the report's unit tests: never presented as measured.

The numbers are drawn from seeded distributions, written with the runner's own writer
(twinbench.results.store.ResultsWriter), and every latency metric row is computed from the histogram
stored beside it, the way the runner does, so tests can recompute them. Recorded results from
real runs live under tests/data/ and are used where the report must hold against reality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram

from twinbench.analysis import histograms as latency
from twinbench.define import scenarios
from twinbench.results.model import (
    SCHEMA_VERSION,
    Capacity,
    CellConfig,
    CellResult,
    CellStatus,
    Driver,
    GitInfo,
    LoadModel,
    MachineInfo,
    MetricRow,
    MicroBenchmark,
    MicroResults,
    Pinning,
    ReasonKind,
    RequestStats,
    RunInfo,
    RunSummary,
    Slo,
    TargetConfig,
    Window,
)
from twinbench.results.store import CellHistograms, ResultsWriter


def _target(name: str, app: str, server: str, model: str, workers: int, pool: int) -> TargetConfig:
    return TargetConfig(name, app, server, model, workers, 1, pool, name, "", "builtin")


TARGETS = (
    _target("fastapi-uvicorn", "fastapi", "uvicorn", "asyncio", 1, 16),
    _target("flask-gunicorn-sync", "flask", "gunicorn", "sync", 3, 1),
    _target("flask-gunicorn-gevent", "flask", "gunicorn", "gevent", 1, 16),
)
SSE_NAMES = ("GET /sse/stream", "SSE sse first-event", "SSE sse gap")
# scenario → (driver, levels as (users, rate), request names)
SCENARIOS = {
    "json": (Driver.CLOSED, ((4, None), (16, None)), ("GET /json",)),
    "upstream": (Driver.OPEN, ((200, 50.0),), ("GET /api/upstream",)),
    "sse": (Driver.CLOSED, ((10, None),), SSE_NAMES),
    "ws_echo": (Driver.CLOSED, ((10, None),), ("WS ws connect", "WS ws-echo rtt")),
}
SPEED = {"fastapi-uvicorn": 1.0, "flask-gunicorn-sync": 0.5, "flask-gunicorn-gevent": 0.8}
REPEATS = 2
MEASURE_S = 1.0


def _encode(h: HdrHistogram) -> str:
    raw = h.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)


def _row(run_id: str, cfg: CellConfig, status: CellStatus, reason: str,
         request: str, metric: str, value: float | None, unit: str) -> MetricRow:  # fmt: skip
    return MetricRow(
        run_id, cfg.cell_id, cfg.target, cfg.app, cfg.server, cfg.worker_model, cfg.workers,
        cfg.threads, cfg.scenario, cfg.model.value, cfg.load_level, cfg.users, cfg.rate,
        cfg.repeat, request, metric, value, unit, status.value, status is CellStatus.OK, reason,
    )  # fmt: skip


def write_synthetic(root: Path, seed: int = 1, speedup: float = 1.0) -> Path:
    """Write the folder; `speedup` scales FastAPI's speed (a second, 'after' run)."""
    rng = np.random.default_rng(seed)
    run_id = f"synthetic-{seed}"
    cells: list[CellConfig] = []
    order = 0
    for sc, (driver, levels, _) in SCENARIOS.items():
        for li, (users, rate) in enumerate(levels, 1):
            for rep in range(1, REPEATS + 1):
                for t in TARGETS:
                    order += 1
                    cells.append(CellConfig(
                        f"{sc}.{t.name}.l{li}.r{rep}", sc, t.name, t.app, t.server,
                        t.worker_model, t.workers, t.threads, t.db_pool_size,
                        LoadModel.STEP if len(levels) > 1 else LoadModel(driver.value), driver,
                        li, users, rate, rep, 0.1, MEASURE_S, order,
                    ))  # fmt: skip
    info = RunInfo(
        SCHEMA_VERSION, run_id, "2025-01-01T00:00:00Z", "0.1.0", ("twinbench", "run"),
        GitInfo("0123456789abcdef", False), {"flask": "3.1.0", "fastapi": "0.115.0"},
        MachineInfo("Synthetic CPU", 2, 2, 4 << 30, "Linux", "3.11"),
        Pinning((0,), (1,), (1,), (1,), "SQLite file"), "synthetic", "sqlite:///x.sqlite3",
        "sqlite", "http://127.0.0.1:8100", 0, Slo(50.0, 0.01), 60.0, REPEATS, TARGETS,
        tuple(SCENARIOS), tuple(cells), tuple(scenarios.get(s) for s in SCENARIOS),
    )  # fmt: skip
    writer = ResultsWriter(root)
    writer.write_run(info)
    for cfg in cells:
        _write_cell(writer, run_id, cfg, rng, speedup)
    # json's ladder (4, 16 users): FastAPI holds 16, the Flask targets 4.
    caps = tuple(
        Capacity(t.name, "json", Driver.CLOSED, *((2, 16) if t.app == "fastapi" else (1, 4)),
                 None, 1000.0, 10.0, "", slo="p99 ≤ 50 ms")
        for t in TARGETS
    )  # fmt: skip
    writer.write_micro(_micro(rng))
    writer.write_summary(RunSummary(run_id, "2025-01-01T00:01:00Z", 60.0, "", {}, caps))
    return root


MICRO_MEANS = {"pydantic-v1-dict": 10.0, "pydantic-v2-dict": 1.0,
               "pydantic-v1-json": 12.0, "pydantic-v2-json": 1.1}  # fmt: skip


def _micro(rng: np.random.Generator) -> MicroResults:
    """Seeded rounds around MICRO_MEANS (µs per validation): v2 ~10x faster than v1."""
    return MicroResults(
        (0,),
        1000,
        tuple(
            MicroBenchmark(name, "validation", f"{name} op",
                           tuple(float(x) for x in rng.normal(mean, mean * 0.02, 15)))
            for name, mean in MICRO_MEANS.items()
        ),
    )  # fmt: skip


def _write_cell(
    writer: ResultsWriter, run_id: str, cfg: CellConfig, rng: np.random.Generator, speedup: float
) -> None:
    if cfg.scenario == "ws_echo" and cfg.target == "flask-gunicorn-sync":
        reason = "a sync worker serves one request at a time"
        result = CellResult(cfg.cell_id, cfg, CellStatus.UNSUPPORTED, reason, "", None, 0, (),
                            None, {}, "2025-01-01T00:00:30Z", ReasonKind.UNSUPPORTED)  # fmt: skip
        row = _row(run_id, cfg, CellStatus.UNSUPPORTED, reason, "total", "requests", None, "count")
        writer.write_cell(result, [row], None)
        return
    status, reason, kind = CellStatus.OK, "", None
    if cfg.scenario == "json" and cfg.load_level == 2 and cfg.target == "flask-gunicorn-sync":
        kind = ReasonKind.LOAD_GENERATOR_BOUND
        status, reason = CellStatus.INVALID, kind.reason("loader CPUs 95 % busy")
    speed = SPEED[cfg.target] * (speedup if cfg.app == "fastapi" else 1.0)
    names = SCENARIOS[cfg.scenario][2]
    total = latency.new()
    encoded: dict[str, str] = {}
    stats = []
    for name in names:
        h = latency.new()
        n = int(300 * speed * cfg.load_level)
        draws = np.maximum(1, rng.lognormal(np.log(2000 / speed), 0.5, n).astype(int) // 10 * 10)
        for v, k in zip(*np.unique(draws, return_counts=True), strict=True):
            h.record_value(int(v), int(k))
        total.add(h)
        encoded[name] = _encode(h)
        stats.append(RequestStats(name, n, 0))
    count = int(total.get_total_count())
    window = Window(0, 100_000_000, 100_000_000 + int(MEASURE_S * 1e9))
    result = CellResult(cfg.cell_id, cfg, status, reason, "", window, 1,
                        (RequestStats("total", count, 0), *stats), None, {},
                        "2025-01-01T00:00:30Z", kind)  # fmt: skip
    rows = []
    for request, h in (("total", total), *((n, latency.decode(e)) for n, e in encoded.items())):
        # The runner's way (twinbench.analysis.histograms.percentiles), without its slow mean.
        d = latency.distribution(h)
        rows += [
            _row(run_id, cfg, status, reason, request, "requests", d.total, "count"),
            _row(run_id, cfg, status, reason, request, "throughput", d.total / MEASURE_S, "rps"),
        ]
        for metric, q in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9)):
            value = h.get_value_at_percentile(q) / 1000.0
            rows.append(
                _row(run_id, cfg, status, reason, request, f"latency_{metric}", value, "ms")
            )
    cpu = float(rng.normal(300 / speed, 10))
    rss = float(rng.normal(60e6 / speed, 1e6))
    rows += [
        _row(run_id, cfg, status, reason, "total", "cpu_per_request", cpu, "us"),
        _row(run_id, cfg, status, reason, "total", "target_rss_max", rss, "bytes"),
    ]
    if cfg.scenario in ("sse", "ws_echo"):
        gauge = "streams_held" if cfg.scenario == "sse" else "connections_held"
        held = float(cfg.users or 0)
        rows.append(_row(run_id, cfg, status, reason, "total", f"gauge_{gauge}_max", held, "count"))
    writer.write_cell(result, rows, CellHistograms(cfg.cell_id, _encode(total), encoded))
