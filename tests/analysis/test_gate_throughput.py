"""Throughput at saturation in a gate: per side, the ratio with its interval, loader-bound
runs counted and flagged, and nothing without runs (reported, never gated)."""

from __future__ import annotations

import pytest

from twinbench.analysis.gate import Subject
from twinbench.analysis.gate_throughput import (
    LOADER_BOUND,
    SaturationCell,
    SaturationRun,
    saturation_figures,
)
from twinbench.define.gate import Side
from twinbench.results.model import ReasonKind

SUBJ = Subject("fastapi-uvicorn", "json")


def run(
    side: Side, order: int, rps: float | None, status: str = "ok", why: str | None = None
) -> SaturationRun:
    cell = SaturationCell(rps, status, why, 0.97)
    return SaturationRun(side, order, 64, {SUBJ.key: cell})


def test_loader_bound_is_the_stored_reason_kind() -> None:
    assert ReasonKind.LOAD_GENERATOR_BOUND.value == LOADER_BOUND


def test_ratio_per_side_abba() -> None:
    runs = [
        run(Side.BASELINE, 30, 1000.0),
        run(Side.CANDIDATE, 31, 1210.0),
        run(Side.CANDIDATE, 32, 1190.0),
        run(Side.BASELINE, 33, 1010.0),
    ]
    (f,) = saturation_figures([SUBJ], runs)
    assert f.baseline == (1000.0, 1010.0) and f.candidate == (1210.0, 1190.0)
    assert f.ci is not None and f.ci.ratio == pytest.approx(1200 / 1005)
    assert f.loader_bound == 0 and f.runs == 4 and f.users == 64
    assert "baseline 1,005 req/s, candidate 1,200 req/s" in f.text
    assert "1.19×" in f.text and "not gated" in f.text and "load-generator" not in f.text


def test_loader_bound_runs_count_but_are_flagged_and_other_invalid_runs_do_not() -> None:
    runs = [
        run(Side.BASELINE, 1, 900.0, "invalid", LOADER_BOUND),
        run(Side.CANDIDATE, 2, 905.0, "invalid", LOADER_BOUND),
        run(Side.CANDIDATE, 3, 50.0, "invalid", "spawn-short"),
        run(Side.BASELINE, 4, None, "failed", "target-died"),
    ]
    (f,) = saturation_figures([SUBJ], runs)
    assert f.baseline == (900.0,) and f.candidate == (905.0,)
    assert f.loader_bound == 2 and f.runs == 4
    assert "2 of 4 runs load-generator-bound" in f.text and "lower bound" in f.text


def test_no_runs_no_figures_and_one_sided_says_so() -> None:
    assert saturation_figures([SUBJ], []) == ()
    (f,) = saturation_figures([SUBJ], [run(Side.BASELINE, 1, 1000.0)])
    assert f.ci is None and "no throughput figure on both sides" in f.text
