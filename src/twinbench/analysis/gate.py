"""The gate's decision: baseline against candidate, pair by pair. Pure: no I/O.

Each pair is one baseline run and one candidate run next to it in time (ABBA), each on a
fresh server. For every (target, scenario) the gate looks at:

- CPU time per request (primary), p50 and p99 latency: d = ln(candidate / baseline) per
  pair; the estimate is exp(mean d) with a 95 % t interval; a one-sided paired t-test asks
  whether the candidate is slower (and, for reporting, faster);
- the error rate: both sides' requests and failures pooled over every measured run (runs
  discarded for failed requests included, so a candidate that fails requests is seen).

The rule, applied after each batch of pairs (`assess`):

1. Screen: after `first_pairs` pairs, a metric whose estimated slowdown is at least half the
   minimum effect with one-sided p < `screen_alpha` is *flagged*.
2. Confirm: a flagged metric gets `confirm_pairs` fresh pairs; it is a REGRESSION only if on
   all its pairs pooled the slowdown is ≥ `min_effect` with one-sided p < `alpha`, AND the
   fresh pairs alone show a slowdown with one-sided p < `alpha`. The fresh pairs are
   independent of the look that flagged the metric, so a chance slowdown survives both
   stages with probability at most `screen_alpha` × `alpha` per look; the pooled test alone
   re-uses the flagging pairs and confirmed chance slowdowns more often than `alpha`.
   Nothing fails a build without this stage.
   While all pairs pooled still show the slowdown but the fresh ones alone do not, the fresh
   pairs are extended once by `extend_pairs`; still unconfirmed, it is INCONCLUSIVE
   (neither proven nor cleared), never a pass.
3. Otherwise a metric PASSES when the smallest slowdown the pairs could have caught (with
   probability `power`) is at most `detect`; if not, more pairs are run, up to `max_pairs`,
   and then it is INCONCLUSIVE: the noise was too large to detect the requested effect.
4. A speed-up of at least the minimum effect with one-sided p < `alpha` is an IMPROVEMENT
   (reported; it does not need confirming, it fails nothing).

The error rate is a REGRESSION when the candidate's pooled rate exceeds the baseline's by
at least its minimum effect (absolute) with one-sided p < `alpha` (two-proportion z-test),
and failures came from at least two separate candidate runs (the confirmation).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from twinbench.define.gate import GateRule, Side, Test, Threshold
from twinbench.results.metrics import Metric


class Verdict(enum.Enum):
    PASS = "pass"
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    INCONCLUSIVE = "inconclusive"
    PENDING = "pending"  # more pairs are wanted (never a final verdict)

    @property
    def exit_code(self) -> int:
        return {Verdict.REGRESSION: 1, Verdict.INCONCLUSIVE: 3}.get(self, 0)


@dataclass(frozen=True)
class Subject:
    """What is gated: one target on one scenario."""

    target: str
    scenario: str

    @property
    def key(self) -> str:
        return f"{self.scenario}/{self.target}"


@dataclass(frozen=True)
class CellFigures:
    """One run's figures for one subject."""

    values: Mapping[Metric, float]  # CPU µs/request, p50 ms, p99 ms
    requests: int
    failures: int


@dataclass(frozen=True)
class GateRun:
    """One measured run of one side (a fresh server): its figures per subject key."""

    side: Side
    order: int  # 1-based position in the gate's run sequence
    pair: int  # the pair it belongs to (1-based)
    kept: bool  # False: discarded (and replaced); `reason` says why
    reason: str
    cells: Mapping[str, CellFigures]


@dataclass(frozen=True)
class Estimate:
    """log-ratio statistics of one metric over n pairs."""

    n: int
    ratio: float  # exp(mean ln(candidate/baseline)); > 1: the candidate is slower
    low: float  # 95 % two-sided interval of the ratio (nan below 2 pairs)
    high: float
    p_slower: float  # one-sided p-value that the candidate is slower
    p_faster: float
    noise: float  # standard deviation of ln(candidate/baseline) per pair
    sde: float  # smallest slowdown detectable with the rule's power (inf below 2 pairs)
    baseline_mean: float
    candidate_mean: float

    @property
    def change(self) -> float:
        return self.ratio - 1.0

    @property
    def run_cv(self) -> float:
        """The per-run coefficient of variation the pair noise implies (equal on both
        sides: a pair's difference carries two runs' noise)."""
        return self.noise / math.sqrt(2.0)


@dataclass(frozen=True)
class ErrorEstimate:
    baseline_requests: int
    baseline_failures: int
    candidate_requests: int
    candidate_failures: int
    candidate_runs_failing: int
    p_higher: float  # one-sided: the candidate's rate is higher

    @property
    def baseline_rate(self) -> float:
        return self.baseline_failures / self.baseline_requests if self.baseline_requests else 0.0

    @property
    def candidate_rate(self) -> float:
        c = self.candidate_requests
        return self.candidate_failures / c if c else 0.0

    @property
    def difference(self) -> float:
        return self.candidate_rate - self.baseline_rate


@dataclass(frozen=True)
class MetricOutcome:
    subject: Subject
    threshold: Threshold
    verdict: Verdict
    sentence: str  # why, in words
    estimate: Estimate | None = None
    errors: ErrorEstimate | None = None
    flagged: bool = False  # it went through the confirmation stage
    pairs_needed: int | None = None  # inconclusive: pairs the measured noise would need

    @property
    def key(self) -> str:
        return f"{self.subject.key}/{self.threshold.name}"


@dataclass(frozen=True)
class GateState:
    """What earlier looks decided: flagged metrics and when their confirmation is done."""

    confirm_at: int | None = None  # pairs needed before flagged metrics are decided
    # (metric key, pairs when it was flagged): its confirmation pairs are the ones after.
    flagged_at: tuple[tuple[str, int], ...] = ()

    @property
    def flagged(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.flagged_at)


@dataclass(frozen=True)
class Assessment:
    outcomes: tuple[MetricOutcome, ...]
    state: GateState
    pairs: int  # complete pairs used
    want_pairs: int | None  # None: decided; else run until this many pairs
    discarded: int = 0
    discard_reasons: Mapping[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        vs = {o.verdict for o in self.outcomes}
        if Verdict.REGRESSION in vs:
            return Verdict.REGRESSION
        if Verdict.PENDING in vs:
            return Verdict.PENDING
        if Verdict.INCONCLUSIVE in vs or not self.outcomes:
            return Verdict.INCONCLUSIVE
        return Verdict.PASS

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


# -- the statistics ------------------------------------------------------------------------
def _z(p: float) -> float:
    return float(sps.norm.ppf(p))


def _t(p: float, df: int) -> float:
    return float(sps.t.ppf(p, df))


def smallest_detectable(noise: float, n: int, min_effect: float, rule: GateRule) -> float:
    """The smallest relative slowdown D that the confirmed rule (one-sided p < alpha and
    estimate ≥ min_effect) catches with probability `rule.power`, with n pairs of this
    noise: ln(1+D) = max(ln(1+m) + z·se, (t_(1-α, n-1) + z)·se)."""
    if n < 2 or not math.isfinite(noise):
        return math.inf
    se = noise / math.sqrt(n)
    z = _z(rule.power)
    need = max(math.log1p(min_effect) + z * se, (_t(1 - rule.alpha, n - 1) + z) * se)
    return math.expm1(need)


def pairs_needed(noise: float, detect: float, min_effect: float, rule: GateRule) -> int | None:
    """Pairs with which the smallest detectable slowdown reaches `detect` (None: > 1,000)."""
    if not math.isfinite(noise):
        return None
    for n in range(2, 1001):
        if smallest_detectable(noise, n, min_effect, rule) <= detect:
            return n
    return None


def log_ratio_estimate(
    baseline: Sequence[float], candidate: Sequence[float], min_effect: float, rule: GateRule
) -> Estimate | None:
    """Paired estimate over pairs whose both values are finite and > 0 (None if none)."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    ok = np.isfinite(b) & np.isfinite(c) & (b > 0) & (c > 0)
    b, c = b[ok], c[ok]
    n = int(b.size)
    if n == 0:
        return None
    d = np.log(c / b)
    mean = float(d.mean())
    nan = math.nan
    if n < 2:
        r = math.exp(mean)
        return Estimate(1, r, nan, nan, nan, nan, nan, math.inf, float(b[0]), float(c[0]))
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    if se > 0:
        tstat = mean / se
        p_slower = float(sps.t.sf(tstat, n - 1))
        p_faster = float(sps.t.cdf(tstat, n - 1))
    else:  # every pair the same ratio: certain in its direction (0.5 both ways at 1)
        p_slower = 0.0 if mean > 0 else (1.0 if mean < 0 else 0.5)
        p_faster = 0.0 if mean < 0 else (1.0 if mean > 0 else 0.5)
    half = _t(0.975, n - 1) * se
    return Estimate(
        n=n,
        ratio=math.exp(mean),
        low=math.exp(mean - half),
        high=math.exp(mean + half),
        p_slower=p_slower,
        p_faster=p_faster,
        noise=sd,
        sde=smallest_detectable(sd, n, min_effect, rule),
        baseline_mean=float(b.mean()),
        candidate_mean=float(c.mean()),
    )


def error_estimate(runs: Sequence[GateRun], key: str) -> ErrorEstimate:
    req = {Side.BASELINE: 0, Side.CANDIDATE: 0}
    fail = {Side.BASELINE: 0, Side.CANDIDATE: 0}
    failing_runs = 0
    for r in runs:
        cell = r.cells.get(key)
        if cell is None:
            continue
        req[r.side] += cell.requests
        fail[r.side] += cell.failures
        if r.side is Side.CANDIDATE and cell.failures:
            failing_runs += 1
    nb, nc = req[Side.BASELINE], req[Side.CANDIDATE]
    fb, fc = fail[Side.BASELINE], fail[Side.CANDIDATE]
    p = 1.0
    if nb and nc and (fb + fc):
        pooled = (fb + fc) / (nb + nc)
        se = math.sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc))
        diff = fc / nc - fb / nb
        p = float(sps.norm.sf(diff / se)) if se > 0 else (0.0 if diff > 0 else 1.0)
    return ErrorEstimate(nb, fb, nc, fc, failing_runs, p)


def complete_pairs(runs: Sequence[GateRun]) -> list[tuple[GateRun, GateRun]]:
    """(baseline, candidate) of every pair whose both runs were kept, in pair order."""
    kept: dict[tuple[int, Side], GateRun] = {}
    for r in runs:
        if r.kept:
            kept[(r.pair, r.side)] = r
    pairs = sorted({p for p, _ in kept})
    return [
        (kept[(p, Side.BASELINE)], kept[(p, Side.CANDIDATE)])
        for p in pairs
        if (p, Side.BASELINE) in kept and (p, Side.CANDIDATE) in kept
    ]


# -- the rule ------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def _ratio_outcome(
    subject: Subject,
    th: Threshold,
    est: Estimate | None,
    n: int,
    rule: GateRule,
    state: GateState,
    final: bool,
    key: str,
    fresh: Estimate | None = None,
) -> tuple[MetricOutcome, int | None, bool]:
    """The outcome, the pairs it wants (None: none) and whether it is newly flagged."""

    def out(v: Verdict, why: str, flagged: bool = False, need: int | None = None) -> MetricOutcome:
        return MetricOutcome(subject, th, v, why, est, None, flagged, need)

    if est is None or est.n < 2:
        if not final:
            return out(Verdict.PENDING, "waiting for pairs"), max(rule.first_pairs, n + 1), False
        return out(Verdict.INCONCLUSIVE, "fewer than 2 usable pairs"), None, False
    slower = est.p_slower < rule.alpha and est.ratio >= 1 + th.min_effect
    faster = est.p_faster < rule.alpha and est.ratio <= 1 / (1 + th.min_effect)
    detail = (
        f"{_pct(est.change)} over {est.n} pairs, one-sided p {est.p_slower:.3g}; "
        f"could detect {_pct(est.sde)}"
    )
    if key in state.flagged:
        assert state.confirm_at is not None
        if n < state.confirm_at:
            if final:
                return (
                    out(
                        Verdict.INCONCLUSIVE,
                        f"flagged, but time ran out before its confirmation pairs ({detail})",
                        True,
                    ),
                    None,
                    False,
                )
            return out(Verdict.PENDING, "confirming", True), state.confirm_at, False
        # The confirmation is the fresh pairs alone: the pooled test includes the very pairs
        # that got the metric flagged, so on its own it would confirm chance slowdowns far
        # more often than alpha (the calibration measured it: README).
        confirmed = fresh is not None and fresh.n >= 2 and fresh.p_slower < rule.alpha
        if slower and confirmed:
            assert fresh is not None
            return (
                out(
                    Verdict.REGRESSION,
                    f"confirmed slowdown: {detail}; the {fresh.n} confirmation pairs alone "
                    f"{_pct(fresh.change)}, one-sided p {fresh.p_slower:.3g}",
                    True,
                ),
                None,
                False,
            )
        extend = fresh is not None and fresh.n < rule.confirm_pairs + rule.extend_pairs
        if slower and not final and extend:
            # Pooled still slower, the fresh pairs alone not yet: one more batch of fresh
            # pairs (a second look at them; the calibration resamples the rule with it).
            want = n + rule.extend_pairs
            return out(Verdict.PENDING, "confirming (extended)", True), want, False
        if slower:
            # All pairs pooled still show the slowdown; the fresh ones alone did not. Neither
            # proven nor cleared: passing it would wave through a real slowdown that the
            # fresh pairs missed by chance (the calibration's planted +15 % did so).
            why = f"pooled slower, fresh pairs did not confirm: {detail}"
            if fresh is not None:
                why += f"; the {fresh.n} fresh pairs {_pct(fresh.change)}, p {fresh.p_slower:.3g}"
            return out(Verdict.INCONCLUSIVE, why, True), None, False
        if est.sde <= th.detect:
            return (
                out(Verdict.PASS, f"flagged but not confirmed: {detail}", True),
                None,
                False,
            )
        need = pairs_needed(est.noise, th.detect, th.min_effect, rule)
        return (
            out(Verdict.INCONCLUSIVE, f"flagged, not confirmed, too noisy: {detail}", True, need),
            None,
            False,
        )
    if n < rule.first_pairs and not final:
        return out(Verdict.PENDING, "first pairs"), rule.first_pairs, False
    flag = est.ratio >= 1 + th.min_effect / 2 and est.p_slower < rule.screen_alpha
    if flag:
        if final:
            return (
                out(Verdict.INCONCLUSIVE, f"a slowdown not yet confirmed: {detail}", True),
                None,
                False,
            )
        return out(Verdict.PENDING, "flagged", True), n + rule.confirm_pairs, True
    if faster:
        return out(Verdict.IMPROVEMENT, f"faster: {detail}"), None, False
    if est.sde <= th.detect:
        return (
            out(Verdict.PASS, f"no slowdown of {_pct(th.min_effect)} or more: {detail}"),
            None,
            False,
        )
    need = pairs_needed(est.noise, th.detect, th.min_effect, rule)
    if n < rule.max_pairs and not final:
        want = min(rule.max_pairs, n + rule.extend_pairs)
        return out(Verdict.PENDING, "too noisy so far", need=need), want, False
    return (
        out(
            Verdict.INCONCLUSIVE,
            f"too noisy to detect {_pct(th.detect)}: {detail}"
            + (f"; would need about {need} pairs" if need else ""),
            need=need,
        ),
        None,
        False,
    )


def _error_outcome(
    subject: Subject, th: Threshold, err: ErrorEstimate, rule: GateRule
) -> MetricOutcome:
    text = (
        f"{err.candidate_rate * 100:.3f} % against {err.baseline_rate * 100:.3f} % "
        f"({err.candidate_failures}/{err.candidate_requests} vs "
        f"{err.baseline_failures}/{err.baseline_requests}), one-sided p {err.p_higher:.3g}"
    )
    if err.difference >= th.min_effect and err.p_higher < rule.alpha:
        if err.candidate_runs_failing >= 2:
            return MetricOutcome(
                subject, th, Verdict.REGRESSION, f"more failures: {text}", None, err, True
            )
        return MetricOutcome(
            subject, th, Verdict.PASS,
            f"failures in one candidate run only (not confirmed): {text}", None, err, True,
        )  # fmt: skip
    return MetricOutcome(subject, th, Verdict.PASS, text, None, err)


def assess(
    subjects: Sequence[Subject],
    runs: Sequence[GateRun],
    rule: GateRule,
    state: GateState = GateState(),
    *,
    final: bool = False,
) -> Assessment:
    """Judge every (subject, metric) on the runs so far.

    `final`: no more pairs can be run (time, discards or pairs exhausted): every PENDING
    becomes a verdict (a flagged slowdown not yet confirmed is INCONCLUSIVE, never a
    failure). Returns the outcomes, the state for the next look and how many pairs to run
    before it (None: decided)."""
    pairs = complete_pairs(runs)
    n = len(pairs)
    outcomes: list[MetricOutcome] = []
    wants: list[int] = []
    flagged_at = dict(state.flagged_at)
    confirm_at = state.confirm_at
    for subj in subjects:
        for th in rule.thresholds:
            key = f"{subj.key}/{th.name}"
            if th.test is Test.ERROR_DIFF:
                outcomes.append(_error_outcome(subj, th, error_estimate(runs, subj.key), rule))
                continue
            b = [p[0].cells[subj.key].values.get(th.metric, math.nan) for p in pairs]
            c = [p[1].cells[subj.key].values.get(th.metric, math.nan) for p in pairs]
            est = log_ratio_estimate(b, c, th.min_effect, rule)
            start = flagged_at.get(key)
            fresh = (
                log_ratio_estimate(b[start:], c[start:], th.min_effect, rule)
                if start is not None
                else None
            )
            outcome, want, newly = _ratio_outcome(subj, th, est, n, rule, state, final, key, fresh)
            if newly:
                flagged_at[key] = n
                confirm_at = max(confirm_at or 0, n + rule.confirm_pairs)
            outcomes.append(outcome)
            if want is not None:
                wants.append(want)
    # A metric flagged at this look waits for the shared confirmation point.
    if confirm_at is not None and any(
        o.verdict is Verdict.PENDING and o.key in flagged_at for o in outcomes
    ):
        wants.append(confirm_at)
    discarded = [r for r in runs if not r.kept]
    reasons: dict[str, int] = {}
    for r in discarded:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    return Assessment(
        outcomes=tuple(outcomes),
        state=GateState(confirm_at, tuple(sorted(flagged_at.items()))),
        pairs=n,
        want_pairs=max(wants) if wants else None,
        discarded=len(discarded),
        discard_reasons=reasons,
    )


def decide_pairs(
    subjects: Sequence[Subject],
    runs: Sequence[GateRun],
    rule: GateRule,
) -> Assessment:
    """The whole sequential rule replayed on runs already measured (the calibration's
    resampling uses it): look after first_pairs, then at each wanted count, as a live gate
    does; final when the runs run out."""
    pairs = complete_pairs(runs)
    by_pair: dict[int, list[GateRun]] = {}
    for r in runs:
        by_pair.setdefault(r.pair, []).append(r)
    order = [b.pair for b, _ in pairs]
    state = GateState()
    upto = rule.first_pairs
    while True:
        used = [r for p in order[:upto] for r in by_pair[p]]
        final = upto >= len(order)
        a = assess(subjects, used, rule, state, final=final)
        if a.want_pairs is None:
            return a
        state = a.state
        upto = a.want_pairs


# -- which runs count ----------------------------------------------------------------------
LOADER_SATURATED = 0.90  # the Locust processes' own share of the loader CPUs
RATE_MISSED = 0.95  # sends below this share of the intended rate
LATE_SHARE = 0.05  # sends that started late


def discard_reason(
    *,
    status: str,
    reason_kind: str | None,
    requests: int,
    failures: int,
    max_error_rate: float,
    loader_util: float | None,
    send_ratio: float | None,
    late: float | None,
    sent: float | None,
) -> str:
    """Why a gate run's cell cannot be used ("" when it can). The gate keeps a cell the
    runner marked load-generator-bound only because *other* work kept the loader CPUs busy
    (the shared CI machine): what it measures is the server's CPU per request at a rate that
    was met, so it stands as long as Locust itself was not saturated and sent on time."""
    if status not in ("ok", "invalid"):
        return f"{status}: {reason_kind or 'no reason'}"
    if status == "invalid" and reason_kind != "load-generator-bound":
        return f"invalid: {reason_kind}"
    if requests <= 0:
        return "no requests"
    if loader_util is not None and loader_util >= LOADER_SATURATED:
        return "loader saturated"
    if send_ratio is not None and send_ratio < RATE_MISSED:
        return "rate missed"
    if late is not None and sent and late > LATE_SHARE * sent:
        return "rate missed (late sends)"
    if failures / requests > max_error_rate:
        return "requests failed"
    return ""
