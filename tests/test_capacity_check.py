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


def test_each_round_is_judged_against_the_wrk_runs_either_side(check: ModuleType) -> None:
    """The machine drifts: a round's estimate is divided by the mean of the wrk runs just
    before and after it, and the cell's ratio is the geometric mean of its rounds' ratios,
    not the estimates' mean over wrk's mean."""
    w = [check.Saturated(rps, util=1.0, cpu_us=us) for rps, us in
         ((1000.0, 1000.0), (2000.0, 500.0), (3000.0, 333.0))]  # fmt: skip
    fit = (2500.0, 2400.0, 2600.0)
    est = [
        check.Estimate(1650.0, 1600.0, 1700.0, 1, util=0.5),  # the machine sped up: 1.1×
        check.Estimate(2250.0, 2200.0, 2300.0, 1, loader_bound=1, util=0.7, fit=fit),
    ]
    rounds = [check.Round(est[0], w[0], w[1]), check.Round(est[1], w[1], w[2])]
    assert rounds[0].ratio == pytest.approx(1.1)
    assert rounds[1].ratio == pytest.approx(0.9)
    assert rounds[0].fit_ratio is None and rounds[1].fit_ratio == pytest.approx(1.0)
    row = check.combine("t", "json", rounds)
    assert row.ratio == pytest.approx((1.1 * 0.9) ** 0.5)
    assert row.fit_ratio == pytest.approx(1.0)
    assert row.estimate.mean == pytest.approx(1950.0)
    assert (row.estimate.low, row.estimate.high, row.estimate.repeats) == (1600.0, 2300.0, 2)
    assert row.estimate.loader_bound == 1 and row.estimate.util == pytest.approx(0.6)
    assert row.wrk.rps == pytest.approx(2000.0)  # w[1] counted once, not twice
    # A round with no usable cell, or wrk that failed on both sides, gives no ratio.
    empty = check.combine("t", "db", [check.Round(None, check.Saturated(None), w[0])])
    assert empty.estimate is None and empty.ratio is None and empty.wrk.rps == 1000.0
    failed = check.Round(est[0], check.Saturated(None), check.Saturated(None))
    assert failed.ratio is None and check.combine("t", "db", [failed]).wrk.rps is None


def test_table_has_a_line_per_cell(check: ModuleType) -> None:
    est = check.Estimate(3300.0, 3000.0, 3600.0, 3, util=0.72, fit=(2850.0, 2700.0, 3000.0))
    sat = check.Saturated(3000.0, util=0.98, cpu_us=327.0)
    rows = [
        check.Row("fastapi-uvicorn", "json", est, sat, ratio=1.10, fit_ratio=0.95),
        check.Row("x", "db", None, check.Saturated(None)),
    ]
    lines = check.table(rows).splitlines()
    assert len(lines) == 4
    assert "util" in lines[0] and "fit/wrk" in lines[0] and "µs/req" in lines[0]
    assert "3,300 [3,000–3,600]" in lines[1] and "1.10 ok" in lines[1]
    assert "72%" in lines[1]  # the target's utilisation in the estimate's cells
    assert "2,850" in lines[1] and "0.95 ok" in lines[1]  # the ladder fit beside it
    assert "98%" in lines[1] and lines[1].endswith(" 327")  # the server under wrk
    assert "no usable cell" in lines[2] and "n/a" in lines[2]
    assert lines[3] == "within ±10%: 1 of 1"
    bound = check.Estimate(3300.0, 3000.0, 3600.0, 3, loader_bound=3)
    row = check.Row("t", "json", bound, check.Saturated(2500.0), ratio=1.32)
    single = check.table([row]).splitlines()
    assert "3× bound" in single[1] and "1.32 off" in single[1]
    assert single[1].split().count("n/a") == 5  # no util, no fit (value and ratio), no wrk CPU
    assert single[2] == "within ±10%: 0 of 1"


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--users", "x"], "--users x"), (["--rounds", "0"], "--rounds 0"),
     (["--wrk-seconds", "-1"], "--wrk-seconds -1"), (["--endpoints", "foo"], "--endpoints foo")],
)  # fmt: skip
def test_bad_options_are_one_line_and_exit_2(args: list[str], named: str) -> None:
    """Checked before anything starts (no server, no wrk)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert named in done.stderr.splitlines()[-1] and "Traceback" not in done.stderr
