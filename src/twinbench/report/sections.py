"""The report's charts for one run, scenario by scenario: data → report.charts SVG. Pure.

Latency charts come from the raw histograms (`RunResults.histograms`: cell id → request name
→ base64 HdrHistogram, "total" included), merged exactly over a level's valid repeats.
Levels with no valid repeat are drawn grey from whatever they measured, never dropped; a chart
with nothing at all to draw still appears, saying so, so no required chart goes missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twinbench.analysis import histograms
from twinbench.analysis.capacity import CapacityFigure, CapacityKind
from twinbench.analysis.index import RunIndex, load_of
from twinbench.analysis.summary import FigureKind, Outcome, Panel, RatioFigure, Summary
from twinbench.analysis.trend import Trend
from twinbench.analysis.validity import why_not_valid
from twinbench.define.targets import App
from twinbench.report import charts
from twinbench.report.charts import Bar, Series
from twinbench.results.metrics import Metric
from twinbench.results.model import NOT_MEASURED_EXTERNAL, CellResult, Driver, RunResults

MEMORY_SCALE = Metric.TARGET_RSS_MAX.scale
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


def _merged(
    results: RunResults, cells: Sequence[CellResult], request: str
) -> histograms.Distribution:
    encoded = [h for c in cells if (h := _hist_of(results, c, request)) is not None]
    return histograms.merged(encoded)


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


def _nothing(index: RunIndex, scenario: str, targets: Sequence[str]) -> str:
    """'nothing measured: flask-gunicorn-sync: 3 × unsupported': said in the chart itself."""
    why = []
    for target in targets:
        cells = [c for cs in index.per_level(scenario, target).values() for c in cs]
        why.append(f"{target}: {why_not_valid(cells) or 'no histogram'}")
    return "nothing measured: " + "; ".join(why)


def _missing_note(index: RunIndex, scenario: str, series: Sequence[Series]) -> str:
    """A title line naming targets with no point at all, and why (e.g. unsupported)."""
    empty = [s.label for s in series if not s.points and not s.invalid]
    return "\n(" + _nothing(index, scenario, empty) + ")" if empty else ""


def throughput_chart(index: RunIndex, scenario: str) -> Chart:
    request = index.request_for(scenario)

    def tput(cells: Sequence[CellResult]) -> float | None:
        vals = [v for c in cells if (v := index.value(c, Metric.THROUGHPUT, request)) is not None]
        return _mean(vals)

    series = _load_series(index, scenario, tput)
    per = "" if request == "total" else f" ({request} per second)"
    title = f"{scenario}: throughput against load{per}{_missing_note(index, scenario, series)}"
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
    title += _missing_note(index, scenario, panels[0][1])
    svg = charts.percentile_chart(
        f"{scenario}-percentiles", title, _x_label(index, scenario), panels
    )
    return Chart(f"{scenario}-percentiles", title, svg)


def _top_valid_cells(index: RunIndex, scenario: str, target: str) -> list[CellResult]:
    levels = index.valid_levels(scenario, target)
    if not levels:
        return []
    return [c for c in index.per_level(scenario, target)[levels[-1]] if c.valid]


def _top_cells(index: RunIndex, scenario: str, target: str) -> tuple[list[CellResult], bool]:
    """(cells, valid): the highest valid level's valid cells, else the highest level's
    measured (invalid) cells, drawn grey: a target without a valid cell still shows."""
    cells = _top_valid_cells(index, scenario, target)
    if cells:
        return cells, True
    for level_cells in reversed(list(index.per_level(scenario, target).values())):
        measured = [c for c in level_cells if c.window is not None]
        if measured:
            return measured, False
    return [], False


def _request_named(index: RunIndex, cells: Sequence[CellResult], suffix: str) -> str | None:
    for c in cells:
        for name in index.results.histograms.get(c.cell_id, {}):
            if name.endswith(suffix):
                return name
    return None


def cdf_chart(
    index: RunIndex, scenario: str, request_suffix: str | None = None, what: str = ""
) -> Chart:
    """CDF per target at its highest valid load level, on a log latency axis.

    A target with no valid cell is drawn grey and dashed from its highest measured level,
    with the reason in the title; a target with nothing measured is named in the title.
    """
    series = []
    grey: list[str] = []
    omitted: list[str] = []
    for target in index.targets_of(scenario):
        cells, valid = _top_cells(index, scenario, target)
        if request_suffix is None:
            request: str | None = index.request_for(scenario)
        else:
            request = _request_named(index, cells, request_suffix)
        dist = _merged(index.results, cells, request) if cells and request else None
        if dist is None or not dist.total:
            omitted.append(target)
            continue
        label = f"{target} @ {load_of(cells[0]):g}"
        flask = _is_flask(index, target)
        if valid:
            series.append(Series(label, dist.cdf_ms(), flask))
        else:
            series.append(Series(f"{label} (invalid)", (), flask, dist.cdf_ms()))
            grey.append(f"{target}: {why_not_valid(cells)}")
    name = request_suffix or index.request_for(scenario)
    chart_id = f"{scenario}-cdf-{name}".replace(" ", "-").replace("/", "")
    title = f"{scenario}: {what or 'latency CDF'}, {name}"
    # Said in the chart itself: a missing or grey line must not look like a fast target.
    if grey:
        title += "\n(grey: no valid cell; " + "; ".join(grey) + ")"
    if omitted:
        title += "\n(" + _nothing(index, scenario, omitted) + ")"
    return Chart(chart_id, title, charts.cdf_chart(chart_id, title, series))


# Figures read from the target's process tree (an external target may have none).
_PROCESS_METRICS = frozenset({"cpu_per_request", "target_rss_max", "mem_per_connection"})


def bar_metric_chart(
    index: RunIndex, scenario: str, metric: str, title: str, unit: str, scale: float = 1.0
) -> Chart:
    """One bar per target at its highest valid level (grey: the highest measured, invalid);
    a target without the metric is listed as such, never silently left out."""
    bars = []
    for target in index.targets_of(scenario):
        cells, valid = _top_cells(index, scenario, target)
        vals = [v / scale for c in cells if (v := index.value(c, metric)) is not None]
        flask = _is_flask(index, target)
        if vals:
            bars.append(Bar(target, sum(vals) / len(vals), flask, min(vals), max(vals), not valid))
            continue
        cfg = index.targets.get(target)
        if cells and metric in _PROCESS_METRICS and cfg is not None and not cfg.resources_measured:
            why = NOT_MEASURED_EXTERNAL  # no process tree to read: nothing is invented
        elif cells:  # measured, but this figure was not recorded for those cells
            why = "not recorded at " + ("its highest valid level" if valid else "any valid level")
        else:
            cells_all = [c for cs in index.per_level(scenario, target).values() for c in cs]
            why = why_not_valid(cells_all) or "not measured"
        bars.append(Bar(target, 0.0, flask, invalid=True, note=f"none ({why})"))
    chart_id = f"{scenario}-{metric}"
    full = f"{scenario}: {title}"
    return Chart(chart_id, full, charts.bar_chart(chart_id, full, unit, bars))


# Per kind of scenario, the extra charts the issue requires: (metric, title, unit, scale).
_STREAM_BARS: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "sse": (
        ("gauge_streams_held_max", "streams held", "streams", 1.0),
        ("events_per_s", "events delivered", "events/s", 1.0),
    ),
    "ws": (
        ("gauge_connections_held_max", "connections held", "connections", 1.0),
        ("messages_per_s", "messages", "messages/s", 1.0),
    ),
}
# Scenario → (request suffix, what) of its main latency CDF, and of extra CDFs.
_CDFS: dict[str, tuple[tuple[str, str], ...]] = {
    "sse": (
        ("sse first-event", "time to first event (CDF)"),
        ("sse gap", "inter-event lag (CDF)"),
    ),
    "ws_echo": (("ws-echo rtt", "round-trip distribution (CDF)"),),
    "ws_broadcast": (("ws-broadcast delivery", "delivery latency (CDF)"),),
}


def scenario_charts(index: RunIndex, scenario: str) -> ScenarioCharts:
    per = index.request_for(scenario)
    cpu_title = "server CPU per request" + ("" if per == "total" else f" (per {per})")
    cdfs = [cdf_chart(index, scenario, suffix, what) for suffix, what in _CDFS.get(scenario, ())]
    made: list[Chart] = [
        throughput_chart(index, scenario),
        percentile_chart(index, scenario),
        *(cdfs or [cdf_chart(index, scenario)]),
        bar_metric_chart(index, scenario, "cpu_per_request", cpu_title, "µs/req"),
        bar_metric_chart(index, scenario, "target_rss_max", "peak memory", "MB", MEMORY_SCALE),
    ]
    kind = "ws" if scenario.startswith("ws_") else scenario
    for metric, title, unit, scale in _STREAM_BARS.get(kind, ()):
        made.append(bar_metric_chart(index, scenario, metric, title, unit, scale))
    if kind in _STREAM_BARS:
        made.append(
            bar_metric_chart(
                index, scenario, "mem_per_connection", "memory per connection", "KB", 1000.0
            )
        )
    return ScenarioCharts(scenario, tuple(made))


def capacity_bar(cap: CapacityFigure, flask: bool) -> Bar:
    """A held capacity is a bar with its value (error bar: repeats of a measured figure); a
    target with none is a labelled empty slot, 'none (below the lowest level, 16 users)'."""
    if cap.kind is CapacityKind.HELD and cap.value is not None:
        low = min(cap.repeats) if not cap.exact else None
        high = max(cap.repeats) if not cap.exact else None
        return Bar(cap.target, cap.value, flask, low, high, note=f"{cap.value:.3g} at {cap.load}")
    return Bar(cap.target, 0.0, flask, invalid=True, note=cap.text)


def capacity_charts(index: RunIndex) -> tuple[Chart, ...]:
    """Per step scenario: each target's capacity at the SLO, in the scenario's figure."""
    caps = index.capacities
    out = []
    for scenario in dict.fromkeys(c.scenario for c in caps):
        mine = [c for c in caps if c.scenario == scenario]
        bars = [capacity_bar(c, _is_flask(index, c.target)) for c in mine]
        chart_id = f"capacity-{scenario}"
        title = (
            f"{scenario}: capacity at the SLO, in {mine[0].unit}\n"
            f"({mine[0].slo or 'p99 within the SLO'}; grey: no level met it)"
        )
        out.append(Chart(chart_id, title, charts.bar_chart(chart_id, title, mine[0].unit, bars)))
    return tuple(out)


# -- the first screen ------------------------------------------------------------------------
SUMMARY_PANELS = (
    "throughput (or the scenario's figure of merit)\nFastAPI / Flask; FastAPI better →",
    "p99 latency\nFastAPI / Flask; ← FastAPI better",
    "CPU per request\nFastAPI / Flask; ← FastAPI better",
)
_KIND = {
    FigureKind.MEASURED: "measured",
    FigureKind.ESTIMATE: "estimated",
    FigureKind.MISSING: "missing",
}


def summary_point(row: int, panel: int, scenario: str, f: RatioFigure) -> charts.RatioPoint:
    """One figure of the summary as the chart draws it (the report's data table says the same)."""
    if f.kind is FigureKind.BOUND:
        kind = "at least" if f.at_least else "at most"
    else:
        kind = _KIND[f.kind]
    outcome = f.outcome.value if f.outcome in (Outcome.BETTER, Outcome.WORSE) else ""
    prefix = "" if panel or f.metric is Metric.THROUGHPUT else f"{f.metric.label} "
    if f.kind is FigureKind.MISSING:
        label = f"{f.metric.label}: no valid figure"
    elif f.kind is FigureKind.BOUND:
        label = f"{prefix}{'≥' if f.at_least else '≤'} {f.bound:.2f}×"
    else:
        label = f"{prefix}{'≈ ' if f.kind is FigureKind.ESTIMATE else ''}{f.ratio:.2f}×"
    ci = f.ci
    return charts.RatioPoint(
        row,
        panel,
        kind,
        f.ratio,
        ci.low if ci is not None else None,
        ci.high if ci is not None else None,
        outcome,
        label,
        tuple((m.claim, m.ratio) for m in f.claimed),
        f"summary-{scenario}-{list(Panel)[panel].value}-{kind.replace(' ', '-')}",
    )


def summary_chart(summary: Summary) -> Chart:
    rows = [s.scenario for s in summary.scenarios]
    points = [
        summary_point(i, j, s.scenario, f)
        for i, s in enumerate(summary.scenarios)
        for j, f in enumerate(s.figures)
    ]
    title = "FastAPI / Flask per scenario"
    return Chart("summary", title, charts.summary_chart("summary", rows, SUMMARY_PANELS, points))


# -- several runs: the trend -----------------------------------------------------------------
def change_marks(trend: Trend) -> list[tuple[int, str]]:
    """(run position, what changed since the run before) in a few words for the axis."""
    out = []
    for i, run in enumerate(trend.runs):
        if not run.changes:
            continue
        words = []
        packages = 0
        for c in run.changes:
            if c == "machine" or c.startswith(("commit", "database", "profile", "Python")):
                words.append(c.split(" ")[0])
            elif c.startswith(("repeats", "load generator", "pinning", "configuration", "targets")):
                words.append("configuration")
            else:
                packages += 1
        if packages:
            words.append(f"{packages} package{'s' * (packages != 1)}")
        out.append((i, ", ".join(dict.fromkeys(words))))
    return out


def trend_charts(trend: Trend) -> tuple[Chart, ...]:
    """The headline ratio of every scenario across runs, then each scenario's targets' figure
    of merit across runs (absolute: on one machine only comparable as such)."""
    labels = [r.label for r in trend.runs]
    marks = change_marks(trend)
    series = []
    for sc in trend.scenarios:
        pts = []
        for x, p in enumerate(sc.ratios):
            f = p.figure
            if f is None or f.ci is None:
                continue
            hollow = f.kind is FigureKind.ESTIMATE
            pts.append((x, f.ci.ratio, f.ci.low, f.ci.high, hollow))
        metric = sc.ratios[0].figure.metric.label if sc.ratios and sc.ratios[0].figure else ""
        series.append(charts.TrendSeries(f"{sc.scenario} ({metric})", tuple(pts)))
    note = f"\n({trend.note})" if trend.note else ""
    title = f"FastAPI / Flask of each scenario's figure of merit, run by run{note}"
    svg = charts.trend_chart(
        "trend-ratios", title, "FastAPI / Flask (log scale)", labels, series, marks,
        ratio=True, width=11.0,
    )  # fmt: skip
    out = [Chart("trend-ratios", title, svg)]
    for sc in trend.scenarios:
        lines = [
            charts.TrendSeries(
                target,
                tuple((x, v, None, None, False) for x, v in enumerate(values) if v is not None),
                flask,
            )
            for target, flask, values in sc.merits
        ]
        chart_id = f"trend-{sc.scenario}"
        title = f"{sc.scenario}: each target's {sc.merit.label}, run by run{note}"
        unit = sc.merit.shown_unit
        out.append(
            Chart(chart_id, title, charts.trend_chart(chart_id, title, unit, labels, lines, marks))
        )
    return tuple(out)
