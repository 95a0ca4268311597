"""Percentiles and CDFs of the stored HdrHistograms, vectorized with numpy. Pure.

Why not hdrh's own methods: the Python hdrh package walks its 229,376 buckets one Python
call at a time; its mean alone takes seconds per histogram, and a report decodes hundreds.
Here the bucket array is read once as a numpy array. The conventions are hdrh's (percentile
value = the highest value equivalent to the bucket reached, target count rounded half up),
so the numbers match `HdrHistogram.get_value_at_percentile` exactly (tests check this).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

# The plugin's histogram range (loadtests/twinload/recorder.py): 1 µs .. 120 s, 4 digits.
LOWEST_US = 1
HIGHEST_US = 120_000_000
SIG_DIGITS = 4


@dataclass(frozen=True)
class Distribution:
    """Non-empty buckets of a histogram: highest equivalent value (µs) and count."""

    values_us: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def percentile_ms(self, q: float) -> float:
        """hdrh's get_value_at_percentile(q) / 1000; 0.0 for an empty histogram."""
        total = self.total
        if total == 0:
            return 0.0
        # The same arithmetic, in the same order, as hdrh (float rounding included).
        target = max(int(min(q, 100.0) * total / 100 + 0.5), 1)
        idx = int(np.searchsorted(np.cumsum(self.counts), target))
        return float(self.values_us[min(idx, self.values_us.size - 1)]) / 1000.0

    def mean_ms(self) -> float:
        total = self.total
        if total == 0:
            return 0.0
        return float((self.values_us * self.counts).sum() / total) / 1000.0

    def cdf_ms(self, limit: int = 160) -> tuple[tuple[float, float], ...]:
        """At most `limit` (latency ms, fraction ≤) points: dense in the tail, where it matters."""
        total = self.total
        if total == 0:
            return ()
        cum = np.cumsum(self.counts) / total
        # Fractions spaced evenly on a log scale of (1 - f): 0.1, 0.5, ..., 0.99, ..., 0.9999.
        wanted = 1.0 - np.logspace(0, -5, limit)
        idx = np.unique(np.minimum(np.searchsorted(cum, wanted), cum.size - 1))
        idx = np.unique(np.append(idx, cum.size - 1))
        return tuple(
            (float(v) / 1000.0, float(f))
            for v, f in zip(self.values_us[idx], cum[idx], strict=True)
        )


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIG_DIGITS)


def decode(b64: str) -> HdrHistogram:
    return HdrHistogram.decode(b64.encode("ascii"))


def _highest_equivalent(h: HdrHistogram, index: np.ndarray) -> np.ndarray:
    half_mag = h.sub_bucket_half_count_magnitude
    half = h.sub_bucket_half_count
    bucket = (index >> half_mag) - 1
    sub = (index & (half - 1)) + half
    low_bucket = bucket < 0
    sub = np.where(low_bucket, sub - half, sub)
    bucket = np.where(low_bucket, 0, bucket)
    lowest = sub << (bucket + h.unit_magnitude)
    return lowest + (np.int64(1) << (bucket + h.unit_magnitude)) - 1


def distribution(h: HdrHistogram) -> Distribution:
    counts = np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(np.int64)
    index = np.flatnonzero(counts)
    return Distribution(_highest_equivalent(h, index.astype(np.int64)), counts[index])


def merged(encoded: Iterable[str]) -> Distribution:
    """The exact merge of several stored histograms (e.g. a level's repeats)."""
    parts = [distribution(decode(e)) for e in encoded]
    if not parts:
        return Distribution(np.zeros(0, np.int64), np.zeros(0, np.int64))
    values = np.concatenate([p.values_us for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    uniq, inverse = np.unique(values, return_inverse=True)
    return Distribution(uniq, np.bincount(inverse, weights=counts).astype(np.int64))


def percentiles_ms(dist: Distribution, qs: Sequence[float]) -> tuple[float, ...]:
    return tuple(dist.percentile_ms(q) for q in qs)
