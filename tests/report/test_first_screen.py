"""The report's first screen, checked against the raw files of the recorded runs (tests/data):
the verdict paragraph's scenarios, ratios and intervals, the claims' tally, and the summary
chart's data (its figures table and the marks drawn in the SVG), each recomputed here from
metrics.csv, the histograms and complete.json, never from twinbench's analysis."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from report.test_recorded import AFTER, BEFORE, Raw, _best, read
from report_html import Page, check_interval, parse_ratio, significance_of, squash

from twinbench import packaged
from twinbench.cli.report import summary
from twinbench.define import scenarios
from twinbench.report.build import write_report
from twinbench.results.metrics import Metric

PANELS = ("merit", "p99", "cpu")


@pytest.fixture(scope="module")
def raw() -> Raw:
    return read(AFTER)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    out = tmp_path_factory.mktemp("first") / "report.html"
    write_report([BEFORE, AFTER], out)  # the summary is the latest run's
    html = out.read_text(encoding="utf-8")
    return html, Page(html)


def _inflight(raw: Raw, scenario: str, target: str) -> tuple[list[float], bool]:
    """(requests in flight per valid repeat at the capacity level, held); a target that
    met no level gives ([the level's users], False): a bound."""
    cap = next(
        c for c in raw.summary["capacities"] if (c["scenario"], c["target"]) == (scenario, target)
    )
    if cap["load_level"] is None:
        return [], False
    v = raw.valid(scenario, target)
    rows = v[
        (v.load_level == cap["load_level"]) & (v.metric == "inflight") & (v.request == "total")
    ]
    return [float(x) for x in rows.sort_values("repeat").value], True


def expected_figures(raw: Raw, scenario: str) -> dict[str, tuple[str, list[float], list[float]]]:
    """panel → (kind, FastAPI values, Flask values), recomputed from the raw files."""
    fl, fa = _best(raw, scenario, "flask"), _best(raw, scenario, "fastapi")
    merit = scenarios.get(scenario).merit
    levels = raw.valid_levels(scenario, fl) & raw.valid_levels(scenario, fa) if fl and fa else set()
    out: dict[str, tuple[str, list[float], list[float]]] = {}
    if not levels:
        est = {}
        for app in ("flask", "fastapi"):
            found = [
                (float(np.mean(e)), str(t["name"]), e)
                for t in raw.run["targets"]
                if t["app"] == app and (e := raw.estimate(scenario, str(t["name"])))
            ]
            est[app] = max(found) if found else None
        if est["flask"] and est["fastapi"]:
            out["merit"] = ("estimated", est["fastapi"][2], est["flask"][2])
            cpu = [
                [1e6 * len(raw.run["pinning"]["target_cpus"]) / x for x in e[2]]
                for e in (est["fastapi"], est["flask"])
            ]
            out["cpu"] = ("measured", cpu[0], cpu[1])
        return out
    level = max(levels)
    if merit is Metric.INFLIGHT:
        (a, a_held), (b, b_held) = _inflight(raw, scenario, fa), _inflight(raw, scenario, fl)
        assert a_held and b_held, "the recorded runs' best targets both held a level"
        out["merit"] = ("measured", a, b)
    else:
        out["merit"] = (
            "measured",
            raw.figure(scenario, fa, level, "throughput"),
            raw.figure(scenario, fl, level, "throughput"),
        )
    for panel, key in (("p99", "latency_p99"), ("cpu", "cpu_per_request")):
        out[panel] = (
            "measured",
            raw.figure(scenario, fa, level, key),
            raw.figure(scenario, fl, level, key),
        )
    return out


def _deciding(scenario: str) -> str:
    return "p99" if scenarios.get(scenario).merit is Metric.LATENCY_P99 else "merit"


def _sentence_of(paragraph: str, scenario: str) -> str:
    """The sentence of the verdict paragraph that names the scenario."""
    for sentence in re.split(r"\.\s+(?=[A-Z])", paragraph):
        if re.search(rf"(^|[ (,]){re.escape(scenario)}( \(|,| and|\.|$)", sentence):
            return sentence
    raise AssertionError(f"{scenario} is not in the verdict: {paragraph}")


def test_verdict_paragraph_numbers_are_the_raw_data_s(raw: Raw, report: tuple[str, Page]) -> None:
    paragraph = squash(report[1].by_id("verdict-text").text)
    for name in (str(t["name"]) for t in raw.run["targets"]):
        assert name in paragraph
    assert f"on {len(raw.run['scenarios'])} scenarios" in paragraph
    decided = 0
    for scenario in raw.run["scenarios"]:
        figures = expected_figures(raw, scenario)
        sentence = _sentence_of(paragraph, scenario)
        panel = _deciding(scenario)
        if panel not in figures:
            assert sentence.startswith("No valid comparison"), sentence
            continue
        kind, fa, fl = figures[panel]
        if kind == "estimated":
            assert sentence.startswith("Estimated from CPU time per request"), sentence
        expected = significance_of(fa, fl)
        if expected == "significant":
            ratio = float(np.mean(fa) / np.mean(fl))
            lower_better = panel == "p99"
            faster = (ratio < 1) if lower_better else (ratio > 1)
            if kind != "estimated":
                lead = "significantly faster" if faster else "significantly slower"
                assert lead in sentence, (scenario, sentence)
            shown = sentence.split(f"{scenario} (")[1].split(")")[0]
            text = shown.split(" ", 1)[1].replace("≈ ", "")
            check_interval(parse_ratio(text), fa, fl)
            decided += 1
        elif expected == "no significant difference":
            assert sentence.startswith("No significant difference"), (scenario, sentence)
            decided += 1
    assert decided >= 3


def test_claims_tally_counts_the_ledgers_verdicts(report: tuple[str, Page]) -> None:
    page = report[1]
    paragraph = squash(page.by_id("verdict-text").text)
    badges = [
        squash(b.text)
        for b in page.by_id("claims-table").find_all("span")
        if "data-claim" in b.attrs
    ]
    with packaged.claims_ledger().open("rb") as fh:
        ledger = tomllib.load(fh)["claim"]
    # The seed claims this run measured a part of: a built-in scenario it ran, or micro.json
    # (claims_for); the recorded run has no `api`, so claims on it alone are left out.
    ran = set(read(AFTER).run["scenarios"])
    shown = [
        c
        for c in ledger
        if {k.get("scenario") for k in c["check"]} & ran
        or any(k["kind"] == "micro" for k in c["check"])
    ]
    assert 0 < len(shown) < len(ledger)
    assert len(badges) == len(shown)
    confirmed = badges.count("confirmed")
    line = paragraph.split("Claims ledger: ")[1].rstrip(".")
    assert line.startswith(f"{confirmed} of {len(shown)} claims confirmed")
    words = {"no data in this run": "without data"}
    for verdict in set(badges) - {"confirmed"}:
        assert f"{badges.count(verdict)} {words.get(verdict, verdict)}" in line, (verdict, line)
    named = sum(int(n) for n in re.findall(r"(?:^|, )(\d+) ", line.split(" claims confirmed")[1]))
    assert confirmed + named == len(shown)


def test_summary_chart_data_are_the_raw_data_s(raw: Raw, report: tuple[str, Page]) -> None:
    """Every scenario × figure of the chart: its table row (ratio, interval, kind) recomputed,
    and the mark drawn in the SVG of the matching kind (hollow estimate, filled measurement)."""
    html, page = report
    rows = {
        r.attrs["data-summary"]: r
        for r in page.by_id("summary-table").find_all("tr")
        if "data-summary" in r.attrs
    }
    svg = html.split('id="chart-summary"')[1].split("</svg>")[0]
    drawn = set(re.findall(r'id="summary-(summary-[^"]+)"', svg))
    checked = 0
    for scenario in raw.run["scenarios"]:
        figures = expected_figures(raw, scenario)
        for panel in PANELS:
            row = rows[f"{scenario}|{panel}"]
            cells = [squash(td.text) for td in row.find_all("td")]
            if panel not in figures:
                assert row.attrs["data-kind"] == "missing", (scenario, panel)
                assert f"summary-{scenario}-{panel}-missing" in drawn
                continue
            kind, fa, fl = figures[panel]
            assert row.attrs["data-kind"] == kind, (scenario, panel)
            check_interval(parse_ratio(cells[3]), fa, fl)
            assert f"summary-{scenario}-{panel}-{kind}" in drawn, (scenario, panel, drawn)
            checked += 1
    assert checked >= 10


def test_claimed_factors_are_marked_where_a_claim_applies(
    raw: Raw, report: tuple[str, Page]
) -> None:
    html = report[0]
    svg = html.split('id="chart-summary"')[1].split("</svg>")[0]
    with packaged.claims_ledger().open("rb") as fh:
        ledger = tomllib.load(fh)["claim"]
    panel_of = {"throughput": "merit", "capacity": "merit", "p99": "p99", "cpu": "cpu"}
    expected = set()
    for claim in ledger:
        for check in claim["check"]:
            if check.get("kind") != "ratio" or check.get("scenario") not in raw.run["scenarios"]:
                continue
            metric = check.get("metric")
            if metric == "capacity" and scenarios.get(check["scenario"]).merit is not (
                Metric.INFLIGHT
            ):
                continue
            if metric in panel_of:
                expected.add((check["scenario"], panel_of[metric], claim["id"]))
    assert expected
    for scenario, panel, claim in expected:
        assert re.search(rf'id="summary-summary-{scenario}-{panel}-[a-z-]+-claim-{claim}"', svg), (
            scenario,
            panel,
            claim,
        )
    marks = re.findall(r'id="summary-summary-[^"]+-claim-', svg)
    assert len(marks) == len(expected)


def test_the_first_screen_comes_first_and_the_contents_stay(report: tuple[str, Page]) -> None:
    html = report[0]
    verdict, chart = html.index('id="verdict-text"'), html.index('id="chart-summary"')
    assert verdict < chart < html.index('id="config"') < html.index('id="headline"')
    nav = html.split('<nav class="toc"')[1].split("</nav>")[0]
    links = re.findall(r'href="#([^"]+)"', nav)
    assert {"verdict", "config", "headline", "claims", "charts", "cells", "methods"} <= set(links)
    for target in links:
        assert f'id="{target}"' in html, target
    assert re.search(r"nav\.toc \{[^}]*position: sticky", html)
    # Each part of the paragraph links to a detail that exists.
    for href in re.findall(r'<a href="#([^"]+)" data-ref', html):
        assert f'id="{href}"' in html, href


def test_summary_prints_the_same_verdict_first() -> None:
    result = CliRunner().invoke(summary, [str(AFTER)], terminal_width=80)
    assert result.exit_code == 0, result.output
    first = squash(result.output.split("\n\n")[0])
    assert first.startswith("Verdict (")
    page = Page(write_report_html(AFTER))
    assert squash(page.by_id("verdict-text").text) in first


def write_report_html(folder: Path) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.html"
        write_report([folder], out)
        return out.read_text(encoding="utf-8")
