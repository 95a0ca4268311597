"""The one histogram module: percentiles from known histograms (exact ranks, µs resolution),
exact merging, and agreement with hdrh's own (slow) implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from twinbench.analysis import histograms as hist


def _hist_of(values_us: list[int]) -> str:
    h = hist.new()
    for v in values_us:
        h.record_value(v)
    return hist.encode(h)


def test_percentiles_of_1_to_1000_ms() -> None:
    # 1,000 values 1..1000 ms: p50 is the 500th, p99 the 990th, p99.9 the 999th.
    p = hist.percentiles_of(_hist_of([i * 1000 for i in range(1, 1001)]))
    assert p.count == 1000
    # 4 significant digits: within 0.05 % of the true value, never below it.
    assert 500.0 <= p.p50_ms <= 500.0 * 1.0005
    assert 900.0 <= p.p90_ms <= 900.0 * 1.0005
    assert 990.0 <= p.p99_ms <= 990.0 * 1.0005
    assert 999.0 <= p.p999_ms <= 999.0 * 1.0005
    assert 1000.0 <= p.max_ms <= 1000.0 * 1.0005
    assert abs(p.mean_ms - 500.5) < 0.5


def test_sub_millisecond_resolution() -> None:
    # Below 32.768 ms every microsecond is its own bucket: 20.123 ms stays 20.123 ms.
    p = hist.percentiles_of(_hist_of([20_123] * 10 + [20_124] * 10))
    assert p.p50_ms == 20.123
    assert p.max_ms == 20.124


def test_merge_of_two_is_exact() -> None:
    a = _hist_of([1000] * 99)
    b = _hist_of([50_000])
    merged = hist.merged([a, b]).summary()
    assert merged.count == 100
    assert merged.p50_ms == 1.0
    assert 50.0 <= merged.max_ms <= 50.0 * 1.0005


def test_empty_summary() -> None:
    p = hist.distribution(hist.new()).summary()
    assert p.count == 0 and p.p99_ms == 0.0


def test_fast_path_equals_hdrh() -> None:
    # Random latencies over 5 decades: our vectorised bucket walk must agree with hdrh's.
    import random

    rng = random.Random(7)
    h = hist.new()
    for _ in range(20_000):
        h.record_value(int(10 ** rng.uniform(1.5, 6.5)))
    p = hist.distribution(h).summary()
    ref = h.get_percentile_to_value_dict(list(hist.PERCENTILES))
    assert [p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms] == [ref[q] / 1000 for q in hist.PERCENTILES]
    assert abs(p.mean_ms - h.get_mean_value() / 1000) < 1e-9
    assert p.max_ms == h.get_max_value() / 1000


def _hist(seed: int, n: int = 5000, scale_us: float = 3000.0) -> HdrHistogram:
    h = hist.new()
    rng = np.random.default_rng(seed)
    for v in rng.lognormal(np.log(scale_us), 1.3, n).astype(int):
        h.record_value(int(min(max(v, 1), hist.HIGHEST_US)))
    return h


def _enc(h: HdrHistogram) -> str:
    raw = h.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)


@pytest.mark.parametrize("q", [1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0])
def test_percentiles_match_hdrh(q: float) -> None:
    h = _hist(1)
    dist = hist.distribution(h)
    assert dist.total == h.get_total_count()
    assert dist.percentile_ms(q) == h.get_value_at_percentile(q) / 1000.0


def test_merge_is_exact() -> None:
    a, b = _hist(2, 3000, 500.0), _hist(3, 2000, 80_000.0)
    both = hist.new()
    both.add(a)
    both.add(b)
    merged = hist.merged([_enc(a), _enc(b)])
    assert merged.total == 5000
    for q in (50.0, 90.0, 99.0, 99.9):
        assert merged.percentile_ms(q) == both.get_value_at_percentile(q) / 1000.0


def test_cdf_is_monotone_bounded_and_ends_at_max() -> None:
    h = _hist(4)
    points = hist.distribution(h).cdf_ms(limit=100)
    assert 5 < len(points) <= 101
    xs = [p[0] for p in points]
    fs = [p[1] for p in points]
    assert xs == sorted(xs) and fs == sorted(fs)
    assert fs[-1] == 1.0
    assert xs[-1] == h.get_value_at_percentile(100.0) / 1000.0


def test_empty() -> None:
    empty = hist.merged([])
    assert empty.total == 0 and empty.percentile_ms(99) == 0.0 and empty.cdf_ms() == ()
    assert hist.distribution(hist.new()).mean_ms() == 0.0


def test_merged_mean_is_hdrh_mean() -> None:
    """One definition of the mean (bucket middles, as hdrh), for one histogram or merged."""
    a, b = _hist(5, 3000, 700.0), _hist(6, 1000, 40_000.0)
    both = hist.new()
    both.add(a)
    both.add(b)
    merged = hist.merged([_enc(a), _enc(b)])
    assert merged.mean_ms() == pytest.approx(both.get_mean_value() / 1000.0, rel=1e-12)
    assert merged.max_ms() == both.get_max_value() / 1000.0
