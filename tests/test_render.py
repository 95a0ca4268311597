"""The HTML: self-contained, every claim and cell present, numbers equal to the raw data."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_synth import write_synthetic

from twinbench.claims import Metric, load_claims
from twinbench.headline import RunIndex
from twinbench.latency import decode
from twinbench.render import code, num, render
from twinbench.report import load_with_histograms
from twinbench.reportmodel import ReportModel, build_model, figures_for
from twinbench.results import RunResults
from twinbench.stats import format_ratio, ratio_ci

RECORDED = Path(__file__).parent / "data" / "smoke-2targets"


class _Cells(HTMLParser):
    """Collects text of elements carrying data-* attributes, and every tag name and URL."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], str] = {}
        self.rows: dict[str, tuple[str, list[str]]] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self._key: tuple[str, str, str] | None = None
        self._row: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src", "xlink:href") and v]
        if "data-side" in a:
            self._key = (a["data-scenario"] or "", a["data-metric"] or "", a["data-side"] or "")
            self._text = ""
        if tag == "tr" and "data-cell" in a:
            self._row = a["data-cell"]
            self.rows[self._row] = (a.get("class") or "", [])
        if tag == "td" and self._row:
            self.rows[self._row][1].append("")

    def handle_data(self, data: str) -> None:
        if self._key:
            self._text += data
        if self._row and self.rows[self._row][1]:
            self.rows[self._row][1][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._key:
            self.cells[self._key] = self._text.strip()
            self._key = None
        if tag == "tr":
            self._row = None


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> RunResults:
    return load_with_histograms(write_synthetic(tmp_path_factory.mktemp("s") / "run"))


@pytest.fixture(scope="module")
def model(synth: RunResults) -> ReportModel:
    return build_model([synth], load_claims(), "2025-01-01 00:00:00 UTC")


@pytest.fixture(scope="module")
def parsed(model: ReportModel) -> tuple[str, _Cells]:
    html = render(model)
    p = _Cells()
    p.feed(html)
    return html, p


def _p99(results: RunResults, cell_id: str, request: str = "total") -> float:
    return decode(results.histograms[cell_id][request]).get_value_at_percentile(99) / 1000


def test_self_contained(parsed: tuple[str, _Cells]) -> None:
    html, p = parsed
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert all(u.startswith("#") for u in p.urls), p.urls[:5]
    assert re.search(
        r'http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;', html
    )
    assert "@import" not in html and "url(http" not in html


def test_headline_cells_equal_recomputed_histogram_percentiles(
    synth: RunResults, parsed: tuple[str, _Cells]
) -> None:
    _, p = parsed
    for scenario, target, side, level in (
        ("json", "flask-gunicorn-gevent", "flask", 2),
        ("json", "fastapi-uvicorn", "fastapi", 2),
        ("upstream", "fastapi-uvicorn", "fastapi", 1),
    ):
        reps = [_p99(synth, f"{scenario}.{target}.l{level}.r{r}") for r in (1, 2)]
        assert p.cells[(scenario, "latency_p99", side)] == num(sum(reps) / 2)


def test_headline_ratio_is_recomputed_from_repeats(
    synth: RunResults, parsed: tuple[str, _Cells]
) -> None:
    _, p = parsed
    fa = [_p99(synth, f"json.fastapi-uvicorn.l2.r{r}") for r in (1, 2)]
    fl = [_p99(synth, f"json.flask-gunicorn-gevent.l2.r{r}") for r in (1, 2)]
    assert p.cells[("json", "latency_p99", "ratio")] == format_ratio(ratio_ci(fa, fl))


def test_every_claim_and_cell_is_shown(model: ReportModel, parsed: tuple[str, _Cells]) -> None:
    html, p = parsed
    for claim in load_claims():
        assert f'id="claim-{claim.id}"' in html
    assert set(p.rows) == {c.cell_id for c in model.latest.results.cells}
    cls, texts = p.rows["json.flask-gunicorn-sync.l2.r1"]
    assert cls == "invalid" and "load-generator-bound" in texts[-1]
    cls, texts = p.rows["ws_echo.flask-gunicorn-sync.l1.r1"]
    assert cls == "invalid" and texts[1] == "unsupported"


def test_configuration_is_beside_the_numbers(parsed: tuple[str, _Cells]) -> None:
    html, _ = parsed
    for text in ("Synthetic CPU", "0123456789abcdef", "sqlite:///x.sqlite3", "fastapi 0.115.0",
                 "gunicorn gevent, 1 worker, db pool 16, CPUs 0"):  # fmt: skip
        assert text in html


def test_pydantic_claim_points_to_microbench(parsed: tuple[str, _Cells]) -> None:
    html, _ = parsed
    block = html[html.index('id="claim-pydantic-20x"') :][:3000]
    assert "micro-level claim" in block and "<code>make microbench</code>" in block


def test_two_runs_show_deltas(synth: RunResults, tmp_path: Path) -> None:
    after = load_with_histograms(write_synthetic(tmp_path / "after", seed=2, speedup=1.5))
    model = build_model([synth, after], load_claims(), "now", with_charts=False)
    html = render(model)
    assert 'id="deltas-table"' in html
    d = next(
        d
        for d in model.deltas
        if (d.scenario, d.target, d.column.key) == ("json", "fastapi-uvicorn", "throughput")
    )
    assert d.ci is not None and d.after / d.before == pytest.approx(d.ci.ratio)
    assert d.ci.ratio > 1.3


def test_recorded_run_cells_match_their_histograms() -> None:
    """A real smoke run: every cell's p99 in the report equals the stored histogram's."""
    results = load_with_histograms(RECORDED)
    html = render(build_model([results], load_claims(), "now", with_charts=False))
    p = _Cells()
    p.feed(html)
    assert set(p.rows) == {c.cell_id for c in results.cells}
    checked = 0
    for cell in results.cells:
        cls, texts = p.rows[cell.cell_id]
        assert (cls == "invalid") == (not cell.valid)
        if not cell.valid:
            assert cell.reason and cell.reason in texts[-1]
        names = results.histograms.get(cell.cell_id, {})
        request = {"ws_echo": "ws-echo rtt", "sse": "sse first-event",
                   "ws_broadcast": "ws-broadcast delivery"}.get(cell.config.scenario)  # fmt: skip
        key = next((n for n in names if request and n.endswith(request)), "total")
        if key in names and decode(names[key]).get_total_count():
            assert texts[4] == num(_p99(results, cell.cell_id, key)), cell.cell_id
            checked += 1
    assert checked >= len(results.cells) // 2


def test_code_filter_escapes_first() -> None:
    assert str(code("<b> `make microbench`")) == "&lt;b&gt; <code>make microbench</code>"


def test_capacity_chart_and_claim_figures(synth: RunResults, parsed: tuple[str, _Cells]) -> None:
    html, _ = parsed
    assert 'aria-label="capacity"' in html
    index = RunIndex(synth)
    caps = figures_for(index, "json", Metric.CAPACITY)
    assert sorted((f.target, f.repeats) for f in caps) == [
        ("fastapi-uvicorn", (16.0,)),
        ("flask-gunicorn-gevent", (16.0,)),
        ("flask-gunicorn-sync", (16.0,)),
    ]
    assert figures_for(index, "upstream", Metric.CAPACITY) == []


def test_p95_claim_figures_come_from_the_histograms(synth: RunResults) -> None:
    figs = figures_for(RunIndex(synth), "json", Metric.P95)
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
    index = RunIndex(synth)
    (fig,) = [
        f for f in figures_for(index, "json", Metric.THROUGHPUT) if f.target == "fastapi-uvicorn"
    ]
    assert fig.load is None and fig.config.endswith("at 16")
    assert fig.repeats == index.repeats("json", "fastapi-uvicorn", 2, "throughput")
