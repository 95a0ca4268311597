"""Per-phase recording: HdrHistograms in microseconds, counts, failures, errors, gauges, counters.

Why HdrHistogram: Locust's own stats round response times to whole milliseconds and keep
bucketed percentiles; twinbench compares frameworks whose medians differ by tens of
microseconds, so every sample goes into a 4-significant-digit histogram (resolution <= 10 µs
below 100 ms) that can also be merged exactly across processes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000  # 120 s
SIG_DIGITS = 4
MAX_ERROR_KEY = 300  # error strings can embed whole response bodies; keep keys bounded


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIG_DIGITS)


def encode_hist(hist: HdrHistogram) -> str:
    # HdrHistogram.encode() already returns base64 text (of the zlib'd V2 encoding) as bytes.
    raw = hist.encode()
    return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)


def decode_hist(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii"))


def ms_to_us(ms: float) -> int:
    """Float milliseconds (Locust's response_time) to an in-range integer of microseconds."""
    return min(HIGHEST_US, max(LOWEST_US, round(ms * 1000.0)))


@dataclass
class NameStats:
    hist: HdrHistogram = field(default_factory=new_histogram)
    count: int = 0
    failures: int = 0

    def record(self, us: int | None, failed: bool) -> None:
        self.count += 1
        if failed:
            self.failures += 1
        if us is not None:
            self.hist.record_value(us)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "failures": self.failures, "hist": encode_hist(self.hist)}


@dataclass
class GaugeStats:
    samples: int = 0
    total: float = 0.0
    max: int = 0

    def sample(self, value: int) -> None:
        self.samples += 1
        self.total += value
        self.max = max(self.max, value)

    def to_dict(self) -> dict[str, Any]:
        return {"max": self.max, "mean": self.total / self.samples if self.samples else 0.0}


@dataclass
class OpenStats:
    intended: int = 0
    sent: int = 0
    late: int = 0
    dropped: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "intended": self.intended,
            "sent": self.sent,
            "late": self.late,
            "dropped": self.dropped,
        }


class PhaseRecorder:
    """Everything one process records for one measured window."""

    def __init__(self, open_model: bool, gauges: list[str], counters: list[str]) -> None:
        self.requests: dict[str, NameStats] = {}
        self.total = NameStats()
        self.errors: Counter[str] = Counter()
        self.gauges: dict[str, GaugeStats] = {g: GaugeStats() for g in gauges}
        self.counters: Counter[str] = Counter({c: 0 for c in counters})
        self.open: OpenStats | None = OpenStats() if open_model else None

    def record(self, key: str, ms: float | None, error: object | None) -> None:
        """One request. `ms` None means it never got a latency (e.g. dropped by the open model)."""
        us = None if ms is None else ms_to_us(ms)
        failed = error is not None
        stats = self.requests.get(key)
        if stats is None:
            stats = self.requests[key] = NameStats()
        stats.record(us, failed)
        self.total.record(us, failed)
        if failed:
            self.errors[f"{key}: {error!r}"[:MAX_ERROR_KEY]] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": {k: v.to_dict() for k, v in sorted(self.requests.items())},
            "total": self.total.to_dict(),
            "open": self.open.to_dict() if self.open else None,
            "gauges": {k: v.to_dict() for k, v in sorted(self.gauges.items())},
            "counters": dict(sorted(self.counters.items())),
            "errors": dict(self.errors.most_common()),
        }


def _merge_named(parts: list[dict[str, Any]]) -> dict[str, Any]:
    hist = new_histogram()
    count = failures = 0
    for p in parts:
        count += p["count"]
        failures += p["failures"]
        hist.add(decode_hist(p["hist"]))
    return {"count": count, "failures": failures, "hist": encode_hist(hist)}


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge PhaseRecorder.to_dict() outputs of several processes into one.

    Histograms are added exactly; counts, failures, errors, counters and open-model numbers
    are summed. Gauges are per-process samples, so the merged `max` and `mean` are the sums of
    the per-process values (for `max` an upper bound of the true simultaneous maximum: the
    processes' peaks need not coincide).
    """
    names = sorted({n for r in reports for n in r["requests"]})
    requests = {
        n: _merge_named([r["requests"][n] for r in reports if n in r["requests"]]) for n in names
    }
    total = _merge_named([r["total"] for r in reports]) if reports else NameStats().to_dict()
    errors: Counter[str] = Counter()
    counters: Counter[str] = Counter()
    gauges: dict[str, dict[str, float]] = {}
    open_: dict[str, int] | None = None
    for r in reports:
        errors.update(r["errors"])
        counters.update(r["counters"])
        for g, v in r["gauges"].items():
            acc = gauges.setdefault(g, {"max": 0, "mean": 0.0})
            acc["max"] += v["max"]
            acc["mean"] += v["mean"]
        if r["open"] is not None:
            base = open_ or dict.fromkeys(r["open"], 0)
            open_ = {k: base[k] + r["open"][k] for k in base}
    return {
        "requests": requests,
        "total": total,
        "open": open_,
        "gauges": dict(sorted(gauges.items())),
        "counters": dict(sorted(counters.items())),
        "errors": dict(errors.most_common()),
    }


def hist_from_line(entry: dict[str, Any]) -> HdrHistogram:
    """Decode the `hist` of a `requests[...]` or `total` entry of an output line."""
    return decode_hist(entry["hist"])


__all__ = [
    "PhaseRecorder",
    "decode_hist",
    "encode_hist",
    "hist_from_line",
    "merge",
    "ms_to_us",
    "new_histogram",
]
