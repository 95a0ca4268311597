"""Validity rules and capacity: invalid cells never count, the SLO decides the level."""

from __future__ import annotations

from runner_factories import cell_config, cell_result, metric_row

from twinbench.analysis.validity import Observation, capacities, judge
from twinbench.results.model import CellStatus, Driver, LoadModel, OpenLoad, Slo


def _obs(**kw) -> Observation:
    base = dict(
        driver=Driver.CLOSED,
        rate=None,
        measure_s=2.0,
        requests=1000,
        loader_cpu_util=0.5,
        loader_cpus_busy=0.6,
        open=None,
        target_exit="",
    )
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def test_ok() -> None:
    assert judge(_obs()).status is CellStatus.OK


def test_loader_busy_is_invalid() -> None:
    v = judge(_obs(loader_cpu_util=0.95))
    assert v.status is CellStatus.INVALID and v.reason.startswith("load-generator-bound")
    v = judge(_obs(loader_cpus_busy=0.90))
    assert v.status is CellStatus.INVALID and "everything on them" in v.reason
    assert judge(_obs(loader_cpus_busy=0.89)).status is CellStatus.OK


def test_open_rate_missed_by_more_than_5_percent() -> None:
    ok = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 192, 0, 0))
    assert judge(ok).status is CellStatus.OK  # 96 %
    short = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 180, 0, 0))
    assert "load-generator-bound" in judge(short).reason  # 90 %
    # drops are the target's doing (the in-flight cap was full): they count as attempts
    drops = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 100, 0, 100))
    assert judge(drops).status is CellStatus.OK
    late = _obs(driver=Driver.OPEN, rate=100.0, open=OpenLoad(200, 200, 20, 0))
    assert "late" in judge(late).reason


def test_a_backlogged_target_is_invalid() -> None:
    v = judge(_obs(unsettled_after_s=15.2))
    assert v.status is CellStatus.INVALID and v.reason.startswith("target-backlogged")
    assert "after 15 s" in v.reason


def test_dead_target_fails_and_empty_is_invalid() -> None:
    assert judge(_obs(target_exit="exited with code -9")).status is CellStatus.FAILED
    assert judge(_obs(requests=0)).status is CellStatus.INVALID


def _ladder(p99s: list[float], statuses: list[CellStatus] | None = None):
    cells, rows = [], []
    for i, p99 in enumerate(p99s, start=1):
        for rep in (1, 2, 3):
            cfg = cell_config(
                f"json.t.l{i}.r{rep}", level=i, users=4**i, repeat=rep, model=LoadModel.STEP
            )
            st = (statuses or [CellStatus.OK] * len(p99s))[i - 1]
            cells.append(
                cell_result(cfg, st, "" if st is CellStatus.OK else "load-generator-bound")
            )
            rows += [
                metric_row(cfg, "latency_p99", p99),
                metric_row(cfg, "requests", 10000),
                metric_row(cfg, "failures", 0),
                metric_row(cfg, "throughput", 1000.0 * i),
            ]
    return cells, rows


def test_capacity_highest_level_within_slo() -> None:
    cells, rows = _ladder([5.0, 40.0, 250.0])
    (cap,) = capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 2 and cap.users == 16 and cap.throughput_rps == 2000.0
    assert cap.p99_ms == 40.0


def test_invalid_level_never_capacity() -> None:
    cells, rows = _ladder([5.0, 40.0, 50.0], [CellStatus.OK, CellStatus.OK, CellStatus.INVALID])
    (cap,) = capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 2


def test_no_level_qualifies() -> None:
    cells, rows = _ladder([500.0])
    (cap,) = capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level is None and "no level met the SLO" in cap.reason


def test_non_step_cells_have_no_capacity() -> None:
    cfg = cell_config()
    assert capacities([cell_result(cfg)], [metric_row(cfg, "latency_p99", 1.0)], Slo(1, 1)) == ()


def _upstream_ladder(p99s_by_level: list[dict[int, float]]):
    """Levels of an upstream ladder: wait (ms) → p99 (ms) of that wait's request."""
    cells, rows = [], []
    for i, p99s in enumerate(p99s_by_level, start=1):
        for rep in (1, 2, 3):
            cfg = cell_config(
                f"upstream.t.l{i}.r{rep}",
                scenario="upstream",
                level=i,
                users=8**i,
                repeat=rep,
                model=LoadModel.STEP,
            )
            cells.append(cell_result(cfg))
            rows += [
                metric_row(cfg, "requests", 1000),
                metric_row(cfg, "failures", 0),
                metric_row(cfg, "latency_p99", max(p99s.values())),
                metric_row(cfg, "inflight", 7.5 * i),
            ]
            rows += [
                metric_row(cfg, "latency_p99", p99, request=f"GET /api/upstream?ms={wait}")
                for wait, p99 in p99s.items()
            ]
    return cells, rows


def test_upstream_capacity_holds_each_wait_to_its_own_slo() -> None:
    # Level 1: every wait within wait + 100 ms (p99 560 ms on the 500 ms wait is fine,
    # although far above an absolute 100 ms). Level 2: the 50 ms wait took 180 ms.
    cells, rows = _upstream_ladder([{50: 60.0, 500: 560.0}, {50: 180.0, 500: 590.0}])
    (cap,) = capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 1 and cap.users == 8
    assert cap.inflight == 7.5  # the figure of merit: requests in flight held
    assert cap.p99_ms == 560.0  # the p99 of the wait closest to its limit
    assert cap.slo == "every wait's p99 ≤ the wait + 100 ms"
    cells, rows = _upstream_ladder([{50: 160.0, 500: 520.0}])
    (cap,) = capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level is None and "on the 50 ms wait" in cap.reason


def test_a_target_that_held_few_of_the_connections_is_invalid() -> None:
    v = judge(_obs(held=12.0, users=400))
    assert v.status is CellStatus.INVALID and v.reason.startswith("connections-not-held")
    assert "12 of 400" in v.reason
    assert judge(_obs(held=392.0, users=400)).status is CellStatus.OK  # SSE reconnect gaps
    assert judge(_obs(held=None, users=400)).status is CellStatus.OK  # not a stream scenario


def test_a_short_spawn_is_invalid_and_loader_blame_comes_first() -> None:
    v = judge(_obs(users=400, users_started=380))
    assert v.status is CellStatus.INVALID and v.reason.startswith("spawn-short")
    assert judge(_obs(users=400, users_started=400)).status is CellStatus.OK
    # a saturated Locust that could not finish its handshakes is the generator's fault
    v = judge(_obs(loader_cpu_util=0.97, held=12.0, users=400))
    assert v.reason.startswith("load-generator-bound")
