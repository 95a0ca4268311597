"""The vectorized histogram reader agrees with hdrh's own (slow) implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from twinbench.analysis import histograms as latency


def _hist(seed: int, n: int = 5000, scale_us: float = 3000.0) -> HdrHistogram:
    h = latency.new()
    rng = np.random.default_rng(seed)
    for v in rng.lognormal(np.log(scale_us), 1.3, n).astype(int):
        h.record_value(int(min(max(v, 1), latency.HIGHEST_US)))
    return h


def _enc(h: HdrHistogram) -> str:
    raw = h.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)


@pytest.mark.parametrize("q", [1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0])
def test_percentiles_match_hdrh(q: float) -> None:
    h = _hist(1)
    dist = latency.distribution(h)
    assert dist.total == h.get_total_count()
    assert dist.percentile_ms(q) == h.get_value_at_percentile(q) / 1000.0


def test_merge_is_exact() -> None:
    a, b = _hist(2, 3000, 500.0), _hist(3, 2000, 80_000.0)
    both = latency.new()
    both.add(a)
    both.add(b)
    merged = latency.merged([_enc(a), _enc(b)])
    assert merged.total == 5000
    for q in (50.0, 90.0, 99.0, 99.9):
        assert merged.percentile_ms(q) == both.get_value_at_percentile(q) / 1000.0


def test_cdf_is_monotone_bounded_and_ends_at_max() -> None:
    h = _hist(4)
    points = latency.distribution(h).cdf_ms(limit=100)
    assert 5 < len(points) <= 101
    xs = [p[0] for p in points]
    fs = [p[1] for p in points]
    assert xs == sorted(xs) and fs == sorted(fs)
    assert fs[-1] == 1.0
    assert xs[-1] == h.get_value_at_percentile(100.0) / 1000.0


def test_empty() -> None:
    empty = latency.merged([])
    assert empty.total == 0 and empty.percentile_ms(99) == 0.0 and empty.cdf_ms() == ()
    assert latency.distribution(latency.new()).mean_ms() == 0.0
