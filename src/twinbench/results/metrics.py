"""Every figure twinbench measures or derives, with its unit and which way is better. Pure.

One vocabulary: the name in metrics.csv is the enum's value; the report's tables, a
scenario's figure of merit, a claim's metric and the gate's metrics all name a `Metric`.
A claim may say `p99` or `cpu` (the migration plans' words): `Metric.parse` takes those as
aliases, so the claims ledger reads as the plans do without a second vocabulary.

Two more kinds of name are not here because they are open-ended: a locustfile's gauges and
counters are stored as `gauge_<name>_max`, `gauge_<name>_mean` and `counter_<name>`
(`dynamic_unit`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Decimal megabytes, the unit the migration plans write ("150 MB → 120 MB").
MB = 1e6


class Better(enum.Enum):
    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"  # counts and diagnostics: no direction is an improvement


@dataclass(frozen=True)
class MetricInfo:
    unit: str  # as stored in metrics.csv
    better: Better
    label: str  # in tables and claims: "p99", "CPU", "throughput"
    shown_unit: str  # as shown: "req/s", "ms", "µs/req", "MB"
    scale: float = 1.0  # stored value / scale = shown value
    stored: bool = True  # False: derived by the analysis, never a metrics.csv row


class Metric(enum.Enum):
    REQUESTS = "requests"
    FAILURES = "failures"
    ERROR_RATE = "error_rate"
    THROUGHPUT = "throughput"
    LATENCY_P50 = "latency_p50"
    LATENCY_P90 = "latency_p90"
    LATENCY_P95 = "latency_p95"  # from the histograms when a claim needs it
    LATENCY_P99 = "latency_p99"
    LATENCY_P999 = "latency_p999"
    LATENCY_MAX = "latency_max"
    LATENCY_MEAN = "latency_mean"
    TARGET_CPU = "target_cpu"
    TARGET_CPU_UTIL = "target_cpu_util"
    CPU_PER_REQUEST = "cpu_per_request"
    TARGET_RSS_MAX = "target_rss_max"
    MEM_PER_CONNECTION = "mem_per_connection"
    LOADER_CPU_UTIL = "loader_cpu_util"
    LOADER_CPUS_BUSY = "loader_cpus_busy"
    OPEN_INTENDED = "open_intended"
    OPEN_SENT = "open_sent"
    OPEN_LATE = "open_late"
    OPEN_DROPPED = "open_dropped"
    SEND_RATE_RATIO = "send_rate_ratio"
    # Requests in flight (Little's law: completions/s × mean latency): the slow upstream's
    # figure of merit, read at the highest level within the SLO.
    INFLIGHT = "inflight"
    SETTLE_WAIT = "settle_wait"
    EVENTS_PER_S = "events_per_s"
    MESSAGES_PER_S = "messages_per_s"
    CONNECTS_PER_S = "connects_per_s"
    # The highest load level of a ladder within the SLO, in the scenario's figure (users,
    # req/s, or requests in flight): derived from complete.json's capacities.
    CAPACITY = "capacity"

    @property
    def info(self) -> MetricInfo:
        return _INFO[self]

    @property
    def unit(self) -> str:
        return self.info.unit

    @property
    def better(self) -> Better:
        return self.info.better

    @property
    def higher_is_better(self) -> bool:
        return self.info.better is Better.HIGHER

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def shown_unit(self) -> str:
        return self.info.shown_unit

    @property
    def scale(self) -> float:
        return self.info.scale

    @property
    def quantile(self) -> float | None:
        """The latency percentile in percent (50.0 for p50), None for other metrics."""
        return _QUANTILES.get(self)

    @property
    def per_request(self) -> bool:
        """Counted per Locust request name (throughput, latency); the rest are process-wide
        figures that exist only for "total" (CPU, memory, the load generator's)."""
        return self in _PER_REQUEST

    @classmethod
    def parse(cls, name: str) -> Metric:
        """A metrics.csv name or a claim's word (`p99`, `cpu`, `memory`); ValueError names
        the accepted ones."""
        found = _ALIASES.get(name)
        if found is not None:
            return found
        try:
            return cls(name)
        except ValueError:
            known = ", ".join([*_ALIASES, *(m.value for m in cls)])
            raise ValueError(f"{name!r} is not one of {known}") from None


_H, _L, _N = Better.HIGHER, Better.LOWER, Better.NEITHER
_INFO: dict[Metric, MetricInfo] = {
    Metric.REQUESTS: MetricInfo("count", _N, "requests", "requests"),
    Metric.FAILURES: MetricInfo("count", _L, "failures", "failures"),
    Metric.ERROR_RATE: MetricInfo("ratio", _L, "error rate", ""),
    Metric.THROUGHPUT: MetricInfo("rps", _H, "throughput", "req/s"),
    Metric.LATENCY_P50: MetricInfo("ms", _L, "p50", "ms"),
    Metric.LATENCY_P90: MetricInfo("ms", _L, "p90", "ms"),
    Metric.LATENCY_P95: MetricInfo("ms", _L, "p95", "ms", stored=False),
    Metric.LATENCY_P99: MetricInfo("ms", _L, "p99", "ms"),
    Metric.LATENCY_P999: MetricInfo("ms", _L, "p99.9", "ms"),
    Metric.LATENCY_MAX: MetricInfo("ms", _L, "max", "ms"),
    Metric.LATENCY_MEAN: MetricInfo("ms", _L, "mean", "ms"),
    Metric.TARGET_CPU: MetricInfo("s", _N, "target CPU", "s"),
    Metric.TARGET_CPU_UTIL: MetricInfo("ratio", _N, "target CPU use", ""),
    Metric.CPU_PER_REQUEST: MetricInfo("us", _L, "CPU", "µs/req"),
    Metric.TARGET_RSS_MAX: MetricInfo("bytes", _L, "memory", "MB", scale=MB),
    Metric.MEM_PER_CONNECTION: MetricInfo("bytes", _L, "memory per connection", "bytes"),
    Metric.LOADER_CPU_UTIL: MetricInfo("ratio", _N, "Locust CPU use", ""),
    Metric.LOADER_CPUS_BUSY: MetricInfo("ratio", _N, "loader CPUs busy", ""),
    Metric.OPEN_INTENDED: MetricInfo("count", _N, "sends intended", ""),
    Metric.OPEN_SENT: MetricInfo("count", _N, "sends", ""),
    Metric.OPEN_LATE: MetricInfo("count", _N, "late sends", ""),
    Metric.OPEN_DROPPED: MetricInfo("count", _N, "dropped sends", ""),
    Metric.SEND_RATE_RATIO: MetricInfo("ratio", _N, "sent / intended", ""),
    Metric.INFLIGHT: MetricInfo("count", _H, "in flight", "in flight"),
    Metric.SETTLE_WAIT: MetricInfo("s", _N, "settle wait", "s"),
    Metric.EVENTS_PER_S: MetricInfo("rps", _H, "events/s", "events/s"),
    Metric.MESSAGES_PER_S: MetricInfo("rps", _H, "messages/s", "messages/s"),
    Metric.CONNECTS_PER_S: MetricInfo("rps", _H, "connects/s", "connects/s"),
    Metric.CAPACITY: MetricInfo("", _H, "capacity", "capacity", stored=False),
}
_QUANTILES = {
    Metric.LATENCY_P50: 50.0,
    Metric.LATENCY_P90: 90.0,
    Metric.LATENCY_P95: 95.0,
    Metric.LATENCY_P99: 99.0,
    Metric.LATENCY_P999: 99.9,
}
_PER_REQUEST = frozenset(
    {
        Metric.REQUESTS,
        Metric.FAILURES,
        Metric.ERROR_RATE,
        Metric.THROUGHPUT,
        *_QUANTILES,
        Metric.LATENCY_MAX,
        Metric.LATENCY_MEAN,
    }
)
# The migration plans' words, as the claims ledger and a team's twinbench.toml use them.
_ALIASES = {
    "p50": Metric.LATENCY_P50,
    "p90": Metric.LATENCY_P90,
    "p95": Metric.LATENCY_P95,
    "p99": Metric.LATENCY_P99,
    "p99.9": Metric.LATENCY_P999,
    "cpu": Metric.CPU_PER_REQUEST,
    "memory": Metric.TARGET_RSS_MAX,
}

# The columns of the report's headline and of run-to-run deltas, in order.
HEADLINE: tuple[Metric, ...] = (
    Metric.THROUGHPUT,
    Metric.LATENCY_P50,
    Metric.LATENCY_P99,
    Metric.CPU_PER_REQUEST,
    Metric.TARGET_RSS_MAX,
)


def dynamic_unit(name: str) -> str:
    """The unit of a stored metric name: a Metric's, "count" for a locustfile's gauges and
    counters, "" for a name this version does not know (kept, never refused)."""
    if name.startswith(("gauge_", "counter_")):
        return "count"
    try:
        return Metric(name).unit
    except ValueError:
        return ""
