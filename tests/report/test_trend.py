"""`twinbench report` of three or more folders adds the trend; two keep the before/after deltas.

The runs are copies of the recorded ones (tests/data) in a temporary folder, with their start
time, commit, packages or machine changed in run.json: the figures are the recorded runs',
recomputed here from each copy's raw files, and what changed must be said where it changed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from report.test_first_screen import _deciding, expected_figures
from report.test_recorded import AFTER, BEFORE, _score, read
from report_html import Page, check_interval, parse_ratio, squash

from twinbench.report.build import write_report
from twinbench.report.render import num


def _copy(src: Path, dst: Path, **changes: Any) -> Path:
    shutil.copytree(src, dst)
    run = json.loads((dst / "run.json").read_text())
    for key, value in changes.items():
        if key == "commit":
            run["git"]["commit"] = value
        elif key == "packages":
            run["packages"].update(value)
        elif key == "cpu_model":
            run["machine"]["cpu_model"] = value
        else:
            run[key] = value
    (dst / "run.json").write_text(json.dumps(run))
    return dst


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four runs given out of time order: the SQLite run (oldest), a PostgreSQL copy on
    another machine, then two PostgreSQL copies with a new commit and a new FastAPI."""
    tmp = tmp_path_factory.mktemp("trend")
    fastapi = json.loads((AFTER / "run.json").read_text())["packages"]["fastapi"]
    return [
        _copy(
            AFTER, tmp / "c", started_utc="2026-12-02T09:00:00Z", run_id="20261202T090000Z-c",
            commit="c" * 40, packages={"fastapi": fastapi + ".post1"},
        ),
        _copy(BEFORE, tmp / "first"),
        _copy(
            AFTER, tmp / "a", started_utc="2026-12-02T07:00:00Z", run_id="20261202T070000Z-a",
            cpu_model="Other CPU 9000",
        ),
        _copy(
            AFTER, tmp / "b", started_utc="2026-12-02T08:00:00Z", run_id="20261202T080000Z-b",
            commit="b" * 40,
        ),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def page(runs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    out = tmp_path_factory.mktemp("trend-report") / "r.html"
    write_report(runs, out)
    html = out.read_text(encoding="utf-8")
    return html, Page(html)


def _in_time_order(runs: list[Path]) -> list[Path]:
    return sorted(runs, key=lambda p: json.loads((p / "run.json").read_text())["started_utc"])


def test_runs_are_ordered_by_time_with_what_changed_between_them(
    runs: list[Path], page: tuple[str, Page]
) -> None:
    rows = [r for r in page[1].by_id("trend-runs").find_all("tr") if "data-trend-run" in r.attrs]
    ordered = _in_time_order(runs)
    ids = [json.loads((p / "run.json").read_text())["run_id"] for p in ordered]
    assert [r.attrs["data-trend-run"] for r in rows] == ids
    changed = [squash(r.find_all("td")[-1].text) for r in rows]
    assert changed[0] == "first run"
    # SQLite → PostgreSQL on another machine; back to the first machine with a new commit;
    # a new FastAPI with another commit.
    assert "machine" in changed[1] and "database sqlite → postgres" in changed[1]
    assert "commit" not in changed[1] and "fastapi" not in changed[1]
    assert "machine" in changed[2]
    assert re.search(r"commit \w+\+dirty → bbbbbbbbbb\+dirty", changed[2]), changed[2]
    fastapi = json.loads((AFTER / "run.json").read_text())["packages"]["fastapi"]
    assert f"fastapi {fastapi} → {fastapi}.post1" in changed[3]
    assert "bbbbbbbbbb+dirty → cccccccccc+dirty" in changed[3] and "machine" not in changed[3]


def test_different_machines_are_labelled(page: tuple[str, Page]) -> None:
    html, p = page
    note = squash(p.by_id("trend-machines").text)
    assert "2 different machines" in note
    assert "ratios are comparable, absolute figures are not" in note
    machines = [
        td.attrs["data-machine"]
        for td in p.by_id("trend-runs").find_all("td")
        if "data-machine" in td.attrs
    ]
    assert machines == ["1", "2", "1", "1"]
    assert "ratios comparable, absolute figures not" in html.split('id="chart-trend-ratios"')[1]


def test_trend_ratios_are_each_runs_raw_data_s(runs: list[Path], page: tuple[str, Page]) -> None:
    ordered = _in_time_order(runs)
    table = page[1].by_id("trend-ratios-table")
    rows = {
        r.attrs["data-trend-scenario"]: r
        for r in table.find_all("tr")
        if r.attrs.get("data-trend-scenario")
    }
    checked = 0
    for path in ordered:
        raw = read(path)
        for scenario in raw.run["scenarios"]:
            (cell,) = rows[scenario].find_all("td", run=raw.run_id)
            figures = expected_figures(raw, scenario)
            panel = _deciding(scenario)
            if panel not in figures:
                assert squash(cell.text) == "–"
                continue
            kind, fa, fl = figures[panel]
            assert cell.attrs["data-kind"] == kind
            check_interval(parse_ratio(squash(cell.text).replace("≈ ", "")), fa, fl)
            checked += 1
    assert checked >= 4 * 5


def test_each_targets_figure_of_merit_across_runs(runs: list[Path], page: tuple[str, Page]) -> None:
    ordered = _in_time_order(runs)
    table = page[1].by_id("trend-merits-table")
    rows = {
        r.attrs["data-trend-merit"]: r
        for r in table.find_all("tr")
        if "data-trend-merit" in r.attrs
    }
    checked = 0
    for path in ordered:
        raw = read(path)
        for scenario in raw.run["scenarios"]:
            for t in raw.run["targets"]:
                row = rows.get(f"{scenario}|{t['name']}")
                if row is None:
                    continue
                (cell,) = row.find_all("td", run=raw.run_id)
                score = (
                    _score(raw, scenario, str(t["name"]))
                    if raw.valid(scenario, str(t["name"])).size
                    else None
                )
                shown = squash(cell.text)
                if score is None:
                    assert shown == "–"
                    continue
                assert shown == num(float(abs(score))), (scenario, t["name"], raw.run_id)
                checked += 1
    assert checked >= 4 * 8
    html = page[0]
    for scenario in read(ordered[-1]).run["scenarios"]:
        assert f'id="chart-trend-{scenario}"' in html
    assert 'id="chart-trend-ratios"' in html and 'href="#trend"' in html


def test_two_folders_keep_the_deltas_and_add_no_trend(tmp_path: Path) -> None:
    out = tmp_path / "pair.html"
    write_report([BEFORE, AFTER], out)
    html = out.read_text(encoding="utf-8")
    assert 'id="deltas"' in html and 'id="trend"' not in html


def test_runs_on_one_machine_are_not_labelled(runs: list[Path], tmp_path: Path) -> None:
    same = [p for p in runs if p.name != "a"]
    out = tmp_path / "same.html"
    write_report(same, out)
    html = out.read_text(encoding="utf-8")
    assert 'id="trend"' in html and 'id="trend-machines"' not in html
    assert "absolute figures not" not in html
