"""`twinbench gate`: what the gate decides on and with which rule, as data. Pure: no I/O.

The gate compares a baseline build with a candidate build of the same service, run by run
(ABBA, a fresh server per run), and decides per (target, scenario, metric):

- ratio metrics (CPU time per request, p50, p99): a one-sided paired test on
  log(candidate / baseline), pair by pair, plus a minimum effect: a slowdown smaller than
  `min_effect` never fails a build, however significant;
- the error rate: the difference of the two sides' pooled error rates (absolute), with a
  one-sided two-proportion test.

A regression is only ever declared after a confirmation stage (fresh pairs, decided on the
pooled pairs); see analysis/gate.py for the rule and docs in the README.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

from twinbench.errors import UsageError
from twinbench.results.metrics import Metric


class Side(enum.Enum):
    BASELINE = "baseline"
    CANDIDATE = "candidate"

    @property
    def letter(self) -> str:
        return "A" if self is Side.BASELINE else "B"


class Design(enum.Enum):
    """How the two sides of a pair are measured."""

    # Both sides at once, each its own fresh server on the same target CPUs and its own
    # Locust at the same rate, their windows started together (run/duet.py): the VM's drift
    # hits both alike. The default: its A/A pairs were ±2 % apart, ABBA's ±22 % (README).
    DUET = "duet"
    # One side after the other, A B, B A, ...: each server has the target CPUs to itself
    # (for a service that cannot run twice on one machine, or to check the duet).
    ABBA = "abba"


class Test(enum.Enum):
    LOG_RATIO = "log-ratio"  # paired one-sided t-test on log(candidate/baseline)
    ERROR_DIFF = "error-difference"  # pooled error rates, one-sided two-proportion z-test


@dataclass(frozen=True)
class Threshold:
    """How one metric is gated.

    `min_effect`: the smallest change that counts (relative for ratio metrics: 0.05 is
    +5 %; absolute for the error rate: 0.001 is 0.1 percentage point). `detect`: the
    slowdown the gate must be able to catch with 95 % probability; when the measured noise
    means it could not (the smallest detectable effect is larger) within the allowed pairs,
    the verdict is inconclusive instead of a pass. Not used by the error rate.
    """

    metric: Metric
    min_effect: float
    detect: float
    test: Test = Test.LOG_RATIO
    primary: bool = False

    @property
    def name(self) -> str:
        return GATE_NAMES[self.metric]


# The names on the command line and in verdict.json.
GATE_NAMES: Mapping[Metric, str] = {
    Metric.CPU_PER_REQUEST: "cpu",
    Metric.LATENCY_P50: "p50",
    Metric.LATENCY_P99: "p99",
    Metric.ERROR_RATE: "errors",
}

DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    # The primary metric: server CPU time per request at a fixed arrival rate.
    Threshold(Metric.CPU_PER_REQUEST, 0.05, 0.15, primary=True),
    # Latency at a rate far below capacity moves with the machine more than with the code:
    # wider thresholds (measured: see the README's calibration figures).
    Threshold(Metric.LATENCY_P50, 0.10, 0.30),
    Threshold(Metric.LATENCY_P99, 0.25, 0.75),
    Threshold(Metric.ERROR_RATE, 0.001, 0.0, test=Test.ERROR_DIFF),
)


@dataclass(frozen=True)
class GateRule:
    """The decision rule's numbers (analysis/gate.py applies them)."""

    alpha: float = 0.05  # one-sided, for the confirmed (pooled) decision
    screen_alpha: float = 0.20  # one-sided, for flagging a slowdown for confirmation
    power: float = 0.95  # the smallest detectable effect is the one caught this often
    first_pairs: int = 6  # pairs before the first look
    # Fresh pairs a flagged slowdown must survive, tested on their own: 10 keeps +15 % caught
    # at ±21 % pair-to-pair noise (6 caught 86 % in the calibration; README).
    confirm_pairs: int = 10
    extend_pairs: int = 4  # pairs added at a time while the noise is too large to decide
    max_pairs: int = 16  # pairs at most before confirmation (noise too large: inconclusive)
    thresholds: tuple[Threshold, ...] = DEFAULT_THRESHOLDS

    def __post_init__(self) -> None:
        for name in ("alpha", "screen_alpha", "power"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise UsageError(f"gate {name} {value!r}: must be between 0 and 1")
        if self.first_pairs < 2:
            raise UsageError(f"--pairs {self.first_pairs}: at least 2 pairs are needed")
        if self.confirm_pairs < 2:
            # The fresh pairs are tested on their own: one pair has no variance to test.
            raise UsageError(f"--confirm-pairs {self.confirm_pairs}: must be at least 2")
        if self.max_pairs < self.first_pairs:
            raise UsageError(
                f"--max-pairs {self.max_pairs}: must be at least --pairs {self.first_pairs}"
            )
        if self.extend_pairs < 1:
            raise UsageError(f"extend_pairs {self.extend_pairs}: must be at least 1")

    def threshold(self, metric: Metric) -> Threshold:
        for t in self.thresholds:
            if t.metric is metric:
                return t
        raise KeyError(metric)


def parse_percent(flag: str, text: str) -> float:
    """`5%`, `5` (percent) or `0.05`? Only `5%` and `5` are accepted, both meaning 5 %:
    a bare fraction would be ambiguous. Returns the fraction (0.05)."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{flag} {text!r}: not a percentage (e.g. 5%)") from None
    if not math.isfinite(value) or value <= 0 or value >= 1000:
        raise UsageError(f"{flag} {text!r}: must be a percentage above 0 and below 1000")
    return value / 100.0


def with_thresholds(
    rule: GateRule,
    min_effect: float | None = None,
    overrides: Mapping[str, str] | None = None,
) -> GateRule:
    """The rule with --min-effect (the primary metric's) and --threshold NAME=MIN[/DETECT]
    applied. Every bad name or number is one UsageError naming it."""
    by_name = {t.name: t for t in rule.thresholds}
    out = dict(by_name)
    if min_effect is not None:
        prim = next(t for t in rule.thresholds if t.primary)
        out[prim.name] = Threshold(
            prim.metric, min_effect, max(prim.detect, min_effect * 2), prim.test, prim.primary
        )
    for name, spec in (overrides or {}).items():
        if name not in by_name:
            known = ", ".join(by_name)
            raise UsageError(f"--threshold {name}={spec}: unknown metric {name!r} ({known})")
        base = out[name]
        first, _, second = spec.partition("/")
        flag = f"--threshold {name}={spec}"
        if base.test is Test.ERROR_DIFF:
            lo = parse_percent(flag, first)
            out[name] = Threshold(base.metric, lo, 0.0, base.test, base.primary)
            continue
        lo = parse_percent(flag, first)
        hi = parse_percent(flag, second) if second else max(base.detect, lo * 2)
        if hi <= lo:
            raise UsageError(f"{flag}: the detectable effect must exceed the minimum effect")
        out[name] = Threshold(base.metric, lo, hi, base.test, base.primary)
    return dataclasses.replace(rule, thresholds=tuple(out[t.name] for t in rule.thresholds))
