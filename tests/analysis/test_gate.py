"""The gate's decision rule on synthetic pairs: pure, fast, deterministic (seeded)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinbench.analysis.gate import (
    CellFigures,
    GateRun,
    GateState,
    Subject,
    Verdict,
    assess,
    complete_pairs,
    decide_pairs,
    log_ratio_estimate,
    pairs_needed,
    smallest_detectable,
)
from twinbench.define.gate import GateRule, Side
from twinbench.results.metrics import Metric

SUBJ = Subject("fastapi-uvicorn", "json")
CPU_ONLY = GateRule(thresholds=GateRule().thresholds[:1])
# Hand-built sequences below are 12 pairs: 6 to flag, 6 to confirm.
SIX = GateRule(thresholds=GateRule().thresholds[:1], confirm_pairs=6)


def runs_from(
    base: list[float],
    cand: list[float],
    *,
    failures: tuple[list[int], list[int]] | None = None,
    requests: int = 1000,
) -> list[GateRun]:
    """ABBA runs: pair i is (base[i], cand[i]); CPU µs/request, p50 and p99 alike."""
    out: list[GateRun] = []
    fb, fc = failures or ([0] * len(base), [0] * len(cand))
    for i, (b, c) in enumerate(zip(base, cand, strict=True)):
        sides = [(Side.BASELINE, b, fb[i]), (Side.CANDIDATE, c, fc[i])]
        if i % 2:
            sides.reverse()
        for side, v, f in sides:
            vals = {
                Metric.CPU_PER_REQUEST: v,
                Metric.LATENCY_P50: v / 100,
                Metric.LATENCY_P99: v / 20,
            }
            cell = CellFigures(vals, requests, f)
            out.append(GateRun(side, len(out) + 1, i + 1, True, "", {SUBJ.key: cell}))
    return out


def simulate(effect: float, cv: float, n: int, rng: np.random.Generator) -> list[GateRun]:
    """Per-run lognormal noise of this CV, plus a slow drift shared by the pair."""
    drift = np.cumsum(rng.normal(0, cv / 3, n))
    base = 300 * np.exp(drift + rng.normal(0, cv, n))
    cand = 300 * (1 + effect) * np.exp(drift + rng.normal(0, cv, n))
    return runs_from(list(base), list(cand))


def rate(effect: float, cv: float, verdict: Verdict, trials: int = 400, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        runs = simulate(effect, cv, CPU_ONLY.max_pairs + CPU_ONLY.confirm_pairs, rng)
        hits += decide_pairs([SUBJ], runs, CPU_ONLY).verdict is verdict
    return hits / trials


def test_aa_pairs_rarely_fail() -> None:
    assert rate(0.0, 0.04, Verdict.REGRESSION) <= 0.05


def test_aa_pairs_mostly_pass() -> None:
    assert rate(0.0, 0.04, Verdict.PASS) >= 0.85


def test_a_planted_15_percent_slowdown_fails() -> None:
    assert rate(0.15, 0.04, Verdict.REGRESSION) >= 0.95


def test_a_slowdown_below_the_minimum_effect_never_fails() -> None:
    """+2 % with almost no noise is significant, but smaller than the 5 % that counts."""
    base = [300.0 + i for i in range(12)]
    runs = runs_from(base, [b * 1.02 for b in base])
    a = decide_pairs([SUBJ], runs, CPU_ONLY)
    assert a.verdict is Verdict.PASS
    (o,) = a.outcomes
    assert o.estimate is not None and o.estimate.p_slower < 0.001


def test_too_much_noise_is_inconclusive_not_pass() -> None:
    rng = np.random.default_rng(11)
    runs = simulate(0.0, 0.30, CPU_ONLY.max_pairs, rng)
    a = decide_pairs([SUBJ], runs, CPU_ONLY)
    assert a.verdict is Verdict.INCONCLUSIVE and a.exit_code == 3
    (o,) = a.outcomes
    assert o.estimate is not None and o.estimate.sde > CPU_ONLY.thresholds[0].detect
    assert o.pairs_needed is None or o.pairs_needed > CPU_ONLY.max_pairs


def test_an_improvement_is_reported_and_passes() -> None:
    rng = np.random.default_rng(5)
    a = decide_pairs([SUBJ], simulate(-0.20, 0.03, 16, rng), CPU_ONLY)
    assert [o.verdict for o in a.outcomes] == [Verdict.IMPROVEMENT]
    assert a.exit_code == 0


def test_no_regression_before_the_confirmation_stage() -> None:
    base = [300.0, 310, 305, 298, 302, 307]
    runs = runs_from(base, [b * 1.3 for b in base])
    first = assess([SUBJ], runs, CPU_ONLY)
    assert first.verdict is Verdict.PENDING
    assert first.want_pairs == 6 + CPU_ONLY.confirm_pairs
    assert first.outcomes[0].flagged
    # Out of time before confirming: inconclusive, never a failure.
    final = assess([SUBJ], runs, CPU_ONLY, first.state, final=True)
    assert final.verdict is Verdict.INCONCLUSIVE


def test_a_flag_the_fresh_pairs_do_not_confirm_passes() -> None:
    base = [300.0, 310, 305, 298, 302, 307, 300, 304, 301, 299, 303, 306]
    cand = [b * 1.12 for b in base[:6]] + [b * 0.90 for b in base[6:]]
    runs = runs_from(base, cand)
    first = assess([SUBJ], runs[:12], SIX)
    assert first.outcomes[0].flagged and first.want_pairs == 12
    second = assess([SUBJ], runs, SIX, first.state)
    assert second.verdict is not Verdict.REGRESSION
    assert second.outcomes[0].flagged


def test_the_fresh_pairs_must_confirm_on_their_own() -> None:
    """A big chance slowdown in the flagging pairs carries the pooled test (+14 %, p < 0.001)
    but the fresh pairs alone show none: not a regression. Pooled alone, it was one; the
    calibration's A/A gates failed too often that way (README: calibration)."""
    base = [300.0, 310, 305, 298, 302, 307, 300, 304, 301, 299, 303, 306]
    fresh = [1.10, 0.92, 1.08, 0.93, 1.05, 0.95]
    cand = [b * 1.30 for b in base[:6]] + [b * f for b, f in zip(base[6:], fresh, strict=True)]
    runs = runs_from(base, cand)
    first = assess([SUBJ], runs[:12], SIX)
    assert first.state.flagged_at == (("json/fastapi-uvicorn/cpu", 6),)
    second = assess([SUBJ], runs, SIX, first.state)
    (o,) = second.outcomes
    assert o.estimate is not None and o.estimate.ratio > 1.1 and o.estimate.p_slower < 0.01
    assert o.verdict is not Verdict.REGRESSION
    # Pooled, the pairs still say slower: one more batch of fresh pairs is wanted; with no
    # more pairs (final), neither proven nor cleared: inconclusive, not a pass.
    assert o.verdict is Verdict.PENDING and second.want_pairs == 12 + SIX.extend_pairs
    last = assess([SUBJ], runs, SIX, second.state, final=True)
    (o,) = last.outcomes
    assert o.verdict is Verdict.INCONCLUSIVE and last.exit_code == 3
    assert "pooled slower, fresh pairs did not confirm" in o.sentence


def test_a_confirmed_slowdown_fails_with_exit_1() -> None:
    base = [300.0, 310, 305, 298, 302, 307, 300, 304, 301, 299, 303, 306]
    runs = runs_from(base, [b * 1.15 * (1.01 if i % 2 else 0.99) for i, b in enumerate(base)])
    a = decide_pairs([SUBJ], runs, SIX)
    assert a.verdict is Verdict.REGRESSION and a.exit_code == 1
    (o,) = a.outcomes
    assert o.estimate is not None and o.estimate.ratio == pytest.approx(1.15, abs=0.002)
    assert o.estimate.low < 1.15 < o.estimate.high


def test_every_metric_has_its_own_threshold() -> None:
    """+15 % on every metric: CPU (5 %) and p50 (10 %) fail, p99 (25 %) does not."""
    base = [300.0 + (i % 3) for i in range(16)]
    runs = runs_from(base, [b * 1.15 for b in base])
    a = decide_pairs([SUBJ], runs, GateRule())
    verdicts = {o.threshold.name: o.verdict for o in a.outcomes}
    assert verdicts == {
        "cpu": Verdict.REGRESSION,
        "p50": Verdict.REGRESSION,
        "p99": Verdict.PASS,
        "errors": Verdict.PASS,
    }


def test_failures_in_two_candidate_runs_are_an_error_rate_regression() -> None:
    base = [300.0 + (i % 3) for i in range(6)]
    zero = [0] * 6
    runs = runs_from(base, base, failures=(zero, [0, 30, 0, 25, 0, 0]))
    a = assess([SUBJ], runs, GateRule())
    errs = next(o for o in a.outcomes if o.threshold.name == "errors")
    assert errs.verdict is Verdict.REGRESSION
    assert errs.errors is not None and errs.errors.candidate_runs_failing == 2
    one = runs_from(base, base, failures=(zero, [0, 60, 0, 0, 0, 0]))
    errs1 = next(
        o for o in assess([SUBJ], one, GateRule()).outcomes if o.threshold.name == "errors"
    )
    assert errs1.verdict is Verdict.PASS


def test_discarded_runs_do_not_pair_but_are_counted() -> None:
    runs = runs_from([300.0, 301], [302.0, 299])
    bad = GateRun(Side.CANDIDATE, 5, 2, False, "loader saturated", runs[2].cells)
    pairs = complete_pairs([*runs, bad])
    assert len(pairs) == 2
    a = assess([SUBJ], [*runs, bad], CPU_ONLY, final=True)
    assert a.discarded == 1 and a.discard_reasons == {"loader saturated": 1}


def test_smallest_detectable_effect_follows_the_formula() -> None:
    rule = GateRule()
    noise, n = 0.05, 10
    se = noise / math.sqrt(n)
    from scipy import stats

    z, t = stats.norm.ppf(0.95), stats.t.ppf(0.95, n - 1)
    expected = math.expm1(max(math.log1p(0.05) + z * se, (t + z) * se))
    assert smallest_detectable(noise, n, 0.05, rule) == pytest.approx(expected)
    assert smallest_detectable(noise, 20, 0.05, rule) < smallest_detectable(noise, 10, 0.05, rule)
    assert smallest_detectable(noise, 1, 0.05, rule) == math.inf
    need = pairs_needed(noise, 0.10, 0.05, rule)
    assert need is not None
    assert smallest_detectable(noise, need, 0.05, rule) <= 0.10
    assert smallest_detectable(noise, need - 1, 0.05, rule) > 0.10


def test_estimate_of_identical_pairs() -> None:
    est = log_ratio_estimate([100.0, 100.0, 100.0], [100.0, 100.0, 100.0], 0.05, GateRule())
    assert est is not None and est.ratio == 1.0 and est.p_slower == 0.5
    assert log_ratio_estimate([0.0, math.nan], [1.0, 2.0], 0.05, GateRule()) is None


def test_state_carries_the_flag_to_the_next_look() -> None:
    base = [300.0, 310, 305, 298, 302, 307]
    a = assess([SUBJ], runs_from(base, [b * 1.3 for b in base]), SIX, GateState())
    assert a.state.flagged == frozenset({"json/fastapi-uvicorn/cpu"})
    assert a.state.confirm_at == 12


def test_which_runs_count() -> None:
    from twinbench.analysis.gate import discard_reason

    ok = dict(
        status="ok", reason_kind=None, requests=1000, failures=0, max_error_rate=0.001,
        loader_util=0.3, send_ratio=1.0, late=0.0, sent=1000.0,
    )  # fmt: skip
    assert discard_reason(**ok) == ""  # type: ignore[arg-type]
    busy = {**ok, "status": "invalid", "reason_kind": "load-generator-bound"}
    assert discard_reason(**busy) == ""  # type: ignore[arg-type]  # others' work only
    cases = {
        "loader saturated": {**busy, "loader_util": 0.95},
        "rate missed": {**ok, "send_ratio": 0.9},
        "rate missed (late sends)": {**ok, "late": 80.0},
        "requests failed": {**ok, "failures": 5},
        "invalid: target-backlogged": {
            **ok,
            "status": "invalid",
            "reason_kind": "target-backlogged",
        },
        "failed: target-died": {**ok, "status": "failed", "reason_kind": "target-died"},
        "no requests": {**ok, "requests": 0},
    }
    for why, kwargs in cases.items():
        assert discard_reason(**kwargs) == why  # type: ignore[arg-type]


def test_an_unconfirmed_flag_the_pooled_pairs_still_show_gets_one_more_batch() -> None:
    """Pooled slower, the 6 fresh pairs alone not significant: 4 more fresh pairs (the rule's
    extend_pairs), then decided on all the fresh pairs since the flag; still unconfirmed, it is
    inconclusive."""
    base = [300.0, 310, 305, 298, 302, 307, 300, 304, 301, 299, 303, 306, 300, 302, 305, 301]
    fresh = [1.30, 0.97, 1.25, 0.98, 1.28, 0.99]  # +12 %, noisy: p ~0.09 on its own
    cand = [b * 1.20 for b in base[:6]] + [b * f for b, f in zip(base[6:12], fresh, strict=True)]
    runs = runs_from(base[:12], cand)
    first = assess([SUBJ], runs[:12], SIX)  # 6 pairs: flagged
    assert first.state.flagged_at == (("json/fastapi-uvicorn/cpu", 6),)
    second = assess([SUBJ], runs, SIX, first.state)
    (o,) = second.outcomes
    assert o.verdict is Verdict.PENDING and second.want_pairs == 12 + SIX.extend_pairs
    # The extension confirms: the 10 fresh pairs alone are now significant.
    more = runs_from(base, cand + [b * 1.15 for b in base[12:]])
    third = assess([SUBJ], more, SIX, second.state)
    assert third.verdict is Verdict.REGRESSION, third.outcomes[0].sentence
    # It does not: inconclusive, never a pass, and no further extension.
    flat = runs_from(base, cand + [b * 0.97 for b in base[12:]])
    third = assess([SUBJ], flat, SIX, second.state)
    assert third.verdict is Verdict.INCONCLUSIVE and third.want_pairs is None
