"""The report's charts for one run, scenario by scenario: data → twinbench.charts SVG. Pure.

Latency charts come from the raw histograms (`RunResults.histograms`: cell id → request name
→ base64 HdrHistogram, "total" included), merged exactly over a level's valid repeats.
Levels with no valid repeat are drawn grey from whatever they measured, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import charts, latency
from .charts import Bar, Series
from .headline import MB, RunIndex, load_of
from .registry import App
from .results import CellResult, Driver, RunResults

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: str


@dataclass(frozen=True)
class ScenarioCharts:
    scenario: str
    charts: tuple[Chart, ...]


def _hist_of(results: RunResults, cell: CellResult, request: str) -> str | None:
    hists = results.histograms.get(cell.cell_id, {})
    if request in hists:
        return hists[request]
    return None


def _merged(results: RunResults, cells: Sequence[CellResult], request: str) -> latency.Distribution:
    encoded = [h for c in cells if (h := _hist_of(results, c, request)) is not None]
    return latency.merged(encoded)


def _is_flask(index: RunIndex, target: str) -> bool:
    return index.app_of(target) is App.FLASK


def _x_label(index: RunIndex, scenario: str) -> str:
    cells = [c for (s, _), cs in index.cells.items() if s == scenario for c in cs]
    open_model = any(c.config.driver is Driver.OPEN for c in cells)
    return "offered load (req/s)" if open_model else "concurrent users"


ValueOf = Callable[[Sequence[CellResult]], float | None]


def _load_series(index: RunIndex, scenario: str, value_of: ValueOf) -> list[Series]:
    """One series per target: y = value_of(valid cells) or, grey, value_of(measured cells)."""
    out = []
    for target in index.targets_of(scenario):
        points: list[tuple[float, float]] = []
        invalid: list[tuple[float, float]] = []
        for cells in index.per_level(scenario, target).values():
            valid = [c for c in cells if c.valid]
            use = valid or [c for c in cells if c.window is not None]
            y = value_of(use) if use else None
            if y is None:
                continue
            (points if valid else invalid).append((load_of(cells[0]), float(y)))
        out.append(Series(target, tuple(points), _is_flask(index, target), tuple(invalid)))
    return out


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def throughput_chart(index: RunIndex, scenario: str) -> Chart:
    request = index.request_for(scenario)

    def tput(cells: Sequence[CellResult]) -> float | None:
        vals = [v for c in cells if (v := index.value(c, "throughput", request)) is not None]
        return _mean(vals)

    series = _load_series(index, scenario, tput)
    title = f"{scenario}: throughput against load"
    svg = charts.line_chart(
        f"{scenario}-throughput", title, _x_label(index, scenario), "req/s", series
    )
    return Chart(f"{scenario}-throughput", title, svg)


def percentile_chart(index: RunIndex, scenario: str) -> Chart:
    request = index.request_for(scenario)
    panels = []
    for name, q in PERCENTILES:

        def pct(cells: Sequence[CellResult], q: float = q) -> float | None:
            dist = _merged(index.results, cells, request)
            return dist.percentile_ms(q) if dist.total else None

        panels.append((name, _load_series(index, scenario, pct)))
    title = f"{scenario}: latency percentiles against load ({request})"
    svg = charts.percentile_chart(
        f"{scenario}-percentiles", title, _x_label(index, scenario), panels
    )
    return Chart(f"{scenario}-percentiles", title, svg)


def _top_valid_cells(index: RunIndex, scenario: str, target: str) -> list[CellResult]:
    levels = index.valid_levels(scenario, target)
    if not levels:
        return []
    return [c for c in index.per_level(scenario, target)[levels[-1]] if c.valid]


def cdf_chart(index: RunIndex, scenario: str, request_suffix: str | None = None) -> Chart | None:
    """CDF per target at its highest valid load level; None if no histogram matches."""
    series = []
    omitted = []
    for target in index.targets_of(scenario):
        cells = _top_valid_cells(index, scenario, target)
        request = index.request_for(scenario) if request_suffix is None else None
        if request is None and cells:
            names = index.results.histograms.get(cells[0].cell_id, {})
            request = next((n for n in names if n.endswith(request_suffix or "")), None)
        if not cells or request is None:
            omitted.append(target)
            continue
        dist = _merged(index.results, cells, request)
        if dist.total:
            label = f"{target} @ {load_of(cells[0]):g}"
            series.append(Series(label, dist.cdf_ms(), _is_flask(index, target)))
    if not series:
        return None
    what = request_suffix or index.request_for(scenario)
    chart_id = f"{scenario}-cdf-{what}".replace(" ", "-").replace("/", "")
    title = f"{scenario}: latency CDF, {what}"
    if omitted:  # said in the chart itself: a missing line must not look like a fast target
        title += f"\n(no valid cell: {', '.join(omitted)})"
    return Chart(chart_id, title, charts.cdf_chart(chart_id, title, series))


def bar_metric_chart(
    index: RunIndex, scenario: str, metric: str, title: str, unit: str, scale: float = 1.0
) -> Chart | None:
    """One bar per target at its highest valid level (grey: the highest measured, invalid)."""
    bars = []
    for target in index.targets_of(scenario):
        levels = index.per_level(scenario, target)
        cells = _top_valid_cells(index, scenario, target)
        if not cells and levels:
            cells = [c for c in list(levels.values())[-1] if c.window is not None]
        vals = [v / scale for c in cells if (v := index.value(c, metric)) is not None]
        if vals:
            invalid = not any(c.valid for c in cells)
            flask = _is_flask(index, target)
            bars.append(Bar(target, sum(vals) / len(vals), flask, min(vals), max(vals), invalid))
    if not bars:
        return None
    chart_id = f"{scenario}-{metric}"
    full = f"{scenario}: {title}"
    return Chart(chart_id, full, charts.bar_chart(chart_id, full, unit, bars))


def scenario_charts(index: RunIndex, scenario: str) -> ScenarioCharts:
    made: list[Chart | None] = [
        throughput_chart(index, scenario),
        percentile_chart(index, scenario),
        cdf_chart(index, scenario),
        bar_metric_chart(index, scenario, "cpu_per_request", "server CPU per request", "µs/req"),
        bar_metric_chart(index, scenario, "target_rss_max", "peak memory", "MB", MB),
    ]
    if scenario == "sse":
        made.append(cdf_chart(index, scenario, "sse gap"))
        made.append(bar_metric_chart(index, scenario, "gauge_streams_held_max", "streams held",
                                     "streams"))  # fmt: skip
    if scenario.startswith("ws_"):
        made.append(bar_metric_chart(index, scenario, "gauge_connections_held_max",
                                     "connections held", "connections"))  # fmt: skip
    if scenario in ("sse", "ws_echo", "ws_broadcast"):
        made.append(bar_metric_chart(index, scenario, "mem_per_connection",
                                     "memory per connection", "KB", 1024.0))  # fmt: skip
    return ScenarioCharts(scenario, tuple(c for c in made if c is not None))


def capacity_chart(results: RunResults) -> Chart | None:
    """Capacity at the SLO per target and step scenario, from complete.json."""
    if results.summary is None or not results.summary.capacities:
        return None
    index = RunIndex(results)
    bars = []
    for cap in results.summary.capacities:
        value = cap.rate if cap.driver is Driver.OPEN else cap.users
        label = f"{cap.scenario} · {cap.target}"
        flask = _is_flask(index, cap.target)
        bars.append(Bar(label, float(value or 0), flask, invalid=cap.load_level is None))
    slo = results.run.slo
    title = (
        f"capacity at the SLO (p99 ≤ {slo.p99_ms:g} ms, errors < {slo.max_error_rate:.0%}); "
        "grey: no level met it"
    )
    return Chart("capacity", title, charts.bar_chart("capacity", title, "users or req/s", bars))
