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


def _row(target: str, scenario: str, value: str, valid: str = "True", **kw: str) -> dict:
    return {"metric": "cpu_per_request", "request": "total", "target": target,
            "scenario": scenario, "value": value, "valid": valid, **kw}  # fmt: skip


def test_cpu_per_request_keeps_valid_total_rows_only(check: ModuleType) -> None:
    rows = [
        _row("t", "json", "250"),
        _row("t", "json", "260"),
        _row("t", "json", "900", valid="False"),
        _row("t", "json", ""),
        {**_row("t", "json", "1"), "metric": "throughput"},
        {**_row("t", "json", "1"), "request": "GET /json"},
        _row("t", "db", "500"),
    ]
    assert check.cpu_per_request(rows) == {("t", "json"): [250.0, 260.0], ("t", "db"): [500.0]}


def test_estimate_is_cpus_times_a_million_over_the_cpu_per_request(check: ModuleType) -> None:
    est = check.estimate([250.0, 500.0])
    assert (est.low, est.high, est.repeats) == (2000.0, 4000.0, 2)
    assert est.mean == 3000.0
    assert check.estimate([250.0], cpus=2).mean == 8000.0
    assert check.estimate([]) is None


def test_wrk_output_and_verdict(check: ModuleType) -> None:
    out = "Running 8s test @ http://127.0.0.1:1/json\n  24000 requests in 8.00s\n"
    out += "Requests/sec:   3000.12\n"
    assert check.wrk_rps(out) == 3000.12
    assert check.wrk_rps("unable to connect") is None
    assert check.verdict(1.09) == "ok"
    assert check.verdict(0.85) == "off"
    assert check.verdict(None) == "n/a"


def test_table_has_a_line_per_cell(check: ModuleType) -> None:
    est = check.Estimate(3300.0, 3000.0, 3600.0, 3)
    text = check.table([("fastapi-uvicorn", "json", est, 3000.0), ("x", "db", None, None)])
    lines = text.splitlines()
    assert len(lines) == 3
    assert "3,300 [3,000–3,600]" in lines[1] and "1.10 ok" in lines[1]
    assert "no valid cell" in lines[2] and "n/a" in lines[2]
