"""The gate's run loop pieces that need no server: ABBA order, and a recorded run read back
into a GateRun's figures (kept or why not)."""

from __future__ import annotations

from pathlib import Path

from twinbench.analysis.gate import Subject
from twinbench.define.gate import Side
from twinbench.results.metrics import Metric
from twinbench.results.store import load_run
from twinbench.run.gate import abba, figures_of, gate_profile

DATA = Path(__file__).resolve().parents[1] / "data" / "quick-sqlite"


def test_abba() -> None:
    order = [s for p in range(1, 5) for s in abba(p)]
    letters = "".join(s.letter for s in order)
    assert letters == "ABBAABBA"
    assert order.count(Side.BASELINE) == order.count(Side.CANDIDATE)


def test_gate_profile_windows() -> None:
    p = gate_profile(1.5, 4.0)
    assert (p.warmup_s, p.measure_s, p.repeats, dict(p.timing)) == (1.5, 4.0, 1, {})


def test_a_recorded_run_read_back() -> None:
    run = load_run(DATA)
    c = next(c for c in run.cells if c.window is not None and c.status.value == "ok")
    subj = Subject(c.config.target, c.config.scenario)
    cells, reason = figures_of(DATA, (subj,))
    fig = cells[subj.key]
    assert fig.values[Metric.CPU_PER_REQUEST] > 0 and fig.requests > 0
    # The recorded run has cells of several repeats and some invalid ones: a gate run that
    # looked like it would be discarded, with the first reason found.
    missing = Subject("no-such-target", "json")
    _, why = figures_of(DATA, (missing,))
    assert why == reason or why.startswith("not measured")
