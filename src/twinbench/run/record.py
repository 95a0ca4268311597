"""One Locust output line + the sampler's readings → a cell's stored records. Pure.

Latency figures come from the merged HdrHistograms in the line (µs), never from Locust's
own whole-millisecond statistics. Resource figures come from `Resources`, which the runner
reads from the sampler over the same wall-clock window.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twinbench.analysis import histograms as hist
from twinbench.analysis.validity import CellVerdict
from twinbench.define.scenarios import Scenario, find_request
from twinbench.results.metrics import dynamic_unit
from twinbench.results.model import (
    CellConfig,
    CellResult,
    CellStatus,
    MetricRow,
    OpenLoad,
    RequestStats,
    Window,
)
from twinbench.results.store import CellHistograms


@dataclass(frozen=True)
class NamedCounts:
    count: int
    failures: int
    hist: str  # base64 HdrHistogram (µs)


@dataclass(frozen=True)
class Settle:
    """How long the phase waited for its target to answer promptly before users started."""

    waited_s: float
    settled: bool


@dataclass(frozen=True)
class PhaseLine:
    """The fields of a Locust output line that the runner uses (loadtests/README.md)."""

    phase_id: str
    window: Window
    loader_processes: int
    total: NamedCounts
    requests: Mapping[str, NamedCounts]
    open: OpenLoad | None
    gauges: Mapping[str, Mapping[str, float]]
    counters: Mapping[str, float]
    errors: Mapping[str, int]
    settle: Settle | None = None  # None: the phase did not wait for its target
    users_started: int | None = None  # running when the window opened (None: not reported)
    loader_counts: tuple[int, ...] = ()  # each reporting Locust process's completed requests


def _named(raw: Mapping[str, Any]) -> NamedCounts:
    return NamedCounts(int(raw["count"]), int(raw["failures"]), str(raw["hist"]))


def parse_line(raw: Mapping[str, Any]) -> PhaseLine:
    """Raises KeyError/TypeError/ValueError on a malformed line (the runner fails the cell)."""
    o = raw.get("open")
    return PhaseLine(
        phase_id=str(raw["phase_id"]),
        window=Window(
            int(raw["t_start_ns"]), int(raw["t_measure_start_ns"]), int(raw["t_measure_end_ns"])
        ),
        loader_processes=int(raw.get("loader_processes", 1)),
        total=_named(raw["total"]),
        requests={str(k): _named(v) for k, v in raw.get("requests", {}).items()},
        open=None
        if o is None
        else OpenLoad(int(o["intended"]), int(o["sent"]), int(o["late"]), int(o["dropped"])),
        gauges={str(k): dict(v) for k, v in raw.get("gauges", {}).items()},
        counters={str(k): float(v) for k, v in raw.get("counters", {}).items()},
        errors={str(k): int(v) for k, v in raw.get("errors", {}).items()},
        settle=None
        if raw.get("settle") is None
        else Settle(float(raw["settle"]["waited_s"]), bool(raw["settle"]["settled"])),
        users_started=None if raw.get("users_started") is None else int(raw["users_started"]),
        loader_counts=tuple(int(n) for n in raw.get("loader_counts", ())),
    )


@dataclass(frozen=True)
class Resources:
    """Sampler readings over the cell's measured window (None: not sampled)."""

    target_cpu_s: float | None
    target_cpus: int
    target_rss_max: int | None
    target_rss_before: int | None  # before the phase's warm-up: no connections yet
    loader_cpu_s: float | None
    loader_cpus_busy_s: float | None
    loader_cpus: int
    # Locust processes that generate load here (1, or the local workers): one gevent
    # process can use one CPU at most, so it is saturated at 100 % of one CPU even when
    # the loader set has more.
    loader_processes: int = 1
    # The most connections this server held in earlier phases, and its RSS peak then: memory
    # the allocator kept from them is reused, so only connections beyond them add RSS.
    held_before: float = 0.0
    rss_peak_before: int = 0


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _ratio(part: float | None, seconds: float, cpus: int) -> float | None:
    if part is None or seconds <= 0 or cpus <= 0:
        return None
    return part / (seconds * cpus)


def loader_utilisation(line: PhaseLine, res: Resources) -> tuple[float | None, float | None]:
    """(Locust's CPU over the CPUs it can use, the loader CPUs' busy share)."""
    s = line.window.measure_s
    usable = max(1, min(res.loader_cpus, res.loader_processes))
    return _ratio(res.loader_cpu_s, s, usable), _ratio(res.loader_cpus_busy_s, s, res.loader_cpus)


_NONE = NamedCounts(0, 0, "")


def main_request(line: PhaseLine, sc: Scenario) -> tuple[str, NamedCounts]:
    """The request per-request figures count: the scenario's main request (none counted when
    it is absent from the window), or "total" for scenarios without one."""
    if sc.main_request is None:
        return "total", line.total
    found = find_request(sc.main_request, line.requests)
    if found is not None:
        return found, line.requests[found]
    return sc.main_request, _NONE


MIN_NEW_SHARE = 0.1  # mem_per_connection: new connections as a share of those held

# Counters that are the unit of work of a streaming scenario, per second in the window.
_RATES = {
    "sse_events": "events_per_s",
    "ws_messages": "messages_per_s",
    "connects": "connects_per_s",
}
_RATES_BROADCAST = {"ws_received": "messages_per_s"}


def figures(line: PhaseLine, res: Resources, sc: Scenario) -> dict[tuple[str, str], float]:
    """(request, metric) → value for a measured cell."""
    out: dict[tuple[str, str], float] = {}
    secs = line.window.measure_s
    for name, nc in [("total", line.total), *sorted(line.requests.items())]:
        p = hist.percentiles_of(nc.hist)
        out[(name, "requests")] = nc.count
        out[(name, "failures")] = nc.failures
        out[(name, "error_rate")] = nc.failures / nc.count if nc.count else 0.0
        out[(name, "throughput")] = nc.count / secs if secs > 0 else 0.0
        if p.count:
            for metric, value in (
                ("latency_p50", p.p50_ms),
                ("latency_p90", p.p90_ms),
                ("latency_p99", p.p99_ms),
                ("latency_p999", p.p999_ms),
                ("latency_max", p.max_ms),
                ("latency_mean", p.mean_ms),
            ):
                out[(name, metric)] = value
            if secs > 0:
                # Little's law: mean requests in flight = completion rate × mean latency (of the
                # requests that have one: dropped sends have none).
                out[(name, "inflight")] = p.count / secs * p.mean_ms / 1000.0
    t = "total"
    _, main = main_request(line, sc)
    if res.target_cpu_s is not None:
        out[(t, "target_cpu")] = res.target_cpu_s
        util = _ratio(res.target_cpu_s, secs, res.target_cpus)
        if util is not None:
            out[(t, "target_cpu_util")] = util
        if main.count:
            out[(t, "cpu_per_request")] = res.target_cpu_s / main.count * 1e6
    if res.target_rss_max:
        out[(t, "target_rss_max")] = res.target_rss_max
    loader, busy = loader_utilisation(line, res)
    if loader is not None:
        out[(t, "loader_cpu_util")] = loader
    if busy is not None:
        out[(t, "loader_cpus_busy")] = busy
    if line.open is not None:
        out[(t, "open_intended")] = line.open.intended
        out[(t, "open_sent")] = line.open.sent
        out[(t, "open_late")] = line.open.late
        out[(t, "open_dropped")] = line.open.dropped
        if line.open.intended:
            out[(t, "send_rate_ratio")] = line.open.sent / line.open.intended
    for g, v in sorted(line.gauges.items()):
        out[(t, f"gauge_{g}_max")] = float(v.get("max", 0.0))
        out[(t, f"gauge_{g}_mean")] = float(v.get("mean", 0.0))
    rates = _RATES_BROADCAST if sc.main_request == "ws-broadcast delivery" else _RATES
    for c, n in sorted(line.counters.items()):
        out[(t, f"counter_{c}")] = n
        if c in rates and secs > 0:
            out[(t, rates[c])] = n / secs
    if line.settle is not None:
        out[(t, "settle_wait")] = line.settle.waited_s
    held = connections_held(line)
    new = held - res.held_before
    # Only when clearly more connections were open than ever before: a repeat that held a
    # couple more than the last would divide the RSS noise by 2.
    if (
        sc.connections
        and new >= MIN_NEW_SHARE * held
        and new > 0
        and res.target_rss_max
        and res.target_rss_before is not None
    ):
        # Marginal memory per connection beyond the most this server held before, over the
        # highest RSS it had reached (the allocator may have returned memory in between).
        base = max(res.target_rss_before, res.rss_peak_before)
        out[(t, "mem_per_connection")] = max(0, res.target_rss_max - base) / new
    return out


def connections_held(line: PhaseLine) -> float:
    """The most streams or connections open at once in the window (0 without a gauge)."""
    return max((float(v.get("max", 0.0)) for v in line.gauges.values()), default=0.0)


def metric_rows(
    run_id: str,
    cfg: CellConfig,
    status: CellStatus,
    reason: str,
    values: Mapping[tuple[str, str], float],
) -> list[MetricRow]:
    """The tidy rows; a cell that measured nothing still gets one `requests` row (empty)."""
    items: list[tuple[tuple[str, str], float | None]] = list(values.items()) or [
        (("total", "requests"), None)
    ]
    return [
        MetricRow(
            run_id=run_id,
            cell_id=cfg.cell_id,
            target=cfg.target,
            app=cfg.app,
            server=cfg.server,
            worker_model=cfg.worker_model,
            workers=cfg.workers,
            threads=cfg.threads,
            scenario=cfg.scenario,
            model=cfg.model.value,
            load_level=cfg.load_level,
            users=cfg.users,
            rate=cfg.rate,
            repeat=cfg.repeat,
            request=request,
            metric=metric,
            value=value,
            unit=dynamic_unit(metric),
            status=status.value,
            valid=status is CellStatus.OK,
            reason=reason,
        )
        for (request, metric), value in items
    ]


def measured_result(cfg: CellConfig, line: PhaseLine, verdict: CellVerdict) -> CellResult:
    reqs = [RequestStats("total", line.total.count, line.total.failures)]
    reqs += [RequestStats(n, c.count, c.failures) for n, c in sorted(line.requests.items())]
    return CellResult(
        cell_id=cfg.cell_id,
        config=cfg,
        status=verdict.status,
        reason=verdict.reason,
        reason_kind=verdict.kind,
        stderr_tail="",
        window=line.window,
        loader_processes=line.loader_processes,
        # one process: its count is the total, nothing to split
        loader_counts=line.loader_counts if len(line.loader_counts) > 1 else (),
        requests=tuple(reqs),
        open=line.open,
        errors=dict(line.errors),
        finished_utc=utc_now(),
    )


def unmeasured_result(cfg: CellConfig, verdict: CellVerdict, stderr_tail: str = "") -> CellResult:
    return CellResult(
        cell_id=cfg.cell_id,
        config=cfg,
        status=verdict.status,
        reason=verdict.reason,
        reason_kind=verdict.kind,
        stderr_tail=stderr_tail,
        window=None,
        loader_processes=0,
        requests=(),
        open=None,
        errors={},
        finished_utc=utc_now(),
    )


def histograms(line: PhaseLine) -> CellHistograms:
    return CellHistograms(
        line.phase_id, line.total.hist, {n: c.hist for n, c in sorted(line.requests.items())}
    )
