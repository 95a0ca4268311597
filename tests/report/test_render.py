"""The HTML: self-contained, every claim and cell present, numbers equal to the raw data,
configuration beside every figure. Synthetic folder (tests/report_synth.py) unless stated;
the recorded runs are checked in depth by tests/test_report_recorded.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_html import Element, Page, squash
from report_synth import MICRO_MEANS, write_synthetic

from twinbench.analysis.derive import analyse
from twinbench.analysis.figures import figures_for
from twinbench.analysis.histograms import decode
from twinbench.analysis.stats import format_ratio, ratio_ci
from twinbench.analysis.verdicts import Bound
from twinbench.define.claims import parse_claims
from twinbench.define.scenarios import get as scenario
from twinbench.inputs import load_claims
from twinbench.report.build import load_with_histograms
from twinbench.report.model import ReportModel, build_model
from twinbench.report.render import code, num, render
from twinbench.results.metrics import Metric
from twinbench.results.model import RunResults

RECORDED = Path(__file__).parents[1] / "data" / "quick-postgres"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> RunResults:
    return load_with_histograms(write_synthetic(tmp_path_factory.mktemp("s") / "run"))


@pytest.fixture(scope="module")
def model(synth: RunResults) -> ReportModel:
    return build_model([synth], load_claims(), "2025-01-01 00:00:00 UTC")


@pytest.fixture(scope="module")
def parsed(model: ReportModel) -> tuple[str, Page]:
    html = render(model)
    return html, Page(html)


def _p99(results: RunResults, cell_id: str, request: str = "total") -> float:
    return decode(results.histograms[cell_id][request]).get_value_at_percentile(99) / 1000


def _headline(page: Page) -> dict[str, Element]:
    return {b.attrs["data-scenario"]: b for b in page.by_id("headline-table").find_all("tbody")}


def _value(block: Element, metric: str, side: str) -> Element:
    (el,) = block.find_all(metric=metric, side=side)
    return el


def test_self_contained(parsed: tuple[str, Page]) -> None:
    html, p = parsed
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert all(u.startswith("#") for u in p.urls), p.urls[:5]
    assert re.search(
        r'http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;', html
    )
    assert "@import" not in html and "url(http" not in html


def test_headline_cells_equal_recomputed_histogram_percentiles(
    synth: RunResults, parsed: tuple[str, Page]
) -> None:
    rows = _headline(parsed[1])
    for sc, target, side, level in (
        ("json", "flask-gunicorn-gevent", "flask", 2),
        ("json", "fastapi-uvicorn", "fastapi", 2),
        ("upstream", "fastapi-uvicorn", "fastapi", 1),
    ):
        reps = [_p99(synth, f"{sc}.{target}.l{level}.r{r}") for r in (1, 2)]
        assert squash(_value(rows[sc], "latency_p99", side).text) == num(sum(reps) / 2)


def test_headline_ratio_is_recomputed_from_repeats(
    synth: RunResults, parsed: tuple[str, Page]
) -> None:
    fa = [_p99(synth, f"json.fastapi-uvicorn.l2.r{r}") for r in (1, 2)]
    fl = [_p99(synth, f"json.flask-gunicorn-gevent.l2.r{r}") for r in (1, 2)]
    cell = _value(_headline(parsed[1])["json"], "latency_p99", "ratio")
    assert squash(cell.text) == format_ratio(ratio_ci(fa, fl))


def test_significance_cells_say_no_significant_difference_where_the_interval_spans_1(
    model: ReportModel, parsed: tuple[str, Page]
) -> None:
    rows = _headline(parsed[1])
    spans = 0
    for row in model.latest.headline:
        for v in row.values:
            assert v.ci is not None and v.ci.low is not None and v.ci.high is not None
            cell = _value(rows[row.scenario], v.metric.value, "significance")
            if v.ci.low <= 1.0 <= v.ci.high:
                assert squash(cell.text) == "no significant difference"
                assert cell.attrs["class"] == "ns"  # highlighted
                spans += 1
            else:
                assert squash(cell.text) == "significant" and cell.attrs["class"] == ""
    assert spans >= 1  # the seeded synthetic run has one (json p99)


def test_every_claim_and_cell_is_shown(model: ReportModel, parsed: tuple[str, Page]) -> None:
    html, page = parsed
    for claim in load_claims():
        assert f'id="claim-{claim.id}"' in html
    rows = {tr.attrs["data-cell"]: tr for tr in page.root.find_all("tr") if "data-cell" in tr.attrs}
    assert set(rows) == {c.cell_id for c in model.latest.results.run.cells}
    invalid = rows["json.flask-gunicorn-sync.l2.r1"]
    texts = [squash(td.text) for td in invalid.find_all("td")]
    assert invalid.attrs["class"] == "invalid" and "load-generator-bound" in texts[-1]
    unsupported = rows["ws_echo.flask-gunicorn-sync.l1.r1"]
    assert unsupported.attrs["class"] == "invalid"
    assert squash(unsupported.find_all("td")[1].text) == "unsupported"


def test_configuration_is_in_each_headline_row(synth: RunResults, parsed: tuple[str, Page]) -> None:
    """Each scenario's rows name both targets with server, worker class, workers, pool and
    CPUs, and the load they were compared at; the run's machine, commit, database and
    packages sit in the configuration table."""
    expected = {
        "flask-gunicorn-gevent": "gunicorn gevent, 1 worker, db pool 16, CPUs 0",
        "fastapi-uvicorn": "uvicorn asyncio, 1 worker, db pool 16, CPUs 0",
    }
    rows = _headline(parsed[1])
    assert set(rows) == set(synth.run.scenarios)
    for sc, block in rows.items():
        for side in ("flask-config", "fastapi-config"):
            (cfg,) = block.find_all(side=side)
            name, text = squash(cfg.text).split(" ", 1)
            assert text == expected[name], (sc, side)
        assert "at " in squash(block.find_all("td")[0].text)
    config = squash(parsed[1].by_id("config-table").text)
    for text in ("Synthetic CPU", "0123456789abcdef", "sqlite:///x.sqlite3", "fastapi 0.115.0"):
        assert text in config


def test_every_threshold_figure_shows_its_configuration(synth: RunResults) -> None:
    ledger = parse_claims(
        """
[[claim]]
id = "ws"
source = "s"
from_to = "a → b"
wording = "WebSocket round trips under 50 ms"
[[claim.check]]
what = "p99 of echo round trips"
kind = "threshold"
scenario = "ws_echo"
metric = "p99"
below = 50.0
min_load = 10
"""
    )
    page = Page(render(build_model([synth], ledger, "now", with_charts=False)))
    (check,) = page.by_id("claim-ws").find_all("p", check="1")
    spans = {
        s.attrs["data-figure-config"]: squash(s.text)
        for s in check.find_all("span")
        if "data-figure-config" in s.attrs
    }
    # Every target judged, FastAPI's and the Flask one shown beside it, with its configuration.
    assert spans == {
        "fastapi-uvicorn": "fastapi-uvicorn at 10: uvicorn asyncio, 1 worker, db pool 16, CPUs 0",
        "flask-gunicorn-gevent": (
            "flask-gunicorn-gevent at 10: gunicorn gevent, 1 worker, db pool 16, CPUs 0"
        ),
    }


def test_pydantic_claim_is_judged_on_the_micro_benchmark(parsed: tuple[str, Page]) -> None:
    block = parsed[1].by_id("claim-pydantic-20x")
    text = squash(block.text)
    assert "in-process micro-benchmark, not an HTTP figure" in text
    assert "15 timed rounds of 1,000 operations each, pinned to CPU 0" in text
    # v2 is ~10x faster than v1 in the synthetic rounds: the 20x claim is not confirmed.
    assert squash(block.find_all("span", claim="pydantic-20x")[0].text) == "not confirmed", text
    assert MICRO_MEANS["pydantic-v1-dict"] / MICRO_MEANS["pydantic-v2-dict"] < 20


def test_two_runs_show_deltas(synth: RunResults, tmp_path: Path) -> None:
    after = load_with_histograms(write_synthetic(tmp_path / "after", seed=2, speedup=1.5))
    model = build_model([synth, after], load_claims(), "now", with_charts=False)
    html = render(model)
    assert 'id="deltas-table"' in html
    d = next(
        d
        for d in model.deltas
        if (d.scenario, d.target, d.metric.value) == ("json", "fastapi-uvicorn", "throughput")
    )
    assert d.ci is not None and d.after / d.before == pytest.approx(d.ci.ratio)
    assert d.ci.ratio > 1.3


def test_recorded_run_cells_match_their_histograms() -> None:
    """A real quick run: every cell's p99 in the report equals the stored histogram's."""
    results = load_with_histograms(RECORDED)
    page = Page(render(build_model([results], load_claims(), "now", with_charts=False)))
    rows = {tr.attrs["data-cell"]: tr for tr in page.root.find_all("tr") if "data-cell" in tr.attrs}
    assert set(rows) == {c.cell_id for c in results.run.cells}
    checked = 0
    for cell in results.cells:
        tr = rows[cell.cell_id]
        texts = [squash(td.text) for td in tr.find_all("td")]
        assert (tr.attrs.get("class") == "invalid") == (not cell.valid)
        if not cell.valid:
            assert cell.reason and cell.reason in texts[-1]
        names = results.histograms.get(cell.cell_id, {})
        suffix = scenario(cell.config.scenario).main_request
        key = next((n for n in names if suffix and n.endswith(suffix)), "total")
        if key in names and decode(names[key]).get_total_count():
            assert texts[4] == num(_p99(results, cell.cell_id, key)), cell.cell_id
            checked += 1
    assert checked >= len(results.cells) // 2


def test_code_filter_escapes_first() -> None:
    assert str(code("<b> `make microbench`")) == "&lt;b&gt; <code>make microbench</code>"


def test_capacity_chart_and_claim_figures(synth: RunResults, parsed: tuple[str, Page]) -> None:
    html, _ = parsed
    assert 'aria-label="capacity-json"' in html
    index = analyse(synth)
    caps = figures_for(index, "json", Metric.CAPACITY)
    assert sorted((f.target, f.repeats, f.exact, f.bound) for f in caps) == [
        ("fastapi-uvicorn", (16.0,), True, Bound.NONE),
        ("flask-gunicorn-gevent", (4.0,), True, Bound.NONE),
        ("flask-gunicorn-sync", (4.0,), True, Bound.NONE),
    ]
    assert figures_for(index, "upstream", Metric.CAPACITY) == []


def test_p95_claim_figures_come_from_the_histograms(synth: RunResults) -> None:
    figs = figures_for(analyse(synth), "json", Metric.LATENCY_P95)
    fig = next(f for f in figs if f.target == "fastapi-uvicorn" and f.load == 16)
    expected = tuple(
        decode(synth.histograms[f"json.fastapi-uvicorn.l2.r{r}"]["total"]).get_value_at_percentile(
            95
        )
        / 1000
        for r in (1, 2)
    )
    assert fig.repeats == expected


def test_peak_throughput_figure_is_the_best_level(synth: RunResults) -> None:
    index = analyse(synth)
    figs = [
        f for f in figures_for(index, "json", Metric.THROUGHPUT) if f.target == "fastapi-uvicorn"
    ]
    (fig,) = [f for f in figs if not f.estimate]
    assert fig.load is None and fig.config.endswith("peak at 16")
    assert fig.repeats == index.repeats("json", "fastapi-uvicorn", 2, "throughput")
    # Beside it, the capacity estimated from CPU per request (used only where a side has no
    # measured peak), labelled as such.
    (est,) = [f for f in figs if f.estimate]
    assert est.load is None and "estimated from CPU time per request" in est.config


def test_methods_warn_that_few_repeats_give_narrow_intervals(
    synth: RunResults, parsed: tuple[str, Page]
) -> None:
    """The synthetic run has 2 repeats: C(3, 2) = 3 distinct resamples per side."""
    import math

    methods = squash(parsed[1].by_id("methods").text)
    n = synth.run.repeats
    assert (
        f"With {n} repeats a side has only {math.comb(2 * n - 1, n)} distinct resamples" in methods
    )
    assert "percentile interval runs narrow" in methods
    assert (
        "meets its factor only when the point estimate reaches it and the interval excludes 1"
        in methods
    )
