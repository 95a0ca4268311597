"""Capacity estimated from CPU time per request: from valid or load-generator-bound cells
only, at the highest such level, CPUs × 1e6 / µs, never for held connections."""

from __future__ import annotations

import dataclasses

import pytest
from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.analysis.derive import analyse
from twinbench.analysis.estimate import estimate, saturated_cpu_us, saturated_repeats
from twinbench.analysis.headline import headline
from twinbench.results.model import CellStatus, RunResults

BOUND = "load-generator-bound: the Locust processes kept the loader CPUs 97% busy (limit 90%)"


def _run(rows: list[tuple[str, str, int, int, CellStatus, str, float, float]]) -> RunResults:
    """(scenario, target, level, repeat, status, reason, cpu µs/request, throughput)."""
    cells, metrics = [], []
    for scenario, target, level, rep, status, reason, cpu, rps in rows:
        cfg = cell_config(
            f"{scenario}.{target}.l{level}.r{rep}", target=target, scenario=scenario,
            level=level, repeat=rep, users=16 * level,
        )  # fmt: skip
        if target.startswith("flask"):
            cfg = type(cfg)(**{**cfg.__dict__, "app": "flask", "server": "gunicorn"})
        cells.append(cell_result(cfg, status, reason))
        ok = status is CellStatus.OK
        metrics.append(metric_row(cfg, "cpu_per_request", cpu, ok))
        metrics.append(metric_row(cfg, "throughput", rps, ok))
    return RunResults("x", run_info(tuple(c.config for c in cells)), tuple(cells), tuple(metrics))


def test_estimate_from_bound_cells_at_the_highest_level() -> None:
    res = _run([
        ("json", "fastapi-uvicorn", 1, 1, CellStatus.OK, "", 120.0, 3000.0),
        ("json", "fastapi-uvicorn", 2, 1, CellStatus.INVALID, BOUND, 100.0, 8000.0),
        ("json", "fastapi-uvicorn", 2, 2, CellStatus.INVALID, BOUND, 125.0, 7900.0),
    ])  # fmt: skip
    est = estimate(analyse(res), "json", "fastapi-uvicorn")
    assert est is not None
    assert est.level == 2 and est.cpus == 1 and est.loader_bound == 2
    assert est.repeats == pytest.approx((10_000.0, 8_000.0))
    assert est.value == pytest.approx(9_000.0)
    assert est.measured_rps == (8000.0, 7900.0)
    assert est.text.startswith("≈ 9,000 req/s (estimated from CPU time per request")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (CellStatus.INVALID, "target-backlogged: still answering"),
        (CellStatus.FAILED, "target-died: exit 1"),
        (CellStatus.INVALID, "spawn-short: only 3 of 16 users"),
    ],
)
def test_cells_invalid_for_other_reasons_give_no_estimate(status: CellStatus, reason: str) -> None:
    res = _run([("json", "fastapi-uvicorn", 1, 1, status, reason, 100.0, 5000.0)])
    assert estimate(analyse(res), "json", "fastapi-uvicorn") is None


def test_held_connections_and_latency_merits_are_not_estimated() -> None:
    res = _run([("ws_echo", "fastapi-uvicorn", 1, 1, CellStatus.INVALID, BOUND, 50.0, 9000.0)])
    assert estimate(analyse(res), "ws_echo", "fastapi-uvicorn") is None


def test_the_headline_compares_estimates_when_a_side_was_bound() -> None:
    res = _run([
        ("json", "fastapi-uvicorn", 1, r, CellStatus.INVALID, BOUND, cpu, 8000.0)
        for r, cpu in ((1, 100.0), (2, 102.0), (3, 98.0))
    ] + [
        ("json", "flask-gunicorn-gevent", 1, r, CellStatus.OK, "", cpu, 3900.0)
        for r, cpu in ((1, 250.0), (2, 255.0), (3, 245.0))
    ])  # fmt: skip
    (row,) = headline(analyse(res))
    assert row.estimated and row.fastapi_target == "fastapi-uvicorn"
    tput, cpu = row.values
    assert tput.estimate and not cpu.estimate
    assert tput.fastapi == pytest.approx(1e6 / 100.0, rel=0.01)
    assert tput.flask == pytest.approx(1e6 / 250.0, rel=0.01)
    assert tput.ci is not None and tput.ci.ratio == pytest.approx(2.5, rel=0.02)
    assert tput.ci.significant
    assert "Estimated, not measured" in row.note and "--loader-workers" in row.note


def test_no_estimate_row_when_nothing_was_load_generator_bound() -> None:
    res = _run([
        ("json", "fastapi-uvicorn", 1, 1, CellStatus.FAILED, "target-died: exit 1", 100.0, 0.0),
        ("json", "flask-gunicorn-gevent", 1, 1, CellStatus.OK, "", 250.0, 3900.0),
    ])  # fmt: skip
    (row,) = headline(analyse(res))
    assert not row.estimated and row.values == ()


def test_saturated_cpu_us_is_the_least_squares_line_at_full_utilisation() -> None:
    # CPU per request falling with utilisation: 200 µs at 40 %, 160 µs at 80 % → 140 at 100 %
    assert saturated_cpu_us([(0.4, 200.0), (0.8, 160.0)], 160.0) == pytest.approx(140.0)
    # three points off a line: the least-squares slope (-100 µs per unit), through the means
    fitted = saturated_cpu_us([(0.5, 150.0), (0.6, 150.0), (0.7, 130.0)], 130.0)
    assert fitted == pytest.approx(430.0 / 3 - 100.0 * 0.4)
    # rising too (contention): the fit follows the data either way
    assert saturated_cpu_us([(0.5, 100.0), (0.75, 110.0)], 110.0) == pytest.approx(120.0)


def test_saturated_cpu_us_is_clamped_and_refuses_a_slope_it_cannot_see() -> None:
    # a steep fall would more than halve the figure: kept at 1/MAX_FIT_FACTOR of the top level
    assert saturated_cpu_us([(0.1, 900.0), (0.2, 300.0)], 300.0) == pytest.approx(200.0)
    assert saturated_cpu_us([(0.1, 100.0), (0.2, 300.0)], 300.0) == pytest.approx(450.0)
    assert saturated_cpu_us([(0.5, 100.0)], 100.0) is None  # one level
    assert saturated_cpu_us([(0.60, 100.0), (0.62, 90.0)], 90.0) is None  # no spread
    assert saturated_cpu_us([(0.4, 100.0), (0.8, 90.0)], 0.0) is None


def test_saturated_repeats_fit_each_repeat_over_its_levels() -> None:
    rows = [
        ("json", "fastapi-uvicorn", level, rep, CellStatus.INVALID, BOUND, cpu, 5000.0)
        for level, rep, cpu in (
            (1, 1, 200.0), (2, 1, 160.0), (1, 2, 220.0), (2, 2, 180.0),
        )
    ]  # fmt: skip
    res = _run(rows)
    index = analyse(res)
    utils = {(1, 1): 0.4, (2, 1): 0.8, (1, 2): 0.4, (2, 2): 0.8}
    values = {
        c.cell_id: {
            **index.values[c.cell_id],
            ("total", "target_cpu_util"): utils[(c.config.load_level, c.config.repeat)],
        }
        for c in res.cells
    }
    index = dataclasses.replace(index, values=values)
    est = estimate(index, "json", "fastapi-uvicorn")
    assert est is not None and est.level == 2  # the report's figure: the top level alone
    assert est.repeats == pytest.approx((1e6 / 160.0, 1e6 / 180.0))
    fitted = saturated_repeats(index, "json", "fastapi-uvicorn")
    assert fitted == pytest.approx((1e6 / 140.0, 1e6 / 160.0))


def test_saturated_repeats_need_a_ladder() -> None:
    res = _run([("json", "fastapi-uvicorn", 1, 1, CellStatus.INVALID, BOUND, 100.0, 9000.0)])
    assert saturated_repeats(analyse(res), "json", "fastapi-uvicorn") is None
