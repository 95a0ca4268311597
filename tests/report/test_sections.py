"""sections.scenario_charts and capacity_charts on the recorded runs: every chart the issue
requires is produced, with the targets and values of the raw data, invalid ones grey."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from twinbench.analysis.derive import analyse
from twinbench.report.build import load_with_histograms
from twinbench.report.charts import INVALID_COLOUR
from twinbench.report.sections import Chart, capacity_charts, scenario_charts
from twinbench.results.metrics import MB
from twinbench.results.model import RunResults

DATA = Path(__file__).parents[1] / "data"
RECORDED = (DATA / "quick-sqlite", DATA / "quick-postgres")

# chart id (format: scenario) → what must be in it: the list of required charts.
REQUIRED = {
    "{s}-throughput": "throughput against load",
    "{s}-percentiles": "latency percentiles against load",
    "{s}-cpu_per_request": "server CPU per request",
    "{s}-target_rss_max": "peak memory",
}
REQUIRED_BY_SCENARIO = {
    "sse": {
        "sse-cdf-sse-first-event": "time to first event",
        "sse-cdf-sse-gap": "inter-event lag",
    },
    "ws_echo": {
        "ws_echo-cdf-ws-echo-rtt": "round-trip distribution",
        "ws_echo-gauge_connections_held_max": "connections held",
    },
}


@pytest.fixture(scope="module", params=RECORDED, ids=lambda p: p.name)
def recorded(request: pytest.FixtureRequest) -> tuple[RunResults, pd.DataFrame, dict[str, Chart]]:
    results = load_with_histograms(request.param)
    index = analyse(results)
    made = {c.id: c for s in index.scenario_names() for c in scenario_charts(index, s).charts}
    made.update({c.id: c for c in capacity_charts(index)})
    return results, pd.read_csv(request.param / "metrics.csv"), made


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)


def test_every_required_chart_is_produced(
    recorded: tuple[RunResults, pd.DataFrame, dict[str, Chart]],
) -> None:
    results, _, made = recorded
    for scenario in results.run.scenarios:
        wanted = {k.format(s=scenario): v for k, v in REQUIRED.items()}
        wanted.update(REQUIRED_BY_SCENARIO.get(scenario, {}))
        cdfs = [c for c in made if c.startswith(f"{scenario}-cdf-")]
        assert cdfs, f"{scenario}: no latency CDF"
        for cdf in cdfs:
            assert "latency (ms, log scale)" in _texts(made[cdf].svg)  # the log axis
        for chart_id, what in wanted.items():
            assert chart_id in made, (scenario, chart_id)
            assert what in made[chart_id].title, chart_id
    assert "capacity-upstream" in made  # the only ladder of the quick profile


def test_every_target_of_a_scenario_appears_in_each_of_its_charts(
    recorded: tuple[RunResults, pd.DataFrame, dict[str, Chart]],
) -> None:
    """Named in a legend, a bar label or the title's note: nothing silently missing."""
    results, _, made = recorded
    targets = {
        s: {c.config.target for c in results.cells if c.config.scenario == s}
        for s in results.run.scenarios
    }
    for chart_id, chart in made.items():
        scenario = chart_id.removeprefix("capacity-").split("-")[0]
        text = " ".join(_texts(chart.svg))
        for target in targets[scenario]:
            assert target in text, (chart_id, target)


def test_bars_show_the_recomputed_mean_at_the_highest_valid_level(
    recorded: tuple[RunResults, pd.DataFrame, dict[str, Chart]],
) -> None:
    _, df, made = recorded
    total = df[df.request == "total"]
    checked = 0
    for metric, scale in (("cpu_per_request", 1.0), ("target_rss_max", MB)):
        for (scenario, target), g in total[total.metric == metric].groupby(["scenario", "target"]):
            valid = g[g.valid]
            if valid.empty:
                continue
            top = valid[valid.load_level == valid.load_level.max()]
            value = top.value.mean() / scale
            label = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
            assert label in _texts(made[f"{scenario}-{metric}"].svg), (scenario, target, metric)
            checked += 1
    assert checked >= 10


def test_a_target_without_valid_cells_is_drawn_grey_with_its_reason(
    recorded: tuple[RunResults, pd.DataFrame, dict[str, Chart]],
) -> None:
    """CDFs of invalid cells are drawn grey and dotted, never dropped (SSE lag, WS RTT)."""
    results, _, made = recorded
    index = analyse(results)
    seen = 0
    for chart_id, chart in made.items():
        if "-cdf-" not in chart_id:
            continue
        scenario = chart_id.split("-")[0]
        for target in index.targets_of(scenario):
            cells = [c for cs in index.per_level(scenario, target).values() for c in cs]
            measured = [c for c in cells if c.window is not None]
            if measured and not any(c.valid for c in cells):
                assert f"{target} @" in chart.svg and "(invalid)" in chart.svg, chart_id
                assert INVALID_COLOUR in chart.svg and "grey: no valid cell" in chart.title
                seen += 1
    # The recorded runs have such targets (ws_echo on a busy machine); a re-recording that
    # has none makes this check vacuous, so say so instead of passing quietly.
    if not seen:
        pytest.skip("this recording has no target without a valid cell in a CDF")


def test_capacity_chart_uses_the_in_flight_figure_and_shows_targets_with_none(
    recorded: tuple[RunResults, pd.DataFrame, dict[str, Chart]],
) -> None:
    """upstream's capacity in requests in flight: each held bar is the mean `inflight` of the
    level's valid repeats (pandas); a target that met no level is a labelled empty slot."""
    results, df, made = recorded
    chart = made["capacity-upstream"]
    assert "requests in flight" in chart.title
    texts = _texts(chart.svg)
    assert results.summary is not None
    for cap in results.summary.capacities:
        if cap.load_level is None:
            assert any(t.startswith(("none (below the lowest level", "unknown")) for t in texts)
            continue
        rows = df[
            (df.scenario == cap.scenario)
            & (df.target == cap.target)
            & (df.load_level == cap.load_level)
            & (df.request == "total")
            & (df.metric == "inflight")
            & df.valid
        ]
        assert f"{rows.value.mean():.3g} at {cap.users} users" in texts, (cap.target, texts)
