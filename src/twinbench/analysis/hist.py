"""HdrHistograms from the Locust plugin: decode, merge, percentiles. Pure.

Values are microseconds with 4 significant digits (exact below 32.768 ms, within 0.05 %
above), so the percentiles here keep sub-millisecond resolution that Locust's own whole-ms
statistics throw away. Merging adds counts bucket by bucket, which is exact: percentiles of
merged repeats are the percentiles of all their requests, not an average of percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

# The plugin's histogram range (loadtests/twinload/recorder.py): 1 µs .. 120 s, 4 digits.
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


def merge(encoded: Iterable[str]) -> HdrHistogram:
    out = new()
    for text in encoded:
        out.add(decode(text))
    return out


@dataclass(frozen=True)
class Percentiles:
    """Latency summary in milliseconds (floats: µs resolution). Zeros when count is 0."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float


def _recorded(hist: HdrHistogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, highest equivalent value, midpoint value) of every non-empty bucket, in order.

    The same bucket arithmetic as hdrh's `get_value_from_index`, vectorised: hdrh's own
    iterators walk ~230,000 buckets in Python (about a second per histogram), which the
    runner cannot afford between cells on the loader CPU.
    """
    counts = np.ctypeslib.as_array(hist.counts)[: hist.counts_len].astype(np.int64)
    idx = np.nonzero(counts)[0]
    half = hist.sub_bucket_half_count
    bucket = (idx >> hist.sub_bucket_half_count_magnitude) - 1
    sub = (idx & (half - 1)) + half
    low = bucket < 0
    sub = np.where(low, sub - half, sub)
    bucket = np.where(low, 0, bucket)
    shift = bucket + hist.unit_magnitude
    lowest = sub.astype(np.int64) << shift
    size = np.int64(1) << shift
    return counts[idx], lowest + size - 1, lowest + (size >> 1)


def percentiles(hist: HdrHistogram) -> Percentiles:
    count = int(hist.get_total_count())
    if count == 0:
        return Percentiles(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    counts, highest, middle = _recorded(hist)
    cumulative = np.cumsum(counts)
    # hdrh's rule: the first bucket whose cumulative count reaches round(p% of the total),
    # reported as the highest value equivalent to it (never optimistic).
    values = {}
    for p in PERCENTILES:
        target = max(int(p * count / 100 + 0.5), 1)
        values[p] = int(highest[int(np.searchsorted(cumulative, target))])
    return Percentiles(
        count=count,
        p50_ms=values[50.0] / 1000.0,
        p90_ms=values[90.0] / 1000.0,
        p99_ms=values[99.0] / 1000.0,
        p999_ms=values[99.9] / 1000.0,
        max_ms=hist.get_max_value() / 1000.0,
        mean_ms=float((counts * middle).sum()) / count / 1000.0,
    )


def percentiles_of(b64: str) -> Percentiles:
    return percentiles(decode(b64))
