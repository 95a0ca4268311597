"""Judging the claims ledger against measured figures. Pure: no I/O.

A ratio claim is judged against *every* Flask configuration measured, with FastAPI's best
configuration of the claim's side: a claim that holds against gunicorn's sync workers but not
against gevent workers "depends on configuration", and the report names the one that flips it
(the answer a migrating team needs). Only the ratio is judged: the plans' absolute figures
come from other machines, and are shown beside this machine's, never compared with them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from .claims import Better, Check, CheckKind, Claim
from .registry import App
from .stats import RatioCI, format_ratio, ratio_ci


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not confirmed"
    DEPENDS = "depends on configuration"
    NO_DATA = "no data in this run"
    MICRO = "micro-level claim"


@dataclass(frozen=True)
class Figure:
    """One target's value of one metric in one scenario, at one load level (None: peak)."""

    target: str
    app: App
    repeats: tuple[float, ...]  # one value per repeat
    config: str  # the configuration in words (server, workers, CPUs)
    load: float | None = None

    @property
    def value(self) -> float:
        return sum(self.repeats) / len(self.repeats)


@dataclass(frozen=True)
class Comparison:
    flask: Figure
    fastapi: Figure
    ci: RatioCI  # FastAPI / Flask
    improvement: float  # in the claim's direction: > 1 means FastAPI is better
    met: bool


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    verdict: Verdict
    text: str  # the measured figures and configurations, in words
    comparisons: tuple[Comparison, ...] = ()
    figures: tuple[Figure, ...] = ()  # threshold checks: the figures judged


@dataclass(frozen=True)
class ClaimOutcome:
    claim: Claim
    verdict: Verdict
    checks: tuple[CheckOutcome, ...]


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _split(results: Sequence[bool]) -> Verdict:
    if all(results):
        return Verdict.CONFIRMED
    return Verdict.DEPENDS if any(results) else Verdict.NOT_CONFIRMED


def _pair(check: Check, flask: Sequence[Figure], fastapi: Sequence[Figure]) -> Comparison | None:
    """FastAPI's best figure against one Flask target's, at the highest load both reached."""
    best: Comparison | None = None
    for fa in {f.target for f in fastapi}:
        common = {f.load for f in flask} & {f.load for f in fastapi if f.target == fa}
        if not common:
            continue
        load = max(common, key=lambda x: -1.0 if x is None else x)
        fl_fig = next(f for f in flask if f.load == load)
        fa_fig = next(f for f in fastapi if f.target == fa and f.load == load)
        ci = ratio_ci(fa_fig.repeats, fl_fig.repeats)
        if ci is None or ci.ratio <= 0:
            continue
        improvement = ci.ratio if check.better is Better.HIGHER else 1.0 / ci.ratio
        assert check.factor is not None
        comp = Comparison(fl_fig, fa_fig, ci, improvement, improvement >= check.factor)
        if best is None or comp.improvement > best.improvement:
            best = comp
    return best


def _judge_ratio(check: Check, figures: Sequence[Figure]) -> CheckOutcome:
    fastapi = [f for f in figures if f.app is App.FASTAPI]
    if check.fastapi_targets:
        fastapi = [f for f in fastapi if f.target in check.fastapi_targets]
    flask_targets = sorted({f.target for f in figures if f.app is App.FLASK})
    comps = []
    for t in flask_targets:
        comp = _pair(check, [f for f in figures if f.target == t], fastapi)
        if comp is not None:
            comps.append(comp)
    claimed = [c for c in comps if not check.flask_targets or c.flask.target in check.flask_targets]
    unit = check.metric.unit if check.metric else ""
    parts = [
        f"{c.fastapi.target} {_num(c.fastapi.value)} vs {c.flask.target} {_num(c.flask.value)}"
        f" {unit}: {c.improvement:.2f}× better (FastAPI/Flask {format_ratio(c.ci)}; "
        f"{c.ci.verdict_text}) → {'meets' if c.met else 'misses'} {check.factor:g}×"
        for c in comps
    ]
    if not claimed:
        text = _no_data(check, figures)
        if comps:  # other Flask configurations were measured: say what they showed
            text = (
                f"the claim's Flask configuration ({', '.join(check.flask_targets)}) has no "
                f"valid figure in this run; `twinbench run --scenarios {check.scenario} "
                f"--targets {','.join(check.flask_targets)},...` measures it. For comparison: "
                + "; ".join(parts)
                + "."
            )
        return CheckOutcome(check, Verdict.NO_DATA, text, tuple(comps))
    verdict = _split([c.met for c in claimed])
    text = "; ".join(parts)
    if verdict is Verdict.DEPENDS:
        holds = ", ".join(c.flask.target for c in claimed if c.met)
        fails = ", ".join(c.flask.target for c in claimed if not c.met)
        text += f". Holds against {holds}; flipped by {fails}."
    others = [c for c in comps if c not in claimed and c.met != (verdict is Verdict.CONFIRMED)]
    if others and verdict is not Verdict.DEPENDS:
        text += " Outside the claim's Flask configuration, the answer differs for " + ", ".join(
            c.flask.target for c in others
        )
        text += "."
    if check.from_value is not None and check.to_value is not None:
        text += (
            f" The plan's figures (its own machine, not stated): {_num(check.from_value)} → "
            f"{_num(check.to_value)} {unit}."
        )
    return CheckOutcome(check, verdict, text, tuple(comps))


def _judge_threshold(check: Check, figures: Sequence[Figure]) -> CheckOutcome:
    assert check.below is not None
    loaded = [f for f in figures if check.min_load is None or (f.load or 0) >= check.min_load]
    targets = check.fastapi_targets or tuple(
        sorted({f.target for f in loaded if f.app is App.FASTAPI})
    )
    # "Without degradation" at 100+ sessions: a target's worst figure over those loads counts.
    worst: dict[str, Figure] = {}
    for f in loaded:
        if f.target not in worst or f.value > worst[f.target].value:
            worst[f.target] = f
    judged = [worst[t] for t in targets if t in worst]
    if not judged:
        return CheckOutcome(check, Verdict.NO_DATA, _no_data(check, figures))
    unit = check.metric.unit if check.metric else ""
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
        why = "no valid figures for both sides of the comparison"
    else:
        why = absent or "not measured in this run"
    need = f" at load ≥ {_num(check.min_load)}" if check.min_load else ""
    return f"{why}; `twinbench run --scenarios {check.scenario}`{need} measures it."


def judge_check(check: Check, figures: Sequence[Figure], absent: str = "") -> CheckOutcome:
    """`figures`: the valid figures of the check's scenario and metric, any target and load.

    `absent` says why there are none when the scenario ran (e.g. every cell invalid).
    """
    if check.kind is CheckKind.MICRO:
        return CheckOutcome(
            check,
            Verdict.MICRO,
            f"A claim about the validation library, not the web framework: no HTTP run "
            f"measures it. Measured in-process by `{check.micro_command}`.",
        )
    if check.kind is CheckKind.THRESHOLD:
        outcome = _judge_threshold(check, figures)
    else:
        outcome = _judge_ratio(check, figures)
    if outcome.verdict is Verdict.NO_DATA and not figures:
        return CheckOutcome(check, Verdict.NO_DATA, _no_data(check, figures, absent))
    return outcome


# Combining a claim's checks: one part that fails sinks the whole claim as worded.
_PRIORITY = (
    Verdict.NOT_CONFIRMED,
    Verdict.DEPENDS,
    Verdict.CONFIRMED,
    Verdict.NO_DATA,
    Verdict.MICRO,
)


def judge_claim(claim: Claim, outcomes: Sequence[CheckOutcome]) -> ClaimOutcome:
    verdicts = {o.verdict for o in outcomes}
    overall = next(v for v in _PRIORITY if v in verdicts)
    return ClaimOutcome(claim, overall, tuple(outcomes))
