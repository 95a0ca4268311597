"""The report of the recorded runs (tests/data: quick-sqlite before, quick-postgres after),
checked against the raw files: every number recomputed here with pandas (metrics.csv), hdrh
(hist/*.json) and numpy, never hard-coded, so the folders can be re-recorded."""

from __future__ import annotations

import json
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hdrh.histogram import HdrHistogram
from report_html import Element, Page, check_interval, parse_ratio, significance_of, squash

from twinbench.analysis.validity import LOADER_BUSY_LIMIT
from twinbench.define import scenarios
from twinbench.report.build import write_report
from twinbench.report.render import num
from twinbench.results.metrics import Metric

DATA = Path(__file__).parents[1] / "data"
BEFORE, AFTER = DATA / "quick-sqlite", DATA / "quick-postgres"
MEGABYTE = 1e6  # the report's "MB" is decimal, as the plans' "150 MB → 120 MB"


@dataclass(frozen=True)
class Raw:
    """One recorded folder, read with nothing from twinbench."""

    path: Path
    run: dict[str, Any]
    cells: list[dict[str, Any]]
    df: pd.DataFrame
    summary: dict[str, Any]
    micro: dict[str, Any] | None

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def app(self, target: str) -> str:
        return next(str(t["app"]) for t in self.run["targets"] if t["name"] == target)

    def main_request(self, scenario: str) -> str:
        suffix = scenarios.get(scenario).main_request
        if suffix is None:
            return "total"
        names = self.df[(self.df.scenario == scenario)].request.unique()
        return next(n for n in sorted(names) if n.endswith(suffix))

    def valid(self, scenario: str, target: str) -> pd.DataFrame:
        d = self.df
        return d[(d.scenario == scenario) & (d.target == target) & d.valid]

    def repeats(self, scenario: str, target: str, level: int, metric: str) -> list[float]:
        """One metric over a level's valid repeats, in repeat order (cpu/memory: total)."""
        request = self.main_request(scenario) if metric == "throughput" else "total"
        v = self.valid(scenario, target)
        rows = v[(v.load_level == level) & (v.metric == metric) & (v.request == request)]
        return [float(x) for x in rows.sort_values("repeat").value]

    def percentile(self, scenario: str, target: str, level: int, q: float) -> list[float]:
        """hdrh's own percentile of each valid repeat's stored histogram, in ms."""
        request = self.main_request(scenario)
        out = []
        v = self.valid(scenario, target)
        ids = v[v.load_level == level].drop_duplicates("cell_id").sort_values("repeat").cell_id
        for cell_id in ids:
            stored = json.loads((self.path / "hist" / f"{cell_id}.json").read_text())
            enc = stored["total"] if request == "total" else stored["requests"][request]
            out.append(HdrHistogram.decode(enc.encode()).get_value_at_percentile(q) / 1000.0)
        return out

    def figure(self, scenario: str, target: str, level: int, key: str) -> list[float]:
        if key == "latency_p50":
            return self.percentile(scenario, target, level, 50)
        if key == "latency_p99":
            return self.percentile(scenario, target, level, 99)
        scale = MEGABYTE if key == "target_rss_max" else 1.0
        return [x / scale for x in self.repeats(scenario, target, level, key)]

    def valid_levels(self, scenario: str, target: str) -> set[int]:
        return {int(x) for x in self.valid(scenario, target).load_level.unique()}

    def estimate(self, scenario: str, target: str) -> list[float]:
        """Capacity estimated from CPU µs per request (req/s per repeat) at the highest level
        whose cells are valid or only load-generator-bound; [] when there is none."""
        d = self.df
        usable = d[
            (d.scenario == scenario)
            & (d.target == target)
            & (d.metric == "cpu_per_request")
            & (d.valid | d.reason.fillna("").str.startswith("load-generator-bound"))
        ]
        if usable.empty:
            return []
        top = usable[usable.load_level == usable.load_level.max()].sort_values("repeat")
        cpus = len(self.run["pinning"]["target_cpus"])
        return [cpus * 1e6 / float(v) for v in top.value]

    def loader_bound(self, scenario: str, target: str) -> bool:
        d = self.df
        rows = d[(d.scenario == scenario) & (d.target == target)]
        return bool(rows.reason.fillna("").str.startswith("load-generator-bound").any())


def read(path: Path) -> Raw:
    lines = (path / "cells.jsonl").read_text().splitlines()
    micro = path / "micro.json"
    return Raw(
        path,
        json.loads((path / "run.json").read_text()),
        [json.loads(line) for line in lines if line.strip()],
        pd.read_csv(path / "metrics.csv"),
        json.loads((path / "complete.json").read_text()),
        json.loads(micro.read_text()) if micro.exists() else None,
    )


@pytest.fixture(scope="module")
def raw() -> tuple[Raw, Raw]:
    return read(BEFORE), read(AFTER)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Page]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report([BEFORE, AFTER], out)
    return out, Page(out.read_text(encoding="utf-8"))


# -- the headline ----------------------------------------------------------------------------
def _score(raw: Raw, scenario: str, target: str) -> float | None:
    """The target's figure of merit, recomputed: peak throughput, lowest p99, or the requests
    in flight held at its capacity (complete.json's level, valid repeats' `inflight`)."""
    merit = scenarios.get(scenario).merit
    if merit is Metric.INFLIGHT:
        cap = next(
            c
            for c in raw.summary["capacities"]
            if (c["scenario"], c["target"]) == (scenario, target)
        )
        if cap["load_level"] is None:
            return None
        v = raw.valid(scenario, target)
        rows = v[
            (v.load_level == cap["load_level"]) & (v.metric == "inflight") & (v.request == "total")
        ]
        return float(rows.value.mean())
    metric = "latency_p99" if merit is Metric.LATENCY_P99 else "throughput"
    best = None
    for level in raw.valid_levels(scenario, target):
        if metric == "throughput":
            vals = raw.repeats(scenario, target, level, "throughput")
        else:
            v = raw.valid(scenario, target)
            rows = v[(v.load_level == level) & (v.metric == metric)]
            vals = list(rows[rows.request == raw.main_request(scenario)].value)
        if vals:
            mean = float(np.mean(vals))
            higher = metric == "throughput"
            if best is None or (mean > best if higher else mean < best):
                best = mean
    return -best if best is not None and metric != "throughput" else best


def _best(raw: Raw, scenario: str, app: str) -> str | None:
    targets = [
        str(t["name"])
        for t in raw.run["targets"]
        if t["app"] == app and raw.valid(scenario, str(t["name"])).size
    ]
    scored = [(s, t) for t in targets if (s := _score(raw, scenario, t)) is not None]
    if not scored:  # no merit figure: by throughput
        scored = [
            (
                max(
                    float(np.mean(raw.repeats(scenario, t, lv, "throughput")))
                    for lv in raw.valid_levels(scenario, t)
                ),
                t,
            )
            for t in targets
        ]
    return max(scored)[1] if scored else None


def _headline_rows(page: Page) -> dict[str, Element]:
    table = page.by_id("headline-table")
    return {b.attrs["data-scenario"]: b for b in table.find_all("tbody")}


def _cell(block: Element, metric: str, side: str) -> str:
    (el,) = block.find_all(metric=metric, side=side)
    return squash(el.text)


COLUMNS = ("throughput", "latency_p50", "latency_p99", "cpu_per_request", "target_rss_max")


def test_headline_numbers_are_the_raw_data_s(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    """Throughput, p50, p99, CPU µs/request and memory (MB) of the best Flask and best FastAPI
    target, and their ratio with its interval, recomputed from the latest run's files."""
    after = raw[1]
    rows = _headline_rows(report[1])
    assert set(rows) == {str(s) for s in after.run["scenarios"]}
    compared = 0
    for scenario, block in rows.items():
        fl, fa = _best(after, scenario, "flask"), _best(after, scenario, "fastapi")
        levels = (
            (after.valid_levels(scenario, fl) & after.valid_levels(scenario, fa))
            if fl and fa
            else set()
        )
        if not levels:
            if _estimated(after, scenario, block):
                compared += 1
                continue
            assert block.find_all(side="ratio") == [], scenario
            assert "no valid cells" in squash(block.text) or "no common valid load" in squash(
                block.text
            )
            continue
        level = max(levels)
        assert fl in _cell_text(block, "flask-config") and fa in _cell_text(block, "fastapi-config")
        for key in COLUMNS:
            flask = after.figure(scenario, fl, level, key)
            fastapi = after.figure(scenario, fa, level, key)
            assert _cell(block, key, "flask") == num(float(np.mean(flask))), (scenario, key)
            assert _cell(block, key, "fastapi") == num(float(np.mean(fastapi))), (scenario, key)
            check_interval(parse_ratio(_cell(block, key, "ratio")), fastapi, flask)
            expected = significance_of(fastapi, flask)
            if expected is not None:
                assert _cell(block, key, "significance").startswith(expected), (scenario, key)
            compared += 1
    assert compared >= len(COLUMNS)  # at least one scenario has both sides in the recording


def _estimated(raw: Raw, scenario: str, block: Element) -> bool:
    """A row without a common valid level compares estimated capacities when a side was
    load-generator-bound (analysis.estimate): each app's best estimate, recomputed here."""
    best = {}
    for app in ("flask", "fastapi"):
        found = [
            (float(np.mean(e)), str(t["name"]), e)
            for t in raw.run["targets"]
            if t["app"] == app and (e := raw.estimate(scenario, str(t["name"])))
        ]
        best[app] = max(found) if found else None
    fl, fa = best["flask"], best["fastapi"]
    if (
        fl is None
        or fa is None
        or not (raw.loader_bound(scenario, fl[1]) or raw.loader_bound(scenario, fa[1]))
    ):
        return False
    assert "estimated" in squash(block.text).lower(), scenario
    (row,) = [r for r in block.find_all("tr") if r.attrs.get("data-estimate") == "true"]
    assert "estimated capacity" in squash(row.text)
    assert _cell(block, "throughput", "flask") == "≈ " + num(fl[0])
    assert _cell(block, "throughput", "fastapi") == "≈ " + num(fa[0])
    check_interval(parse_ratio(_cell(block, "throughput", "ratio")), fa[2], fl[2])
    assert fl[1] in _cell_text(block, "flask-config") and fa[1] in _cell_text(
        block, "fastapi-config"
    )
    return True


def _cell_text(block: Element, side: str) -> str:
    (el,) = block.find_all(side=side)
    return squash(el.text)


def test_each_headline_row_carries_its_targets_configuration(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    after = raw[1]
    targets = {t["name"]: t for t in after.run["targets"]}
    cpus = ",".join(map(str, after.run["pinning"]["target_cpus"]))
    for scenario, block in _headline_rows(report[1]).items():
        for side in ("flask-config", "fastapi-config"):
            found = block.find_all(side=side)
            if not found:
                continue
            text = squash(found[0].text)
            name = text.split(" ")[0]
            t = targets[name]
            workers = f"{t['workers']} worker{'s' if t['workers'] != 1 else ''}"
            for part in (
                t["server"],
                t["worker_model"],
                workers,
                f"db pool {t['db_pool_size']}",
                f"CPUs {cpus}",
            ):
                assert str(part) in text, (scenario, side, part)


# -- the deltas and both runs' configuration ------------------------------------------------
def test_deltas_compare_the_two_recorded_runs(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    before, after = raw
    page = report[1]
    heading = squash(page.by_id("deltas").text)
    assert before.run_id in heading and after.run_id in heading
    rows = {
        r.attrs["data-delta"]: r
        for r in page.by_id("deltas-table").find_all("tr")
        if "data-delta" in r.attrs
    }
    expected = set()
    for scenario in after.run["scenarios"]:
        for target in {str(t["name"]) for t in after.run["targets"]}:
            common = before.valid_levels(scenario, target) & after.valid_levels(scenario, target)
            if not common:
                continue
            level = max(common)
            for key in COLUMNS:
                x, y = (
                    before.figure(scenario, target, level, key),
                    after.figure(scenario, target, level, key),
                )
                if not x or not y:
                    continue
                expected.add(f"{scenario}|{target}|{key}")
                cells = [
                    squash(td.text) for td in rows[f"{scenario}|{target}|{key}"].find_all("td")
                ]
                assert cells[4] == num(float(np.mean(x))) and cells[5] == num(float(np.mean(y)))
                check_interval(parse_ratio(cells[6]), y, x)
    assert set(rows) == expected and expected


def test_both_runs_configuration_is_shown(raw: tuple[Raw, Raw], report: tuple[Path, Page]) -> None:
    """Commit, packages, machine and database of the run before *and* the run after."""
    table = report[1].by_id("config-table")
    for r in raw:
        column = {
            row.attrs["data-config"]: squash(row.find_all("td", run=r.run_id)[0].text)
            for row in table.find_all("tr")
            if "data-config" in row.attrs
        }
        assert column["run"] == r.run_id
        assert column["git commit"].startswith(str(r.run["git"]["commit"]))
        assert column["database"] == f"{r.run['database_kind']}: {r.run['database']}"
        machine = r.run["machine"]
        assert str(machine["cpu_model"]) in column["machine"]
        assert f"{machine['logical_cpus']} logical" in column["machine"]
        packages = next(v for k, v in column.items() if k.startswith("packages"))
        assert packages == ", ".join(f"{k} {v}" for k, v in sorted(r.run["packages"].items()))
    marked = {
        r.attrs["data-config"] for r in table.find_all("tr") if r.attrs.get("class") == "diff"
    }
    assert "database" in marked  # sqlite → postgres: marked as what changed
    assert not marked & {"run", "started", "command"}  # identity, different by nature
    assert "database" in squash(report[1].by_id("deltas").text.split("Same target")[0])


# -- every cell, the ceiling, the capacities, the claims ------------------------------------
def test_every_planned_cell_appears_with_its_status(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    page = report[1]
    for r in raw:
        (table,) = page.root.find_all("table", run=r.run_id)
        rows = {tr.attrs["data-cell"]: tr for tr in table.find_all("tr") if "data-cell" in tr.attrs}
        planned = [c["cell_id"] for c in r.run["cells"]]
        assert list(rows) == planned  # every planned cell, in run order
        for cell in r.cells:
            tds = [squash(td.text) for td in rows[str(cell["cell_id"])].find_all("td")]
            assert tds[1] == cell["status"]
            grey = rows[str(cell["cell_id"])].attrs.get("class") == "invalid"
            assert grey == (cell["status"] != "ok")
            assert tds[-1] == squash(str(cell["reason"]))


def test_a_cell_the_run_never_finished_is_listed_as_not_run(tmp_path: Path) -> None:
    run = tmp_path / "crashed"
    shutil.copytree(AFTER, run)
    lines = (run / "cells.jsonl").read_text().splitlines(keepends=True)
    (run / "cells.jsonl").write_text("".join(lines[:-4]))
    (run / "complete.json").unlink()
    out = tmp_path / "r.html"
    write_report([run], out)
    page = Page(out.read_text(encoding="utf-8"))
    rows = {tr.attrs["data-cell"]: tr for tr in page.root.find_all("tr") if "data-cell" in tr.attrs}
    for line in lines[-4:]:
        tds = [squash(td.text) for td in rows[json.loads(line)["cell_id"]].find_all("td")]
        assert tds[1] == "not run" and "before this cell finished" in tds[-1]


def test_methods_state_the_loader_ceiling_this_run_measured(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    after, page = raw[1], report[1]
    methods = squash(page.by_id("methods").text)
    total = (
        after.df[after.df.request == "total"]
        .pivot_table(index=["cell_id", "scenario", "valid"], columns="metric", values="value")
        .reset_index()
    )
    valid = total[total.valid]
    assert f"used {num(valid.loader_cpu_util.max() * 100)} % of the CPU" in methods
    assert f"at most {num(valid.loader_cpus_busy.max() * 100)} % busy" in methods
    saturated = total[total.loader_cpu_util >= LOADER_BUSY_LIMIT]
    spans = {
        s.attrs["data-ceiling"]: squash(s.text)
        for s in page.by_id("methods").find_all("span")
        if "data-ceiling" in s.attrs
    }
    assert set(spans) == set(saturated.scenario)
    for scenario, g in saturated.groupby("scenario"):
        best = g.loc[g.throughput.idxmax()]
        assert (
            f"{best.throughput:,.0f} req/s" in spans[scenario] and best.cell_id in spans[scenario]
        )
        assert "ran out of CPU" in spans[scenario]


def test_capacity_table_lists_every_target_in_flight_or_below_the_lowest_level(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    after, page = raw[1], report[1]
    rows = {
        tr.attrs["data-capacity"]: [squash(td.text) for td in tr.find_all("td")]
        for tr in page.by_id("capacity-table").find_all("tr")
        if "data-capacity" in tr.attrs
    }
    caps = after.summary["capacities"]
    assert set(rows) == {f"{c['scenario']}|{c['target']}" for c in caps}
    for c in caps:
        shown = rows[f"{c['scenario']}|{c['target']}"][2]
        if c["load_level"] is None:
            assert shown.startswith(("none (below the lowest level", "unknown")), shown
            continue
        v = after.valid(c["scenario"], c["target"])
        inflight = v[
            (v.load_level == c["load_level"]) & (v.metric == "inflight") & (v.request == "total")
        ].value.mean()
        assert shown.startswith(f"{num(float(inflight))} requests in flight"), shown


def test_pydantic_claim_shows_the_micro_benchmark_speed_up(
    raw: tuple[Raw, Raw], report: tuple[Path, Page]
) -> None:
    after, page = raw[1], report[1]
    assert after.micro is not None
    rounds = {b["name"]: b["round_us"] for b in after.micro["benchmarks"]}
    text = squash(page.by_id("claim-pydantic-20x").text)
    assert "in-process micro-benchmark, not an HTTP figure" in text
    for kind in ("dict", "json"):
        v1, v2 = rounds[f"pydantic-v1-{kind}"], rounds[f"pydantic-v2-{kind}"]
        speed_up = statistics.fmean(v1) / statistics.fmean(v2)
        shown = text.split(f"{speed_up:.2f}× faster (")[1].split(";")[0]
        check_interval(parse_ratio(shown), v1, v2)
    assert "scenario api" in text  # the "2–3x faster API throughput" part, from HTTP


def test_every_threshold_figure_is_printed_with_its_configuration(
    report: tuple[Path, Page],
) -> None:
    """ws-latency-50ms's WebSocket part is a threshold: each figure judged names its target's
    configuration (server, workers, CPUs), like the ratio checks' comparisons."""
    (check,) = report[1].by_id("claim-ws-latency-50ms").find_all("p", check="1")
    judged = squash(check.text).count(" (within ") + squash(check.text).count(" (over ")
    spans = [squash(s.text) for s in check.find_all("span") if "data-figure-config" in s.attrs]
    assert len(spans) == judged
    for span in spans:
        assert " at " in span and "worker" in span and "CPUs" in span, span


def test_the_report_is_well_under_its_size_budget(report: tuple[Path, Page]) -> None:
    """The quick profile's report (two runs here) must stay ≤ 5 MB; this is not timed
    (`make report-bench` measures the 20 s budget on an idle machine)."""
    assert report[0].stat().st_size < 2.5e6
