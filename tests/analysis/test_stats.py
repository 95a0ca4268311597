"""The bootstrap ratio interval: reproducible, correct in location, honest about significance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from twinbench.analysis.stats import format_interval, format_ratio, mean, ratio_ci


def test_ratio_is_ratio_of_means() -> None:
    ci = ratio_ci([10.0, 12.0, 14.0], [5.0, 6.0, 7.0])
    assert ci is not None
    assert ci.ratio == pytest.approx(12.0 / 6.0)
    assert ci.low is not None and ci.high is not None
    assert ci.low <= ci.ratio <= ci.high


def test_same_seed_same_interval_and_other_seed_differs() -> None:
    a, b = [10.0, 11.5, 9.0, 10.2], [9.5, 10.1, 10.8, 9.9]
    assert ratio_ci(a, b) == ratio_ci(a, b)
    assert ratio_ci(a, b, seed=1) != ratio_ci(a, b, seed=2)


def test_clear_difference_is_significant() -> None:
    ci = ratio_ci([200.0, 205.0, 198.0], [100.0, 102.0, 99.0])
    assert ci is not None and ci.significant
    assert ci.low is not None and ci.low > 1.0
    assert ci.verdict_text == "significant"


def test_overlapping_samples_are_not_significant() -> None:
    ci = ratio_ci([100.0, 120.0, 90.0, 110.0], [105.0, 95.0, 115.0, 100.0])
    assert ci is not None and not ci.significant
    assert ci.low is not None and ci.high is not None and ci.low < 1.0 < ci.high
    assert ci.verdict_text == "no significant difference"


def test_single_repeat_has_no_interval_and_is_never_significant() -> None:
    ci = ratio_ci([200.0], [100.0, 101.0])
    assert ci is not None
    assert ci.ratio == pytest.approx(200.0 / 100.5)
    assert not ci.has_interval and not ci.significant
    assert "too few repeats" in ci.verdict_text


@pytest.mark.parametrize(("num", "den"), [([], [1.0]), ([1.0], []), ([1.0, 2.0], [0.0, 0.0])])
def test_no_ratio(num: list[float], den: list[float]) -> None:
    assert ratio_ci(num, den) is None


def test_non_finite_values_are_ignored() -> None:
    ci = ratio_ci([2.0, float("nan"), 2.0], [1.0, float("inf"), 1.0])
    assert ci is not None and ci.ratio == pytest.approx(2.0)
    assert mean([float("nan")]) is None


def test_agrees_with_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(150, 10, 8)
    b = rng.normal(100, 10, 8)
    ours = ratio_ci(list(a), list(b), resamples=20000)
    theirs = sps.bootstrap(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) / np.mean(y, axis=axis),
        n_resamples=20000,
        method="percentile",
        paired=False,
        vectorized=True,
        random_state=np.random.default_rng(1),
    ).confidence_interval
    assert ours is not None and ours.low is not None and ours.high is not None
    assert ours.low == pytest.approx(theirs.low, rel=0.02)
    assert ours.high == pytest.approx(theirs.high, rel=0.02)


def test_format_ratio() -> None:
    assert format_ratio(None) == "–"
    ci = ratio_ci([2.0, 2.2], [1.0, 1.0])
    assert format_ratio(ci).startswith("2.10× [")
    assert format_ratio(ratio_ci([2.0], [1.0])) == "2.00×"


def test_an_interval_that_excludes_1_never_prints_as_1_00() -> None:
    """Paced scenarios (SSE, broadcast) give ratios like 1.001–1.004: significant, and two
    digits would print `1.00–1.00` beside "significant"."""
    assert format_interval(1.10, 1.40) == "1.10–1.40"
    assert format_interval(0.999, 1.004) == "1.00–1.00"  # spans 1: two digits say enough
    assert format_interval(1.0012, 1.0041) == "1.001–1.004"
    assert format_interval(0.9951, 0.9989) == "0.995–0.999"
    assert format_interval(1.00004, 1.00009) == "1.0000–1.0001"  # at most four digits
    ci = ratio_ci([1.002, 1.003, 1.004], [1.0, 1.0, 1.0])
    assert ci.significant and "1.00–1.00" not in format_ratio(ci)
