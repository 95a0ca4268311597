"""Ceilings: the load generator's (from loader_cpu_util, never from reason strings) and each
target's capacity at the SLO in the scenario's figure, with bounds for targets that met none."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from runner_factories import cell_config, cell_result, metric_row, run_info

from twinbench.analysis.ceiling import loader_ceiling, loader_ceilings
from twinbench.analysis.derive import analyse
from twinbench.analysis.validity import LOADER_BUSY_LIMIT
from twinbench.report.build import load_with_histograms
from twinbench.results.model import CellStatus, RunResults

DATA = Path(__file__).parents[1] / "data"
RECORDED = (DATA / "quick-sqlite", DATA / "quick-postgres")
# Both wordings validity.judge uses for load-generator-bound cells: the ceiling must not
# depend on either.
LOCUST = "load-generator-bound: the Locust processes kept the loader CPUs 96% busy (limit 90%)"
NEIGHBOURS = "load-generator-bound: everything on them kept the loader CPUs 98% busy (limit 90%)"


def _results(rows: list[tuple[str, str, CellStatus, str, float, float]]) -> RunResults:
    cells, metrics = [], []
    for scenario, target, status, reason, rps, util in rows:
        cfg = cell_config(f"{scenario}.{target}.l1.r1", target=target, scenario=scenario)
        cells.append(cell_result(cfg, status, reason))
        ok = status is CellStatus.OK
        metrics.append(metric_row(cfg, "throughput", rps, ok))
        metrics.append(metric_row(cfg, "loader_cpu_util", util, ok))
    return RunResults("x", run_info(tuple(c.config for c in cells)), tuple(cells), tuple(metrics))


def test_the_ceiling_is_a_cell_where_locust_itself_saturated() -> None:
    res = _results(
        [
            ("plaintext", "fastapi-uvicorn", CellStatus.INVALID, LOCUST, 8700.0, 0.96),
            ("plaintext", "flask-gunicorn-sync", CellStatus.OK, "", 3000.0, 0.4),
            ("json", "fastapi-uvicorn", CellStatus.INVALID, LOCUST, 9100.0, 0.95),
            ("db", "fastapi-uvicorn", CellStatus.INVALID, LOCUST, 9999.0, 0.97),
        ]
    )
    c = loader_ceiling(analyse(res))
    assert c is not None and c.saturated
    assert (c.rps, c.scenario, c.target) == (8700.0, "plaintext", "fastapi-uvicorn")
    assert "8,700 req/s" in c.text and "CPU 1" in c.text and "96%" in c.text
    assert [x.scenario for x in loader_ceilings(analyse(res))] == ["plaintext", "json", "db"]


def test_a_locust_bound_cell_counts_whatever_its_reason_says() -> None:
    """The reason may name the neighbours first ("everything on them ...") although Locust's own
    share was over the limit too: the metric decides, not the wording."""
    res = _results([("json", "fastapi-uvicorn", CellStatus.INVALID, NEIGHBOURS, 5000.0, 0.93)])
    c = loader_ceiling(analyse(res))
    assert c is not None and c.saturated and c.rps == 5000.0


def test_neighbours_saturating_the_cpu_do_not_count_as_locust_s_ceiling() -> None:
    res = _results(
        [
            ("json", "fastapi-uvicorn", CellStatus.INVALID, NEIGHBOURS, 2000.0, 0.5),
            ("json", "flask-gunicorn-sync", CellStatus.OK, "", 2800.0, 0.6),
        ]
    )
    c = loader_ceiling(analyse(res))
    assert c is not None and not c.saturated and c.rps == 2800.0
    assert c.text.startswith("≥ 2,800 req/s")
    assert loader_ceilings(analyse(res)) == ()


def test_a_lower_bound_says_when_the_loader_cpus_were_saturated_all_the_same() -> None:
    """Locust at 82 % of its CPU while the CPU was 99 % busy (the kernel's loopback work runs on
    the sending CPU): not Locust's ceiling, but the line must not suggest room to spare."""
    res = _results(
        [
            ("plaintext", "fastapi-uvicorn", CellStatus.INVALID, NEIGHBOURS, 5955.0, 0.82),
            ("json", "fastapi-uvicorn", CellStatus.INVALID, NEIGHBOURS, 4100.0, 0.80),
            # An SSE cell's "requests" are events: probes are preferred for the figure.
            ("sse", "fastapi-uvicorn", CellStatus.INVALID, NEIGHBOURS, 10600.0, 0.70),
            ("plaintext", "flask-waitress", CellStatus.OK, "", 3687.0, 0.7),
        ]
    )
    busy = {
        "plaintext.fastapi-uvicorn": 0.99,
        "json.fastapi-uvicorn": 0.95,
        "sse.fastapi-uvicorn": 0.97,
    }
    extra = tuple(
        metric_row(c.config, "loader_cpus_busy", busy.get(c.cell_id[:-6], 0.8), c.valid)
        for c in res.cells
    )
    res = dataclasses.replace(res, metrics=res.metrics + extra)
    c = loader_ceiling(analyse(res))
    assert c is not None and not c.saturated and c.rps == 3687.0
    assert c.cpus_busy is not None
    assert (c.cpus_busy.cells, c.cpus_busy.rps) == (3, 5955.0)
    assert c.cpus_busy.cell_id == "plaintext.fastapi-uvicorn.l1.r1"
    assert "never ran out" not in c.text
    assert "itself was ≥ 90% busy" in c.text and "in 3 cells" in c.text and "5,955" in c.text
    # Without busy CPUs the lower bound stands alone.
    plain = loader_ceiling(
        analyse(_results([("json", "flask-gunicorn-sync", CellStatus.OK, "", 2800.0, 0.6)]))
    )
    assert plain is not None and plain.cpus_busy is None and "busy" not in plain.text


def test_no_measured_cell_no_ceiling() -> None:
    assert loader_ceiling(analyse(_results([]))) is None


@pytest.fixture(scope="module", params=RECORDED, ids=lambda p: p.name)
def recorded(request: pytest.FixtureRequest) -> tuple[RunResults, pd.DataFrame]:
    path = request.param
    return load_with_histograms(path), pd.read_csv(path / "metrics.csv")


def test_recorded_ceilings_are_the_cells_pandas_finds(
    recorded: tuple[RunResults, pd.DataFrame],
) -> None:
    results, df = recorded
    total = df[df.request == "total"].pivot_table(
        index=["cell_id", "scenario", "target"], columns="metric", values="value"
    )
    saturated = total[total.loader_cpu_util >= LOADER_BUSY_LIMIT].reset_index()
    expected = {
        sc: (g.throughput.max(), g.loc[g.throughput.idxmax(), "cell_id"])
        for sc, g in saturated.groupby("scenario")
    }
    got = {c.scenario: (c.rps, c.cell_id) for c in loader_ceilings(analyse(results))}
    assert got.keys() == expected.keys()
    for sc, (rps, cell_id) in expected.items():
        assert got[sc][0] == pytest.approx(rps) and got[sc][1] == cell_id
