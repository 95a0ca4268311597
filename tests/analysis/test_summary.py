"""analysis.summary: the outcome of each kind of figure, the claims' tally line, and the
verdict paragraph's sentences, on hand-made figures (the recorded runs are checked against
their raw files in tests/report/test_first_screen.py)."""

from __future__ import annotations

from twinbench.analysis.stats import RatioCI
from twinbench.analysis.summary import (
    ClaimTally,
    FigureKind,
    Outcome,
    RatioFigure,
    RefKind,
    ScenarioSummary,
    Summary,
)
from twinbench.analysis.verdicts import Verdict
from twinbench.results.metrics import Metric


def ci(ratio: float, low: float | None, high: float | None) -> RatioCI:
    return RatioCI(ratio, low, high, 3, 3)


def test_outcome_follows_the_metrics_direction_and_the_interval() -> None:
    tput, p99 = Metric.THROUGHPUT, Metric.LATENCY_P99
    measured = FigureKind.MEASURED
    assert RatioFigure(tput, measured, ci(1.3, 1.1, 1.5)).outcome is Outcome.BETTER
    assert RatioFigure(tput, measured, ci(0.7, 0.6, 0.8)).outcome is Outcome.WORSE
    assert RatioFigure(p99, measured, ci(0.7, 0.6, 0.8)).outcome is Outcome.BETTER
    assert RatioFigure(p99, measured, ci(1.3, 1.1, 1.5)).outcome is Outcome.WORSE
    assert RatioFigure(tput, measured, ci(1.3, 0.9, 1.5)).outcome is Outcome.NO_DIFFERENCE
    assert RatioFigure(tput, measured, ci(1.3, None, None)).outcome is Outcome.NO_INTERVAL
    assert RatioFigure(tput, FigureKind.MISSING, None).outcome is Outcome.NO_DATA


def test_a_bound_decides_only_past_one_in_its_own_direction() -> None:
    inflight = Metric.INFLIGHT
    at_least = RatioFigure(inflight, FigureKind.BOUND, None, bound=1.4, at_least=True)
    assert at_least.outcome is Outcome.BETTER and "≥ 1.40×" in at_least.text
    weak = RatioFigure(inflight, FigureKind.BOUND, None, bound=0.8, at_least=True)
    assert weak.outcome is Outcome.NO_DIFFERENCE
    at_most = RatioFigure(inflight, FigureKind.BOUND, None, bound=0.5, at_least=False)
    assert at_most.outcome is Outcome.WORSE


def test_estimates_are_said_to_be_estimates() -> None:
    f = RatioFigure(Metric.THROUGHPUT, FigureKind.ESTIMATE, ci(2.5, 2.2, 2.8))
    assert f.text == "throughput ≈ 2.50× [2.20–2.80]"


def test_tally_line_names_every_verdict_that_occurs() -> None:
    tally = ClaimTally(
        13,
        ((Verdict.NOT_CONFIRMED, 6), (Verdict.PARTLY, 3), (Verdict.NO_DATA, 4)),
    )
    assert tally.text == (
        "0 of 13 claims confirmed, 6 not confirmed, 3 partly measured, 4 without data"
    )
    assert ClaimTally(0, ()).text == "no claims to judge"


def _scenario(name: str, figure: RatioFigure) -> ScenarioSummary:
    other = RatioFigure(Metric.CPU_PER_REQUEST, FigureKind.MISSING, None, note="n/a")
    return ScenarioSummary(name, Metric.THROUGHPUT, "f", "a", "16 users", (figure, other, other))


def test_paragraph_sorts_scenarios_by_outcome_and_links_each() -> None:
    tput = Metric.THROUGHPUT
    summary = Summary(
        "run",
        ("flask-a",),
        ("fastapi-b",),
        (
            _scenario("db", RatioFigure(tput, FigureKind.MEASURED, ci(1.2, 1.1, 1.3))),
            _scenario("ws", RatioFigure(tput, FigureKind.MEASURED, ci(0.8, 0.7, 0.9))),
            _scenario("sse", RatioFigure(tput, FigureKind.MEASURED, ci(1.0, 0.9, 1.1))),
            _scenario("json", RatioFigure(tput, FigureKind.ESTIMATE, ci(2.5, 2.2, 2.8))),
            _scenario("api", RatioFigure(tput, FigureKind.MISSING, None)),
        ),
        ClaimTally(2, ((Verdict.CONFIRMED, 1), (Verdict.NO_DATA, 1))),
    )
    text = summary.text
    assert "significantly faster in db (throughput 1.20× [1.10–1.30])" in text
    assert "significantly slower in ws (throughput 0.80× [0.70–0.90])" in text
    assert "No significant difference in sse." in text
    assert "not measured (the load generator could not saturate a side): json" in text
    assert "faster in json" not in text  # an estimate is never listed as a measurement
    assert "No valid comparison in api." in text
    assert text.endswith("Claims ledger: 1 of 2 claims confirmed, 1 without data.")
    refs = {(p.ref, p.key) for s in summary.sentences() for p in s}
    for name in ("db", "ws", "sse", "json", "api"):
        assert (RefKind.SCENARIO, name) in refs
    assert (RefKind.TARGETS, "flask-a") in refs and (RefKind.CLAIMS, "") in refs
