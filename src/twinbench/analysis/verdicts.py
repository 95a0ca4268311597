"""Judging the claims ledger against measured figures. Pure: no I/O.

A ratio claim is judged against *every* baseline configuration measured (Flask's, for the
seed claims), with the candidate's best configuration (FastAPI's) of the claim's side: a claim
that holds against gunicorn's sync workers but not against gevent workers "depends on
configuration", and the report names the one that flips it (the answer a migrating team
needs). A team's own [[claim]] may put any app on either side (its custom app; Flask against
FastAPI) or two named configurations of one app. Only the ratio is judged: the plans'
absolute figures come from other machines, and are shown beside this machine's, never
compared with them.

A ratio meets its factor only when the point estimate reaches it *and* its 95 % interval
excludes 1: with three repeats a lucky draw can "reach 5x" on noise. Ladder levels are exact
(a level is held in every repeat or it is not), so they need no interval. A target that met
no level of a ladder gives a bound ("below 16 users"), and so does any ratio with it: at
least (or at most) so much, which decides a verdict only when the bound clears the factor.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twinbench.analysis.estimate import LABEL as ESTIMATE_LABEL
from twinbench.analysis.stats import RatioCI, format_ratio, ratio_ci
from twinbench.define.claims import Check, CheckKind, Claim, measuring_command
from twinbench.define.targets import App
from twinbench.results.metrics import Better


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not confirmed"
    DEPENDS = "depends on configuration"
    # Some parts measured and confirmed, others not measured: never a plain "confirmed".
    PARTLY = "partly measured"
    INCONCLUSIVE = "inconclusive"  # measured, but only a bound that cannot decide
    NO_DATA = "no data in this run"


# Verdicts that say something measured about the claim.
MEASURED = frozenset({Verdict.CONFIRMED, Verdict.NOT_CONFIRMED, Verdict.DEPENDS, Verdict.PARTLY})


class Bound(enum.Enum):
    NONE = "none"  # a measured value
    BELOW = "below"  # the true value is below `value` (a target that met no ladder level)


@dataclass(frozen=True)
class Figure:
    """One target's value of one metric in one scenario, at one load level (None: peak)."""

    target: str
    app: App
    repeats: tuple[float, ...]  # one value per repeat (BELOW: the bound, once)
    config: str  # the configuration in words (server, workers, CPUs)
    load: float | None = None
    bound: Bound = Bound.NONE
    exact: bool = False  # a ladder level held in every repeat: no sampling error
    unit: str = ""  # when the metric's own unit says too little (capacity: users, in flight)
    # Estimated, not measured (analysis.estimate: capacity from CPU time per request); only
    # ever compared with another estimate, and only where no measured pair exists.
    estimate: bool = False

    @property
    def value(self) -> float:
        return sum(self.repeats) / len(self.repeats)

    def shown(self, unit: str) -> str:
        if self.bound is Bound.BELOW:
            return f"none (< {_num(self.value)} {unit})"
        return f"{'≈ ' if self.estimate else ''}{_num(self.value)} {unit}"


class Reach(enum.Enum):
    MEETS = "meets"
    MISSES = "misses"
    NOT_SIGNIFICANT = "no significant difference"
    INCONCLUSIVE = "inconclusive"  # a bound that does not clear the factor


@dataclass(frozen=True)
class Comparison:
    baseline: Figure  # Flask's, for the seed claims
    candidate: Figure  # FastAPI's, for the seed claims
    ci: RatioCI | None  # candidate / baseline; None when either side is a bound
    improvement: float  # in the claim's direction (> 1: the candidate better); a bound: its limit
    reach: Reach
    bound: str = ""  # "" (a point estimate), "at least" or "at most"

    @property
    def met(self) -> bool:
        return self.reach is Reach.MEETS


@dataclass(frozen=True)
class MicroFigure:
    """One in-process micro-benchmark: mean µs per operation, one value per timed round."""

    name: str
    description: str
    rounds: tuple[float, ...]

    @property
    def value_us(self) -> float:
        return sum(self.rounds) / len(self.rounds)


@dataclass(frozen=True)
class MicroComparison:
    baseline: MicroFigure
    candidate: MicroFigure
    ci: RatioCI  # baseline time / candidate time: the speed-up
    reach: Reach


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    verdict: Verdict
    text: str  # the measured figures and configurations, in words
    comparisons: tuple[Comparison, ...] = ()
    figures: tuple[Figure, ...] = ()  # threshold checks: the figures judged
    micro: tuple[MicroComparison, ...] = ()
    config: str = ""  # micro checks: where and how they ran


@dataclass(frozen=True)
class ClaimOutcome:
    claim: Claim
    verdict: Verdict
    checks: tuple[CheckOutcome, ...]

    @property
    def partly(self) -> bool:
        """Some checks measured, others not: the verdict covers only part of the claim."""
        verdicts = [o.verdict for o in self.checks]
        return any(v in MEASURED for v in verdicts) and any(
            v in (Verdict.NO_DATA, Verdict.INCONCLUSIVE, Verdict.PARTLY) for v in verdicts
        )


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _split(results: Sequence[bool]) -> Verdict:
    if all(results):
        return Verdict.CONFIRMED
    return Verdict.DEPENDS if any(results) else Verdict.NOT_CONFIRMED


def _reach(improvement: float, factor: float, significant: bool) -> Reach:
    if not significant:
        return Reach.NOT_SIGNIFICANT
    return Reach.MEETS if improvement >= factor else Reach.MISSES


def compare(check: Check, fl: Figure, fa: Figure) -> Comparison | None:
    """The candidate's figure (`fa`: FastAPI for the seed claims) against the baseline's
    (`fl`), in the claim's direction; None without a ratio."""
    assert check.factor is not None
    higher = check.better is Better.HIGHER
    if fl.bound is Bound.BELOW and fa.bound is Bound.BELOW:
        return Comparison(fl, fa, None, math.nan, Reach.INCONCLUSIVE, "unknown")
    if fl.bound is Bound.BELOW or fa.bound is Bound.BELOW:
        # The measured side at its least favourable repeat, against the bound: a ratio of at
        # least / at most this, whatever the repeats' noise.
        if fl.bound is Bound.BELOW:  # Flask's true value < fl.value
            worst = min(fa.repeats) if higher else max(fa.repeats)
            limit, at_least = (worst / fl.value, True) if higher else (fl.value / worst, False)
        else:  # FastAPI's true value < fa.value
            worst = min(fl.repeats) if higher else max(fl.repeats)
            limit, at_least = (fa.value / worst, False) if higher else (worst / fa.value, True)
        if worst <= 0:
            return None
        decided = limit >= check.factor if at_least else limit < check.factor
        reach = (Reach.MEETS if at_least else Reach.MISSES) if decided else Reach.INCONCLUSIVE
        return Comparison(fl, fa, None, limit, reach, "at least" if at_least else "at most")
    ci = ratio_ci(fa.repeats, fl.repeats)
    if ci is None or ci.ratio <= 0:
        return None
    improvement = ci.ratio if higher else 1.0 / ci.ratio
    significant = ci.significant or (fa.exact and fl.exact and ci.ratio != 1.0)
    return Comparison(fl, fa, ci, improvement, _reach(improvement, check.factor, significant))


def _rank(c: Comparison) -> tuple[bool, float]:
    """The candidate's best configuration: one that meets the factor, else the largest ratio."""
    return (c.met, -math.inf if math.isnan(c.improvement) else c.improvement)


def _pair(check: Check, flask: Sequence[Figure], fastapi: Sequence[Figure]) -> Comparison | None:
    """The candidate's best figure against one baseline target's, at the highest load both reached:
    measured figures when both sides have them, else both sides' estimates."""
    for estimated in (False, True):
        comp = _pair_of(
            check,
            [f for f in flask if f.estimate is estimated],
            [f for f in fastapi if f.estimate is estimated],
        )
        if comp is not None:
            return comp
    return None


def _pair_of(check: Check, flask: Sequence[Figure], fastapi: Sequence[Figure]) -> Comparison | None:
    best: Comparison | None = None
    for fa in sorted({f.target for f in fastapi}):
        common = {f.load for f in flask} & {f.load for f in fastapi if f.target == fa}
        if not common:
            continue
        load = max(common, key=lambda x: -1.0 if x is None else x)
        fl_fig = next(f for f in flask if f.load == load)
        fa_fig = next(f for f in fastapi if f.target == fa and f.load == load)
        comp = compare(check, fl_fig, fa_fig)
        if comp is not None and (best is None or _rank(comp) > _rank(best)):
            best = comp
    return best


def _unit(check: Check, figure: Figure | None = None) -> str:
    if figure is not None and figure.unit:
        return figure.unit
    return check.metric.shown_unit if check.metric else ""


_APP_NAMES = {App.FLASK: "Flask", App.FASTAPI: "FastAPI"}


def _app(app: App) -> str:
    return _APP_NAMES.get(app, app.value)


def _sides(check: Check) -> str:
    """How the ratio reads: candidate / baseline, by app ("FastAPI/Flask" for the seeds)."""
    cand, base = _app(check.candidate_app), _app(check.baseline_app)
    if check.candidate_app is check.baseline_app:
        cand, base = check.candidate_targets[0], check.baseline_targets[0]
    return f"{cand}/{base}"


def _describe(check: Check, c: Comparison) -> str:
    unit = _unit(check, c.candidate)
    cand, base = c.candidate, c.baseline
    head = f"{cand.target} {cand.shown(unit)} vs {base.target} {base.shown(unit)}"
    if c.candidate.estimate:
        head += f" (both {ESTIMATE_LABEL}, as no measured peak exists for both)"
    if c.ci is None:
        if c.bound == "unknown":
            return f"{head}: both below the lowest level, no ratio → inconclusive"
        return (
            f"{head}: {c.bound} {c.improvement:.2f}× better (a bound: the measured side's "
            f"least favourable repeat against the level missed) → "
            f"{'meets' if c.met else 'misses' if c.reach is Reach.MISSES else 'cannot decide'} "
            f"{check.factor:g}×"
        )
    if c.candidate.exact and c.baseline.exact:
        interval = "ladder levels, each held in every repeat: no interval"
    else:
        interval = c.ci.verdict_text
    arrow = {
        Reach.MEETS: "meets",
        Reach.MISSES: "misses",
        Reach.NOT_SIGNIFICANT: "not confirmed: no significant difference, so it cannot meet",
        Reach.INCONCLUSIVE: "cannot decide",
    }[c.reach]
    return (
        f"{head}: {c.improvement:.2f}× better ({_sides(check)} {format_ratio(c.ci)}; {interval}) "
        f"→ {arrow} {check.factor:g}×"
    )


def _judge_ratio(check: Check, figures: Sequence[Figure], absent: str) -> CheckOutcome:
    candidate = [f for f in figures if f.app is check.candidate_app]
    if check.candidate_targets:
        candidate = [f for f in candidate if f.target in check.candidate_targets]
    baseline_targets = sorted({f.target for f in figures if f.app is check.baseline_app})
    comps = []
    for t in baseline_targets:
        if t in check.candidate_targets:  # two configurations of one app: never itself
            continue
        comp = _pair(check, [f for f in figures if f.target == t], candidate)
        if comp is not None:
            comps.append(comp)
    claimed = [
        c
        for c in comps
        if not check.baseline_targets or c.baseline.target in check.baseline_targets
    ]
    parts = [_describe(check, c) for c in comps]
    if not claimed:
        text = _no_data(check, figures, absent)
        if comps:  # other baseline configurations were measured: say what they showed
            text = (
                f"the claim's {_app(check.baseline_app)} configuration "
                f"({', '.join(check.baseline_targets)}) has no "
                f"valid figure in this run; `{measuring_command(check)}` measures it. "
                "For comparison: " + "; ".join(parts) + "."
            )
        return CheckOutcome(check, Verdict.NO_DATA, text, tuple(comps))
    decisive = [c for c in claimed if c.reach is not Reach.INCONCLUSIVE]
    text = "; ".join(parts)
    if not decisive:
        text += f". Only bounds, which do not decide; `{measuring_command(check)}` measures more."
        return CheckOutcome(check, Verdict.INCONCLUSIVE, text, tuple(comps))
    verdict = _split([c.met for c in decisive])
    if verdict is Verdict.CONFIRMED and len(decisive) < len(claimed):
        verdict = Verdict.PARTLY
        undecided = ", ".join(c.baseline.target for c in claimed if c not in decisive)
        text += f". Confirmed where decided; undecided against {undecided}."
    if verdict is Verdict.DEPENDS:
        holds = ", ".join(c.baseline.target for c in decisive if c.met)
        fails = ", ".join(c.baseline.target for c in decisive if not c.met)
        text += f". Holds against {holds}; flipped by {fails}."
    others = [c for c in comps if c not in claimed and c.met != (verdict is Verdict.CONFIRMED)]
    if others and verdict is not Verdict.DEPENDS:
        text += f" Outside the claim's {_app(check.baseline_app)} configuration, the answer "
        text += "differs for " + ", ".join(c.baseline.target for c in others)
        text += "."
    if check.from_value is not None and check.to_value is not None:
        unit = _unit(check, claimed[0].candidate)
        text += (
            f" The plan's figures (its own machine, not stated): {_num(check.from_value)} → "
            f"{_num(check.to_value)} {unit}."
        )
    return CheckOutcome(check, verdict, text, tuple(comps))


def _judge_threshold(check: Check, figures: Sequence[Figure], absent: str) -> CheckOutcome:
    assert check.below is not None
    loaded = [f for f in figures if check.min_load is None or (f.load or 0) >= check.min_load]
    targets = check.candidate_targets or tuple(
        sorted({f.target for f in loaded if f.app is check.candidate_app})
    )
    # "Without degradation" at 100+ sessions: a target's worst figure over those loads counts.
    worst: dict[str, Figure] = {}
    for f in loaded:
        if f.target not in worst or f.value > worst[f.target].value:
            worst[f.target] = f
    judged = [worst[t] for t in targets if t in worst]
    if not judged:
        return CheckOutcome(check, Verdict.NO_DATA, _no_data(check, figures, absent))
    unit = check.metric.shown_unit if check.metric else ""
    verdict = _split([f.value < check.below for f in judged])
    shown = sorted(worst.values(), key=lambda f: f.target)
    text = "; ".join(
        f"{f.target} {_num(f.value)} {unit} at {_num(f.load or 0)} "
        f"({'within' if f.value < check.below else 'over'} {_num(check.below)} {unit})"
        for f in shown
    )
    return CheckOutcome(check, verdict, text, figures=tuple(shown))


def _no_data(check: Check, figures: Sequence[Figure], absent: str = "") -> str:
    if figures:
        sides = {f.app for f in figures}
        lacking = [a.value for a in (check.baseline_app, check.candidate_app) if a not in sides]
        why = f"no valid {' or '.join(lacking) or 'comparable'} figure"
        if absent:
            why += f" ({absent})"
    else:
        why = absent or "not measured in this run"
    need = f" (a level of at least {_num(check.min_load)})" if check.min_load else ""
    return f"{why}; `{measuring_command(check)}`{need} measures it."


def judge_check(check: Check, figures: Sequence[Figure], absent: str = "") -> CheckOutcome:
    """`figures`: the valid figures of the check's scenario and metric, any target and load.

    `absent` says why there are none when the scenario ran (e.g. every cell invalid).
    Micro checks are judged by `judge_micro`.
    """
    if check.kind is CheckKind.MICRO:
        raise ValueError("a micro check is judged on micro-benchmarks: judge_micro")
    if check.kind is CheckKind.THRESHOLD:
        return _judge_threshold(check, figures, absent)
    return _judge_ratio(check, figures, absent)


MICRO_LABEL = "in-process micro-benchmark, not an HTTP figure"


def judge_micro(check: Check, figures: Mapping[str, MicroFigure], config: str) -> CheckOutcome:
    """baseline[i] against candidate[i]: speed-up = mean baseline time / mean candidate time,
    with a bootstrap interval over the timed rounds; `config` says where they ran."""
    assert check.factor is not None
    comps = []
    missing = []
    for base, cand in zip(check.baseline, check.candidate, strict=True):
        b, c = figures.get(base), figures.get(cand)
        ci = ratio_ci(b.rounds, c.rounds) if b and c else None
        if b is None or c is None or ci is None:
            missing.append(f"{base} / {cand}")
            continue
        comps.append(MicroComparison(b, c, ci, _reach(ci.ratio, check.factor, ci.significant)))
    if not comps:
        why = "this run has no micro-benchmark figures (micro.json)"
        if figures:
            why = f"this run's micro.json lacks {', '.join(missing)}"
        text = (
            f"{why}; `{measuring_command(check)}` measures it (every complete run ends with "
            "its micro-benchmarks); `make microbench` prints the same with pytest-benchmark."
        )
        return CheckOutcome(check, Verdict.NO_DATA, text, config=config)
    parts = [
        f"{m.candidate.description} {_num(m.candidate.value_us)} µs vs {m.baseline.description} "
        f"{_num(m.baseline.value_us)} µs per operation: {m.ci.ratio:.2f}× faster "
        f"({format_ratio(m.ci)}; {m.ci.verdict_text}) → "
        f"{'meets' if m.reach is Reach.MEETS else m.reach.value} {check.factor:g}×"
        for m in comps
    ]
    text = f"{MICRO_LABEL}: " + "; ".join(parts) + "."
    if missing:
        text += f" Not measured: {', '.join(missing)}."
    verdict = _split([m.reach is Reach.MEETS for m in comps])
    if verdict is Verdict.CONFIRMED and missing:
        verdict = Verdict.PARTLY
    return CheckOutcome(check, verdict, text, micro=tuple(comps), config=config)


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """A claim's verdict from its checks': one part that fails sinks the claim as worded; a
    claim is confirmed only if every part is; parts not measured make it "partly measured"."""
    vs = set(verdicts)
    if Verdict.NOT_CONFIRMED in vs:
        return Verdict.NOT_CONFIRMED
    if Verdict.DEPENDS in vs:
        return Verdict.DEPENDS
    if vs == {Verdict.CONFIRMED}:
        return Verdict.CONFIRMED
    if vs & {Verdict.CONFIRMED, Verdict.PARTLY}:
        return Verdict.PARTLY
    if Verdict.INCONCLUSIVE in vs:
        return Verdict.INCONCLUSIVE
    return Verdict.NO_DATA


def judge_claim(claim: Claim, outcomes: Sequence[CheckOutcome]) -> ClaimOutcome:
    return ClaimOutcome(claim, combine([o.verdict for o in outcomes]), tuple(outcomes))
