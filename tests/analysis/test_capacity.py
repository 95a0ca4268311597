"""Capacity: the highest ladder level within the SLO (capacities), and each target's capacity
in the scenario's figure, with bounds for targets that met none (capacity_figures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.analysis.capacity import CapacityKind, capacities
from twinbench.analysis.derive import analyse
from twinbench.analysis.index import build_index
from twinbench.report.build import load_with_histograms
from twinbench.results.model import (
    Capacity,
    CellStatus,
    Driver,
    LoadModel,
    RunResults,
    RunSummary,
    Slo,
)

DATA = Path(__file__).parents[1] / "data"
RECORDED = (DATA / "quick-sqlite", DATA / "quick-postgres")
LOCUST = "load-generator-bound: the Locust processes kept the loader CPUs 96% busy (limit 90%)"


def _capacities(cells, rows, slo):  # type: ignore[no-untyped-def]
    results = RunResults("x", run_info(tuple(c.config for c in cells)), tuple(cells), tuple(rows))
    return capacities(build_index(results), slo)


@pytest.fixture(scope="module", params=RECORDED, ids=lambda p: p.name)
def recorded(request: pytest.FixtureRequest) -> tuple[RunResults, pd.DataFrame]:
    path = request.param
    return load_with_histograms(path), pd.read_csv(path / "metrics.csv")


def _p99_ladder(p99s: list[float], statuses: list[CellStatus] | None = None):
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
    cells, rows = _p99_ladder([5.0, 40.0, 250.0])
    (cap,) = _capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 2 and cap.users == 16 and cap.throughput_rps == 2000.0
    assert cap.p99_ms == 40.0


def test_invalid_level_never_capacity() -> None:
    cells, rows = _p99_ladder([5.0, 40.0, 50.0], [CellStatus.OK, CellStatus.OK, CellStatus.INVALID])
    (cap,) = _capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 2


def test_no_level_qualifies() -> None:
    cells, rows = _p99_ladder([500.0])
    (cap,) = _capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level is None and "no level met the SLO" in cap.reason


def test_non_step_cells_have_no_capacity() -> None:
    cfg = cell_config()
    assert _capacities([cell_result(cfg)], [metric_row(cfg, "latency_p99", 1.0)], Slo(1, 1)) == ()


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
    (cap,) = _capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level == 1 and cap.users == 8
    assert cap.inflight == 7.5  # the figure of merit: requests in flight held
    assert cap.p99_ms == 560.0  # the p99 of the wait closest to its limit
    assert cap.slo == "every wait's p99 ≤ the wait + 100 ms"
    cells, rows = _upstream_ladder([{50: 160.0, 500: 520.0}])
    (cap,) = _capacities(cells, rows, Slo(100.0, 0.001))
    assert cap.load_level is None and "on the 50 ms wait" in cap.reason


def test_recorded_capacities_use_the_merit_and_keep_targets_that_met_no_level(
    recorded: tuple[RunResults, pd.DataFrame],
) -> None:
    """upstream's figure is requests in flight (Metric.INFLIGHT): the mean over the held level's
    repeats of the `inflight` metric; a target with no level is shown, not dropped."""
    results, df = recorded
    assert results.summary is not None
    figures = {(f.scenario, f.target): f for f in analyse(results).capacities}
    assert set(figures) == {(c.scenario, c.target) for c in results.summary.capacities}
    for cap in results.summary.capacities:
        fig = figures[(cap.scenario, cap.target)]
        assert fig.unit == "requests in flight"
        if cap.load_level is None:
            assert fig.kind in (CapacityKind.BELOW, CapacityKind.UNKNOWN)
            assert fig.text.startswith(("none (below the lowest level", "unknown"))
            continue
        rows = df[
            (df.scenario == cap.scenario)
            & (df.target == cap.target)
            & (df.load_level == cap.load_level)
            & (df.request == "total")
            & (df.metric == "inflight")
            & df.valid
        ]
        assert fig.kind is CapacityKind.HELD
        assert fig.value == pytest.approx(rows.value.mean())
        assert f"at {cap.users} users" in fig.text


def _ladder(
    lowest: tuple[CellStatus, str], rate: float | None = None, scenario: str = "upstream"
) -> RunResults:
    """Two targets on a two-level upstream ladder (16, 256 users, or rates): FastAPI holds
    the top level, the other target's lowest level ends as given; no level qualifies for it."""
    cells, metrics = [], []
    for target in ("fastapi-uvicorn", "flask-gunicorn-sync"):
        for level, users in ((1, 16), (2, 256)):
            cfg = cell_config(
                f"{scenario}.{target}.l{level}.r1", target=target, scenario=scenario,
                level=level, users=users, rate=None if rate is None else rate * users,
                model=LoadModel.STEP,
            )  # fmt: skip
            status, reason = (CellStatus.OK, "")
            if target != "fastapi-uvicorn" and level == 1:
                status, reason = lowest
            cells.append(cell_result(cfg, status, reason))
            metrics.append(metric_row(cfg, "inflight", users * 0.9, status is CellStatus.OK))
    driver = Driver.OPEN if rate is not None else Driver.CLOSED
    top_rate = None if rate is None else rate * 256
    caps = (
        Capacity("fastapi-uvicorn", scenario, driver, 2, 256, top_rate, 50.0, 500.0, "", 230.0),
        Capacity("flask-gunicorn-sync", scenario, driver, None, None, None, None, None, "x"),
    )
    summary = RunSummary("x", "", 1.0, "", {}, caps)
    return RunResults("x", run_info(tuple(c.config for c in cells)), tuple(cells),
                      tuple(metrics), summary)  # fmt: skip


@pytest.mark.parametrize(
    ("lowest", "kind"),
    [
        ((CellStatus.OK, ""), CapacityKind.BELOW),  # measured validly, missed the SLO
        ((CellStatus.INVALID, "no-requests: nothing completed in the window"), CapacityKind.BELOW),
        ((CellStatus.INVALID, "target-backlogged: still answering"), CapacityKind.BELOW),
        ((CellStatus.FAILED, "target-died: exit 1"), CapacityKind.BELOW),
        ((CellStatus.INVALID, LOCUST), CapacityKind.UNKNOWN),  # the load generator's doing
        ((CellStatus.SKIPPED, "time-limit: reached"), CapacityKind.UNKNOWN),
    ],
)
def test_a_target_that_met_no_level_is_below_it_only_by_its_own_doing(
    lowest: tuple[CellStatus, str], kind: CapacityKind
) -> None:
    fa, sync = analyse(_ladder(lowest)).capacities
    assert fa.kind is CapacityKind.HELD and fa.value == pytest.approx(256 * 0.9)
    assert fa.text == "230 requests in flight (at 256 users, level 2 of 2)"
    assert sync.kind is kind
    if kind is CapacityKind.BELOW:
        assert (sync.value, sync.level) == (16.0, 1)
        assert sync.text == "none (below the lowest level, 16 users)"
    else:
        assert sync.value is None and sync.text.startswith("unknown")


def test_closed_ladders_count_users_and_open_ladders_the_rate() -> None:
    fa, sync = analyse(_ladder((CellStatus.OK, ""), scenario="json")).capacities
    assert (fa.unit, fa.value, fa.exact) == ("users", 256.0, True)
    assert (sync.unit, sync.value) == ("users", 16.0)
    fa, sync = analyse(_ladder((CellStatus.OK, ""), rate=10.0, scenario="json")).capacities
    assert (fa.unit, fa.value) == ("req/s", 2560.0)
    assert sync.text == "none (below the lowest level, 160 req/s (≤ 16 in flight))"
