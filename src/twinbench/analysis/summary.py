"""The answer first: one run's verdict in a paragraph and in one chart's data. Pure.

For each scenario the headline's pair (best Flask against best FastAPI, analysis.headline)
gives three FastAPI/Flask ratios with their 95 % intervals: the scenario's figure of merit
(throughput for most; requests in flight held within the SLO for the slow upstream; for a
scenario whose merit is p99, which has its own column, throughput), p99 latency and CPU per
request. The merit decides whether FastAPI was significantly better or worse there. Every
figure says what kind it is: measured, estimated from CPU time per request (never a
measurement), a bound (a side that met no ladder level), or missing (and why). The claims'
verdicts are counted in one line.

The report draws `Summary` as the first screen's paragraph and chart; `twinbench summary`
prints the same sentences. Each sentence part names what it refers to (`Ref`), so the report
can link it to its detail without this module knowing any HTML.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from twinbench.analysis.capacity import CapacityKind
from twinbench.analysis.headline import HeadlineRow
from twinbench.analysis.index import RunIndex
from twinbench.analysis.stats import RatioCI, format_ratio, ratio_ci
from twinbench.analysis.verdicts import ClaimOutcome, Verdict
from twinbench.define.claims import CheckKind
from twinbench.define.targets import App
from twinbench.results.metrics import Better, Metric


class FigureKind(enum.Enum):
    MEASURED = "measured"
    ESTIMATE = "estimated"  # capacity from CPU time per request: both sides, never measured
    BOUND = "bound"  # one side met no ladder level: the ratio is at least / at most this
    MISSING = "missing"


class Outcome(enum.Enum):
    """What the scenario's figure of merit says about FastAPI against Flask."""

    BETTER = "better"  # significantly, in the merit's direction
    WORSE = "worse"
    NO_DIFFERENCE = "no significant difference"
    NO_INTERVAL = "too few repeats for an interval"
    NO_DATA = "no valid comparison"


class Panel(enum.Enum):
    """The summary chart's three columns."""

    MERIT = "merit"
    P99 = "p99"
    CPU = "cpu"


@dataclass(frozen=True)
class ClaimMark:
    """A claim's factor as a FastAPI/Flask ratio (1/factor where lower is better)."""

    claim: str
    ratio: float


@dataclass(frozen=True)
class RatioFigure:
    """One FastAPI/Flask ratio of the summary: a point, its interval, what kind it is."""

    metric: Metric
    kind: FigureKind
    ci: RatioCI | None  # None for a bound or a missing figure
    bound: float | None = None  # BOUND: the limit the ratio is at least / at most
    at_least: bool = True  # BOUND: direction of the limit (as a FastAPI/Flask ratio)
    note: str = ""  # MISSING: why; BOUND: which side met no level
    claimed: tuple[ClaimMark, ...] = ()

    @property
    def ratio(self) -> float | None:
        return self.ci.ratio if self.ci is not None else self.bound

    @property
    def outcome(self) -> Outcome:
        higher = self.metric.better is not Better.LOWER
        if self.kind is FigureKind.BOUND and self.bound is not None:
            # "at least 1.2" decides where the limit is past 1 in its own direction.
            if self.at_least and self.bound > 1:
                return Outcome.BETTER if higher else Outcome.WORSE
            if not self.at_least and self.bound < 1:
                return Outcome.WORSE if higher else Outcome.BETTER
            return Outcome.NO_DIFFERENCE
        if self.ci is None:
            return Outcome.NO_DATA
        if not self.ci.has_interval:
            return Outcome.NO_INTERVAL
        if not self.ci.significant:
            return Outcome.NO_DIFFERENCE
        return Outcome.BETTER if (self.ci.ratio > 1) == higher else Outcome.WORSE

    @property
    def text(self) -> str:
        """`throughput 1.23× [1.15–1.32]`, `≈ 2.66× …` for an estimate, `≥ 1.05×` a bound."""
        name = self.metric.label
        if self.kind is FigureKind.BOUND and self.bound is not None:
            return f"{name} {'≥' if self.at_least else '≤'} {self.bound:.2f}× (a bound)"
        if self.ci is None:
            return f"{name}: {self.note or 'no figure'}"
        mark = "≈ " if self.kind is FigureKind.ESTIMATE else ""
        return f"{name} {mark}{format_ratio(self.ci)}"


@dataclass(frozen=True)
class ScenarioSummary:
    scenario: str
    merit: Metric  # the scenario's figure of merit (decides the outcome)
    flask_target: str | None
    fastapi_target: str | None
    load: str
    figures: tuple[RatioFigure, RatioFigure, RatioFigure]  # Panel.MERIT, P99, CPU
    note: str = ""  # the headline's note (why no pair, how an estimate was made)

    def figure(self, panel: Panel) -> RatioFigure:
        return self.figures[list(Panel).index(panel)]

    @property
    def deciding(self) -> RatioFigure:
        """The figure the outcome is read from: the merit's (p99's where p99 is the merit)."""
        if self.merit is Metric.LATENCY_P99:
            return self.figure(Panel.P99)
        return self.figure(Panel.MERIT)

    @property
    def outcome(self) -> Outcome:
        return self.deciding.outcome

    @property
    def estimated(self) -> bool:
        return self.deciding.kind is FigureKind.ESTIMATE


@dataclass(frozen=True)
class ClaimTally:
    total: int
    counts: tuple[tuple[Verdict, int], ...]  # every verdict that occurs, in Verdict order

    def count(self, verdict: Verdict) -> int:
        return dict(self.counts).get(verdict, 0)

    @property
    def text(self) -> str:
        """`0 of 13 claims confirmed, 7 not confirmed, 1 partly measured, 5 without data`."""
        if self.total == 0:
            return "no claims to judge"
        words = {Verdict.NO_DATA: "without data"}
        parts = [f"{self.count(Verdict.CONFIRMED)} of {self.total} claims confirmed"]
        parts += [
            f"{n} {words.get(v, v.value)}" for v, n in self.counts if v is not Verdict.CONFIRMED
        ]
        return ", ".join(parts)


class RefKind(enum.Enum):
    TARGETS = "targets"
    SCENARIO = "scenario"  # its headline row
    CLAIMS = "claims"
    ESTIMATES = "estimates"  # how capacity is estimated (the methods)
    NONE = "none"


@dataclass(frozen=True)
class Part:
    """A piece of the verdict paragraph and what it refers to (a link in the report)."""

    text: str
    ref: RefKind = RefKind.NONE
    key: str = ""


@dataclass(frozen=True)
class Summary:
    run_id: str
    flask_targets: tuple[str, ...]  # every standard target measured, by app
    fastapi_targets: tuple[str, ...]
    scenarios: tuple[ScenarioSummary, ...]
    claims: ClaimTally

    def of(self, outcome: Outcome, estimated: bool = False) -> tuple[ScenarioSummary, ...]:
        return tuple(s for s in self.scenarios if s.outcome is outcome and s.estimated is estimated)

    def sentences(self) -> tuple[tuple[Part, ...], ...]:
        """The verdict paragraph, sentence by sentence."""
        out: list[tuple[Part, ...]] = []
        head: list[Part] = [Part("Compared FastAPI (")]
        head += _listed([Part(t, RefKind.TARGETS, t) for t in self.fastapi_targets])
        head.append(Part(") with Flask ("))
        head += _listed([Part(t, RefKind.TARGETS, t) for t in self.flask_targets])
        n = len(self.scenarios)
        head.append(
            Part(
                f") on {n} scenario{'s' * (n != 1)}, each judged by its figure of merit with "
                "the best configuration of each framework; ratios are FastAPI / Flask with "
                "their 95 % intervals."
            )
        )
        out.append(tuple(head))
        for outcome, lead in (
            (Outcome.BETTER, "FastAPI was significantly faster in "),
            (Outcome.WORSE, "FastAPI was significantly slower in "),
        ):
            found = self.of(outcome)
            if found:
                out.append((Part(lead), *_listed([_scenario_part(s) for s in found]), Part(".")))
        for outcome, lead in (
            (Outcome.NO_DIFFERENCE, "No significant difference in "),
            (Outcome.NO_INTERVAL, "Too few repeats for an interval in "),
        ):
            found = self.of(outcome)
            if found:
                parts = [Part(s.scenario, RefKind.SCENARIO, s.scenario) for s in found]
                out.append((Part(lead), *_listed(parts), Part(".")))
        estimated = [s for s in self.scenarios if s.estimated]
        if estimated:
            out.append(
                (
                    Part("Estimated from CPU time per request, not measured", RefKind.ESTIMATES),
                    Part(" (the load generator could not saturate a side): "),
                    *_listed([_scenario_part(s) for s in estimated]),
                    Part("."),
                )
            )
        missing = self.of(Outcome.NO_DATA)
        if missing:
            parts = [Part(s.scenario, RefKind.SCENARIO, s.scenario) for s in missing]
            out.append((Part("No valid comparison in "), *_listed(parts), Part(".")))
        out.append((Part("Claims ledger: "), Part(self.claims.text, RefKind.CLAIMS), Part(".")))
        return tuple(out)

    @property
    def text(self) -> str:
        return " ".join("".join(p.text for p in s) for s in self.sentences())


def _listed(parts: Sequence[Part]) -> list[Part]:
    """a, b and c."""
    out: list[Part] = []
    for i, p in enumerate(parts):
        if i:
            out.append(Part(" and " if i == len(parts) - 1 else ", "))
        out.append(p)
    return out


def _scenario_part(s: ScenarioSummary) -> Part:
    return Part(f"{s.scenario} ({s.deciding.text})", RefKind.SCENARIO, s.scenario)


# -- building it -------------------------------------------------------------------------------
def _marks(
    outcomes: Sequence[ClaimOutcome], scenario: str, metric: Metric
) -> tuple[ClaimMark, ...]:
    """Claims with a factor on this scenario's figure, as FastAPI/Flask ratios."""
    out = []
    for o in outcomes:
        for check in o.claim.checks:
            if check.kind is not CheckKind.RATIO or check.scenario != scenario:
                continue
            if check.factor is None or check.factor <= 0:
                continue
            wanted = metric
            if metric is Metric.INFLIGHT:  # the slow upstream's capacity is in flight
                wanted = Metric.CAPACITY
            if check.metric is not wanted:
                continue
            r = check.factor if check.better is Better.HIGHER else 1.0 / check.factor
            out.append(ClaimMark(o.claim.id, r))
    return tuple(dict.fromkeys(out))


def _missing(metric: Metric, note: str, marks: tuple[ClaimMark, ...]) -> RatioFigure:
    return RatioFigure(metric, FigureKind.MISSING, None, note=note, claimed=marks)


def _from_row(row: HeadlineRow, metric: Metric, marks: tuple[ClaimMark, ...]) -> RatioFigure:
    for v in row.values:
        if v.metric is metric:
            if v.ci is None:
                return _missing(metric, "not recorded for both", marks)
            kind = FigureKind.ESTIMATE if v.estimate else FigureKind.MEASURED
            return RatioFigure(metric, kind, v.ci, claimed=marks)
    why = "needs a valid cell at a common load" if row.estimated else row.note or "no data"
    return _missing(metric, why, marks)


def _capacity_figure(
    index: RunIndex, row: HeadlineRow, marks: tuple[ClaimMark, ...]
) -> RatioFigure:
    """Requests in flight within the SLO: both sides' capacities (a side that met no level
    is a bound, so the ratio is one too)."""
    caps = {(c.scenario, c.target): c for c in index.capacities}
    fl = caps.get((row.scenario, row.flask_target or ""))
    fa = caps.get((row.scenario, row.fastapi_target or ""))
    metric = Metric.INFLIGHT
    if fl is None or fa is None or fl.value is None or fa.value is None:
        return _missing(metric, "no capacity for both sides", marks)
    held = CapacityKind.HELD
    if fl.kind is held and fa.kind is held:
        ci = ratio_ci(fa.repeats or (fa.value,), fl.repeats or (fl.value,))
        if ci is None:
            return _missing(metric, "no capacity for both sides", marks)
        return RatioFigure(metric, FigureKind.MEASURED, ci, claimed=marks)
    if fl.kind is CapacityKind.BELOW and fa.kind is held:
        low = min(fa.repeats or (fa.value,))
        return RatioFigure(
            metric, FigureKind.BOUND, None, low / fl.value, True,
            f"{fl.target} met no level ({fl.text})", marks,
        )  # fmt: skip
    if fa.kind is CapacityKind.BELOW and fl.kind is held:
        high = max(fl.repeats or (fl.value,))
        return RatioFigure(
            metric, FigureKind.BOUND, None, fa.value / high, False,
            f"{fa.target} met no level ({fa.text})", marks,
        )  # fmt: skip
    return _missing(metric, "neither side met a level of the ladder", marks)


def _merit_figure(
    index: RunIndex, row: HeadlineRow, outcomes: Sequence[ClaimOutcome]
) -> RatioFigure:
    merit = index.merit(row.scenario)
    if merit is Metric.INFLIGHT:
        return _capacity_figure(index, row, _marks(outcomes, row.scenario, merit))
    shown = Metric.THROUGHPUT if merit in (Metric.THROUGHPUT, Metric.LATENCY_P99) else merit
    marks = _marks(outcomes, row.scenario, shown)
    if any(v.metric is shown for v in row.values) or shown is Metric.THROUGHPUT:
        return _from_row(row, shown, marks)
    # Another figure of merit (a team's own scenario): at the headline's common level.
    if row.level is None or not row.flask_target or not row.fastapi_target:
        return _missing(shown, row.note or "no common valid load", marks)
    a = [v / shown.scale for v in index.repeats(row.scenario, row.fastapi_target, row.level, shown)]
    b = [v / shown.scale for v in index.repeats(row.scenario, row.flask_target, row.level, shown)]
    ci = ratio_ci(a, b)
    if ci is None:
        return _missing(shown, "not recorded for both", marks)
    return RatioFigure(shown, FigureKind.MEASURED, ci, claimed=marks)


def scenario_summary(
    index: RunIndex, row: HeadlineRow, outcomes: Sequence[ClaimOutcome]
) -> ScenarioSummary:
    s = row.scenario
    return ScenarioSummary(
        s,
        index.merit(s),
        row.flask_target,
        row.fastapi_target,
        row.load,
        (
            _merit_figure(index, row, outcomes),
            _from_row(row, Metric.LATENCY_P99, _marks(outcomes, s, Metric.LATENCY_P99)),
            _from_row(row, Metric.CPU_PER_REQUEST, _marks(outcomes, s, Metric.CPU_PER_REQUEST)),
        ),
        row.note,
    )


def tally(outcomes: Sequence[ClaimOutcome]) -> ClaimTally:
    counts = [(v, sum(o.verdict is v for o in outcomes)) for v in Verdict]
    return ClaimTally(len(outcomes), tuple((v, n) for v, n in counts if n))


def summarise(
    index: RunIndex, rows: Sequence[HeadlineRow], outcomes: Sequence[ClaimOutcome]
) -> Summary:
    """`rows`: the run's headline (analysis.headline), `outcomes`: its claims judged."""
    by_app: dict[App, list[str]] = {App.FLASK: [], App.FASTAPI: []}
    for t in index.results.run.targets:
        app = index.app_of(t.name)
        ran = any(t.name in index.standard_targets_of(s) for s in index.scenario_names())
        if app in by_app and ran:
            by_app[app].append(t.name)
    return Summary(
        index.results.run.run_id,
        tuple(by_app[App.FLASK]),
        tuple(by_app[App.FASTAPI]),
        tuple(scenario_summary(index, r, outcomes) for r in rows),
        tally(outcomes),
    )
