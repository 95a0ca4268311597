from __future__ import annotations

from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.ceiling import loader_ceiling
from twinbench.results import CellStatus, Driver, RunResults
from twinbench.validity import Observation, judge

# The exact wording validity.judge uses when Locust itself was the bottleneck.
LOCUST_BOUND = judge(Observation(Driver.CLOSED, None, 1.0, 10, 0.97, 0.97, None, "")).reason


def _results(rows: list[tuple[str, str, CellStatus, str, float]]) -> RunResults:
    cells, metrics = [], []
    for scenario, target, status, reason, rps in rows:
        cfg = cell_config(f"{scenario}.{target}.l1.r1", target=target, scenario=scenario)
        cells.append(cell_result(cfg, status, reason))
        metrics.append(metric_row(cfg, "throughput", rps, status is CellStatus.OK))
    return RunResults("x", run_info(tuple(c.config for c in cells)), tuple(cells), tuple(metrics))


def test_the_ceiling_is_a_cell_where_locust_itself_saturated() -> None:
    assert LOCUST_BOUND.startswith("load-generator-bound: the Locust processes")
    res = _results(
        [
            ("plaintext", "fastapi-uvicorn", CellStatus.INVALID, LOCUST_BOUND, 8700.0),
            ("plaintext", "flask-gunicorn-sync", CellStatus.OK, "", 3000.0),
            ("json", "fastapi-uvicorn", CellStatus.INVALID, LOCUST_BOUND, 9100.0),
            ("db", "fastapi-uvicorn", CellStatus.INVALID, LOCUST_BOUND, 9999.0),
        ]
    )
    c = loader_ceiling(res)
    assert c is not None and c.saturated
    assert (c.rps, c.scenario, c.target) == (8700.0, "plaintext", "fastapi-uvicorn")
    assert "8,700 req/s" in c.text and "CPU 1" in c.text


def test_neighbours_saturating_the_cpu_do_not_count_as_locust_s_ceiling() -> None:
    neighbours = "load-generator-bound: everything on them kept the loader CPUs 98% busy"
    res = _results(
        [
            ("json", "fastapi-uvicorn", CellStatus.INVALID, neighbours, 2000.0),
            ("json", "flask-gunicorn-sync", CellStatus.OK, "", 2800.0),
        ]
    )
    c = loader_ceiling(res)
    assert c is not None and not c.saturated and c.rps == 2800.0
    assert c.text.startswith("≥ 2,800 req/s")


def test_no_probe_scenario_no_ceiling() -> None:
    assert loader_ceiling(_results([("db", "fastapi-uvicorn", CellStatus.OK, "", 5000.0)])) is None
