"""One vocabulary of metrics: every name the runner writes is a Metric (or a locustfile's
gauge/counter), claims' words are aliases of the same metrics, units and directions known."""

from __future__ import annotations

import pytest
from runner_factories import cell_config

from twinbench.analysis import histograms
from twinbench.define import scenarios
from twinbench.results.metrics import HEADLINE, Better, Metric, dynamic_unit
from twinbench.run import record


def _line(scenario: str) -> record.PhaseLine:
    h = histograms.new()
    for v in (900, 1_100, 25_000):
        h.record_value(v)
    enc = histograms.encode(h)
    named = record.NamedCounts(3, 1, enc)
    return record.PhaseLine(
        phase_id="c1",
        window=record.Window(0, 1_000_000_000, 3_000_000_000),
        loader_processes=1,
        total=named,
        requests={"GET /json": named, "WS ws-echo rtt": named},
        open=record.OpenLoad(10, 9, 1, 1),
        gauges={"connections_held": {"max": 8.0, "mean": 7.5}},
        counters={"ws_messages": 30.0, "sse_events": 5.0},
        errors={},
        settle=record.Settle(0.1, True),
    )


@pytest.mark.parametrize("scenario", ["json", "ws_echo", "sse", "ws_broadcast"])
def test_every_figure_the_runner_writes_is_a_known_metric(scenario: str) -> None:
    res = record.Resources(
        target_cpu_s=0.5, target_cpus=1, target_rss_max=60_000_000, target_rss_before=50_000_000,
        loader_cpu_s=0.2, loader_cpus_busy_s=0.3, loader_cpus=1,
    )  # fmt: skip
    figures = record.figures(_line(scenario), res, scenarios.get(scenario))
    assert figures
    for _, name in figures:
        if name.startswith(("gauge_", "counter_")):
            continue
        metric = Metric(name)  # raises for a name outside the vocabulary
        assert metric.info.stored, name
    rows = record.metric_rows("r", cell_config(), record.CellStatus.OK, "", figures)
    assert all(r.unit for r in rows), [r.metric for r in rows if not r.unit]


def test_claims_words_are_aliases() -> None:
    assert Metric.parse("p99") is Metric.LATENCY_P99
    assert Metric.parse("p99.9") is Metric.LATENCY_P999
    assert Metric.parse("cpu") is Metric.CPU_PER_REQUEST
    assert Metric.parse("cpu_per_request") is Metric.CPU_PER_REQUEST
    assert Metric.parse("memory") is Metric.TARGET_RSS_MAX
    assert Metric.parse("throughput") is Metric.THROUGHPUT
    with pytest.raises(ValueError, match="'p42' is not one of"):
        Metric.parse("p42")


def test_units_directions_and_labels() -> None:
    assert [m.label for m in HEADLINE] == ["throughput", "p50", "p99", "CPU", "memory"]
    assert [m.shown_unit for m in HEADLINE] == ["req/s", "ms", "ms", "µs/req", "MB"]
    assert Metric.THROUGHPUT.better is Better.HIGHER and Metric.THROUGHPUT.higher_is_better
    assert Metric.LATENCY_P99.better is Better.LOWER
    assert Metric.TARGET_RSS_MAX.scale == 1e6 and Metric.TARGET_RSS_MAX.unit == "bytes"
    assert Metric.LATENCY_P95.quantile == 95.0 and Metric.THROUGHPUT.quantile is None
    assert Metric.THROUGHPUT.per_request and not Metric.CPU_PER_REQUEST.per_request
    assert not Metric.CAPACITY.info.stored


def test_every_metric_has_its_facts() -> None:
    for m in Metric:
        assert m.info.label and m.info.better in Better


def test_dynamic_units() -> None:
    assert dynamic_unit("gauge_streams_held_max") == "count"
    assert dynamic_unit("counter_reconnects") == "count"
    assert dynamic_unit("latency_p99") == "ms"
    assert dynamic_unit("something_new") == ""  # kept, never refused
