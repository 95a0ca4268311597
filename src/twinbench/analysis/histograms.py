"""The latency histograms: decode, merge, percentiles, mean and CDF. Pure.

Every latency twinbench reports comes from the HdrHistograms the Locust plugin records
(loadtests/twinload/recorder.py): microseconds, 1 µs .. 120 s, 4 significant digits, so
exact below 32.768 ms and within 0.05 % above. Locust's own statistics are whole
milliseconds; these keep sub-millisecond resolution.

Conventions are hdrh's, so figures match `HdrHistogram.get_value_at_percentile` and
`get_mean_value` exactly (tests check it): a percentile is the *highest* value equivalent to
the bucket that reaches round-half-up(q % of the count), never optimistic; the mean weights
each bucket's *middle* value. What is not hdrh's is the speed: hdrh walks its ~230,000
buckets one Python call at a time (about a second per histogram; the runner computes figures
between cells on the loader CPU and a report decodes hundreds), so the bucket array is read
here once, as numpy arrays.

Merging adds counts bucket by bucket, which is exact: the percentiles of merged repeats are
those of all their requests, not an average of percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000
SIG_DIGITS = 4
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIG_DIGITS)


def decode(b64: str) -> HdrHistogram:
    return HdrHistogram.decode(b64.encode("ascii"))


def encode(hist: HdrHistogram) -> str:
    raw = hist.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class Percentiles:
    """A latency summary in milliseconds (floats: µs resolution). Zeros when count is 0."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float


@dataclass(frozen=True)
class Distribution:
    """The non-empty buckets of a histogram, in order: highest equivalent value (µs), middle
    value (µs) and count."""

    values_us: np.ndarray
    middles_us: np.ndarray
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
        """hdrh's get_mean_value() / 1000: each bucket counted at its middle value."""
        total = self.total
        if total == 0:
            return 0.0
        return float((self.middles_us * self.counts).sum()) / total / 1000.0

    def max_ms(self) -> float:
        """hdrh's get_max_value() / 1000: the highest value equivalent to the largest one."""
        return float(self.values_us[-1]) / 1000.0 if self.values_us.size else 0.0

    def summary(self) -> Percentiles:
        if self.total == 0:
            return Percentiles(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        p50, p90, p99, p999 = (self.percentile_ms(q) for q in PERCENTILES)
        return Percentiles(self.total, p50, p90, p99, p999, self.max_ms(), self.mean_ms())

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


_EMPTY = np.zeros(0, np.int64)


def distribution(h: HdrHistogram) -> Distribution:
    """The buckets of one histogram, with the same bucket arithmetic as hdrh's
    `get_value_from_index`, vectorised."""
    counts = np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(np.int64)
    index = np.flatnonzero(counts).astype(np.int64)
    half = h.sub_bucket_half_count
    bucket = (index >> h.sub_bucket_half_count_magnitude) - 1
    sub = (index & (half - 1)) + half
    low_bucket = bucket < 0
    sub = np.where(low_bucket, sub - half, sub)
    bucket = np.where(low_bucket, 0, bucket)
    shift = bucket + h.unit_magnitude
    lowest = sub << shift
    size = np.int64(1) << shift
    return Distribution(lowest + size - 1, lowest + (size >> 1), counts[index])


def merged(encoded: Iterable[str]) -> Distribution:
    """The exact merge of several stored histograms (e.g. a level's repeats)."""
    parts = [distribution(decode(e)) for e in encoded]
    if not parts:
        return Distribution(_EMPTY, _EMPTY, _EMPTY)
    if len(parts) == 1:
        return parts[0]
    values = np.concatenate([p.values_us for p in parts])
    middles = np.concatenate([p.middles_us for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    return Distribution(uniq, middles[first], np.bincount(inverse, weights=counts).astype(np.int64))


def percentiles_of(b64: str) -> Percentiles:
    """The summary of one stored histogram (what the runner writes to metrics.csv)."""
    return distribution(decode(b64)).summary()


def percentiles_ms(dist: Distribution, qs: Sequence[float]) -> tuple[float, ...]:
    return tuple(dist.percentile_ms(q) for q in qs)
