"""Ratio of two frameworks' figures with a bootstrap confidence interval. Pure: no I/O.

Each repeat of a cell is one independent run (fresh server, fresh load generator), so the
per-repeat values of the two targets are two independent samples: they are resampled
separately (not paired; repeat 1 of Flask has nothing to do with repeat 1 of FastAPI). The
statistic is mean(FastAPI) / mean(Flask). The generator is seeded so the same results give
the same report, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 4000
DEFAULT_SEED = 20240601
CONFIDENCE = 0.95


@dataclass(frozen=True)
class RatioCI:
    """`ratio` = mean(numerator) / mean(denominator); `low`/`high` None without enough repeats."""

    ratio: float
    low: float | None
    high: float | None
    n_num: int
    n_den: int
    confidence: float = CONFIDENCE

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def significant(self) -> bool:
        """True when the interval excludes 1; False when it spans 1 or there is no interval."""
        if self.low is None or self.high is None:
            return False
        return self.low > 1.0 or self.high < 1.0

    @property
    def verdict_text(self) -> str:
        if not self.has_interval:
            return f"too few repeats ({self.n_num} vs {self.n_den}): no interval"
        return "significant" if self.significant else "no significant difference"


def _clean(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray([float(v) for v in values], dtype=float)
    return arr[np.isfinite(arr)]


def ratio_ci(
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> RatioCI | None:
    """Percentile-bootstrap interval of mean(numerator)/mean(denominator).

    Returns None when either side has no finite value or the denominator's mean is 0 (no
    ratio exists). With a single repeat on either side the ratio is returned without an
    interval: resampling one value gives a zero-width interval, which would falsely look
    significant.
    """
    num, den = _clean(numerator), _clean(denominator)
    if num.size == 0 or den.size == 0 or den.mean() == 0:
        return None
    ratio = float(num.mean() / den.mean())
    if num.size < 2 or den.size < 2:
        return RatioCI(ratio, None, None, int(num.size), int(den.size), confidence)
    rng = np.random.default_rng(seed)
    # Resample indices for both sides at once: (resamples, n) matrices, means along axis 1.
    num_means = num[rng.integers(0, num.size, (resamples, num.size))].mean(axis=1)
    den_means = den[rng.integers(0, den.size, (resamples, den.size))].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = num_means / den_means
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return RatioCI(ratio, None, None, int(num.size), int(den.size), confidence)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [alpha, 1.0 - alpha])
    return RatioCI(ratio, float(low), float(high), int(num.size), int(den.size), confidence)


def mean(values: Sequence[float]) -> float | None:
    arr = _clean(values)
    return float(arr.mean()) if arr.size else None


def format_interval(low: float, high: float) -> str:
    """`1.10–1.40`, with more digits where two would hide which side of 1 the interval lies:
    an interval of 1.001–1.004 is significant, and `1.00–1.00` beside "significant" reads as
    a contradiction."""
    for digits in (2, 3, 4):
        lo, hi = f"{low:.{digits}f}", f"{high:.{digits}f}"
        one = f"{1:.{digits}f}"
        if not ((low > 1 and lo == one) or (high < 1 and hi == one)):
            break
    return f"{lo}–{hi}"


def format_ratio(ci: RatioCI | None) -> str:
    """`1.23× [1.10–1.40]`; `–` when there is no ratio."""
    if ci is None or not math.isfinite(ci.ratio):
        return "–"
    text = f"{ci.ratio:.2f}×"
    if ci.low is not None and ci.high is not None:
        text += f" [{format_interval(ci.low, ci.high)}]"
    return text
