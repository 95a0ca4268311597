"""scripts/capacity_check.py: its arithmetic and parsing (the check itself runs servers and
wrk for minutes: `make capacity-check`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "capacity_check.py"


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capacity_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capacity_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


DATA = Path(__file__).parent / "data"


def test_estimates_are_the_reports_own(check: ModuleType) -> None:
    """The check validates the estimate the report prints: read through the same analysis
    (tests/data/quick-postgres: FastAPI's /json cells were load-generator-bound)."""
    from twinbench.analysis.derive import analyse
    from twinbench.results.store import load_run

    folder = DATA / "quick-postgres"
    found = check.report_estimates(folder)
    index = analyse(load_run(folder))
    est = found[("fastapi-uvicorn", "json")]
    ours = index.estimate("json", "fastapi-uvicorn")
    assert ours is not None
    assert est.mean == pytest.approx(ours.value)
    assert (est.low, est.high) == (min(ours.repeats), max(ours.repeats))
    assert est.repeats == 3 and est.loader_bound == ours.loader_bound > 0
    assert est.util == ours.target_util
    assert est.fit is None  # one level: no ladder to fit
    assert check.report_estimates(DATA / "no-such-run") == {}


def test_wrk_output_and_verdict(check: ModuleType) -> None:
    out = "Running 8s test @ http://127.0.0.1:1/json\n  24000 requests in 8.00s\n"
    out += "Requests/sec:   3000.12\n"
    assert check.wrk_rps(out) == 3000.12
    assert check.wrk_requests(out) == 24000
    assert check.wrk_rps("unable to connect") is None
    assert check.wrk_requests("unable to connect") is None
    assert check.verdict(1.09) == "ok"
    assert check.verdict(0.85) == "off"
    assert check.verdict(None) == "n/a"


def test_table_has_a_line_per_cell(check: ModuleType) -> None:
    est = check.Estimate(3300.0, 3000.0, 3600.0, 3, util=0.72, fit=(2850.0, 2700.0, 3000.0))
    sat = check.Saturated(3000.0, util=0.98, cpu_us=327.0)
    text = check.table(
        [("fastapi-uvicorn", "json", est, sat), ("x", "db", None, check.Saturated(None))]
    )
    lines = text.splitlines()
    assert len(lines) == 3
    assert "util" in lines[0] and "fit/wrk" in lines[0] and "µs/req" in lines[0]
    assert "3,300 [3,000–3,600]" in lines[1] and "1.10 ok" in lines[1]
    assert "72%" in lines[1]  # the target's utilisation in the estimate's cells
    assert "2,850" in lines[1] and "0.95 ok" in lines[1]  # the ladder fit beside it
    assert "98%" in lines[1] and lines[1].endswith(" 327")  # the server under wrk
    assert "no usable cell" in lines[2] and "n/a" in lines[2]
    bound = check.Estimate(3300.0, 3000.0, 3600.0, 3, loader_bound=3)
    single = check.table([("t", "json", bound, check.Saturated(2500.0))]).splitlines()[1]
    assert "3× bound" in single and "1.32 off" in single
    assert single.split().count("n/a") == 5  # no util, no fit (value and ratio), no wrk CPU
