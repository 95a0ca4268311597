"""Percentiles from known histograms: exact ranks, µs resolution, exact merging."""

from __future__ import annotations

from twinbench.analysis import hist


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


def test_merge_is_exact() -> None:
    a = _hist_of([1000] * 99)
    b = _hist_of([50_000])
    merged = hist.percentiles(hist.merge([a, b]))
    assert merged.count == 100
    assert merged.p50_ms == 1.0
    assert 50.0 <= merged.max_ms <= 50.0 * 1.0005


def test_empty() -> None:
    p = hist.percentiles(hist.new())
    assert p.count == 0 and p.p99_ms == 0.0


def test_fast_path_equals_hdrh() -> None:
    # Random latencies over 5 decades: our vectorised bucket walk must agree with hdrh's.
    import random

    rng = random.Random(7)
    h = hist.new()
    for _ in range(20_000):
        h.record_value(int(10 ** rng.uniform(1.5, 6.5)))
    p = hist.percentiles(h)
    ref = h.get_percentile_to_value_dict(list(hist.PERCENTILES))
    assert [p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms] == [ref[q] / 1000 for q in hist.PERCENTILES]
    assert abs(p.mean_ms - h.get_mean_value() / 1000) < 1e-9
    assert p.max_ms == h.get_max_value() / 1000
