"""Phase line → cell records: percentiles from the histograms, resource figures, tidy rows."""

from __future__ import annotations

import dataclasses

from runner_factories import cell_config

from twinbench.analysis import histograms as hist
from twinbench.define import scenarios
from twinbench.results.model import CellStatus
from twinbench.run.record import (
    Resources,
    figures,
    histograms,
    loader_utilisation,
    metric_rows,
    parse_line,
)


def _line(values_us: list[int]) -> dict:
    h = hist.new()
    for v in values_us:
        h.record_value(v)
    enc = hist.encode(h)
    return {
        "schema": 1,
        "phase_id": "json.fastapi-uvicorn.l1.r1",
        "t_start_ns": 0,
        "t_measure_start_ns": 1_000_000_000,
        "t_measure_end_ns": 3_000_000_000,
        "loader_processes": 1,
        "requests": {"/json": {"count": len(values_us), "failures": 1, "hist": enc}},
        "total": {"count": len(values_us), "failures": 1, "hist": enc},
        "open": None,
        "gauges": {"streams_held": {"max": 10, "mean": 9.5}},
        "counters": {"sse_events": 40},
        "errors": {"/json: boom": 1},
    }


RES = Resources(
    target_cpu_s=0.5,
    target_cpus=1,
    target_rss_max=60_000_000,
    target_rss_before=50_000_000,
    loader_cpu_s=1.0,
    loader_cpus_busy_s=1.2,
    loader_cpus=1,
)


SSE = scenarios.get("sse")
JSON = scenarios.get("json")


def test_figures() -> None:
    line = parse_line(_line([1000] * 50 + [2000] * 50))
    f = figures(line, RES, SSE)
    assert f[("total", "requests")] == 100
    assert f[("total", "throughput")] == 50.0  # 100 requests in a 2 s window
    assert f[("total", "latency_p50")] == 1.0
    assert f[("/json", "latency_max")] == 2.0
    # no "sse first-event" in this window: no per-stream figure, rather than a per-record one
    assert ("total", "cpu_per_request") not in f
    assert figures(line, RES, JSON)[("total", "cpu_per_request")] == 5000.0  # 0.5 s / 100
    assert f[("total", "target_cpu_util")] == 0.25
    assert f[("total", "loader_cpu_util")] == 0.5
    assert f[("total", "loader_cpus_busy")] == 0.6
    assert f[("total", "mem_per_connection")] == 1_000_000  # 10 MB over 10 streams
    assert f[("total", "counter_sse_events")] == 40
    assert f[("total", "events_per_s")] == 20.0  # 40 events in 2 s
    assert f[("total", "gauge_streams_held_max")] == 10
    # Little's law: 50 requests/s × 1.5 ms mean = 0.075 in flight
    assert abs(f[("/json", "inflight")] - 0.075) < 1e-3


def test_per_request_figures_count_the_main_request_only() -> None:
    raw = _line([1000] * 100)
    raw["requests"]["SSE sse first-event"] = {
        "count": 10,
        "failures": 0,
        "hist": raw["total"]["hist"],
    }
    line = parse_line(raw)
    # 0.5 s of target CPU over 10 streams, not over the 100 records of every kind
    assert figures(line, RES, SSE)[("total", "cpu_per_request")] == 50_000.0
    assert figures(line, RES, JSON)[("total", "cpu_per_request")] == 5000.0


def test_memory_per_connection_counts_only_connections_beyond_earlier_phases() -> None:
    line = parse_line(_line([1000]))
    # the server held 6 streams before: the 10 MB of growth belongs to 4 new ones
    f = figures(line, dataclasses.replace(RES, held_before=6.0), SSE)
    assert f[("total", "mem_per_connection")] == 2_500_000
    # no more connections than before: the allocator reuses memory, nothing to attribute
    assert ("total", "mem_per_connection") not in figures(
        line, dataclasses.replace(RES, held_before=10.0), SSE
    )
    assert ("total", "mem_per_connection") not in figures(line, RES, JSON)


def test_one_locust_process_is_saturated_at_one_cpu() -> None:
    line = parse_line(_line([1000]))
    two = dataclasses.replace(RES, loader_cpu_s=1.9, loader_cpus=2, loader_cpus_busy_s=2.0)
    # 1.9 CPU-s in a 2 s window: one gevent process at 95 % of the only CPU it can use
    assert loader_utilisation(line, two)[0] == 0.95
    assert loader_utilisation(line, dataclasses.replace(two, loader_processes=2))[0] == 0.475


def test_rows_and_unmeasured_row() -> None:
    cfg = cell_config()
    line = parse_line(_line([1000]))
    rows = metric_rows("r", cfg, CellStatus.OK, "", figures(line, RES, JSON))
    units = {r.metric: r.unit for r in rows}
    assert units["latency_p99"] == "ms" and units["gauge_streams_held_max"] == "count"
    assert all(r.valid for r in rows)
    (empty,) = metric_rows("r", cfg, CellStatus.UNSUPPORTED, "why", {})
    assert empty.metric == "requests" and empty.value is None and not empty.valid
    assert histograms(line).requests["/json"] == line.total.hist


def test_memory_baseline_is_the_highest_rss_reached_before() -> None:
    line = parse_line(_line([1000]))
    # 60 MB now, 50 MB before the phase, but 58 MB at the earlier peak: 2 MB for 4 new
    res = dataclasses.replace(RES, held_before=6.0, rss_peak_before=58_000_000)
    assert figures(line, res, SSE)[("total", "mem_per_connection")] == 500_000
    # one more connection than before (of 10): too few to attribute the RSS change to
    res = dataclasses.replace(RES, held_before=9.5)
    assert ("total", "mem_per_connection") not in figures(line, res, SSE)


def test_loader_counts_are_kept_per_worker() -> None:
    from twinbench.analysis.validity import OK
    from twinbench.run.record import measured_result

    raw = {**_line([1000] * 10), "loader_processes": 2, "loader_counts": [6, 4]}
    line = parse_line(raw)
    assert line.loader_counts == (6, 4)
    cfg = cell_config()
    assert measured_result(cfg, line, OK).loader_counts == (6, 4)
    one = parse_line({**_line([1000] * 10), "loader_counts": [10]})
    assert measured_result(cfg, one, OK).loader_counts == ()  # one process: nothing to split
