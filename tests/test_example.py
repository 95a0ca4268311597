"""examples/orders as a team uses it: the wheel built from this checkout in a fresh venv, the
example copied to a folder outside the repository, `twinbench init` into a scratch file
(which must load), a short run of the example's own twinbench.toml on two targets, the
report, and the claim's verdict row and the cells checked against the raw results."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from report_html import Page, squash
from test_install import ROOT, TIMEOUT_S, build_and_install, clean_env

from twinbench.analysis.derive import analyse
from twinbench.analysis.figures import judge_claims
from twinbench.report.model import claims_for
from twinbench.results.store import load_run

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "orders"
TARGETS = ("orders-flask-gevent", "orders-fastapi")


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("example")
    venv = build_and_install(base)
    work = base / "orders"
    shutil.copytree(
        EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", "results")
    )
    return work, clean_env(venv)


def test_init_writes_a_config_that_loads(project: tuple[Path, dict[str, str]]) -> None:
    work, env = project
    _run(
        ["twinbench", "init", "--flask", "orders.wsgi:app", "--fastapi", "orders.asgi:app",
         "--locustfile", "locustfile.py", "-o", "scratch.toml"],
        work, env,
    )  # fmt: skip
    probe = (
        "import json, pathlib; from twinbench.inputs import load_config; "
        "c = load_config(pathlib.Path('scratch.toml')); "
        "print(json.dumps([[t.name for t in c.targets], [s.locustfile for s in c.scenarios]]))"
    )
    names, files = json.loads(_run(["python", "-c", probe], work, env).stdout)
    assert len(names) == 6 and all(n.startswith("orders-") for n in names)
    assert files == [str(work / "locustfile.py")]
    again = subprocess.run(
        ["twinbench", "init", "--flask", "orders.wsgi:app", "--locustfile", "locustfile.py",
         "-o", "scratch.toml"],
        cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert again.returncode == 2 and "--force" in again.stderr


def test_a_short_run_and_its_report_agree_with_the_raw_results(
    project: tuple[Path, dict[str, str]],
) -> None:
    work, env = project
    _run(
        ["twinbench", "run", "--config", "twinbench.toml", "--profile", "quick", "--targets",
         ",".join(TARGETS), "--out", "results/example", "--no-progress"],
        work, env,
    )  # fmt: skip
    _run(["twinbench", "report", "results/example", "-o", "report.html"], work, env)
    folder = work / "results" / "example"
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    page = Page((work / "report.html").read_text(encoding="utf-8"))

    # Cells: 2 targets × 2 levels (users = [8, 32]) × 3 repeats, every one measured (ok or,
    # on a busy machine, invalid): the app served the team's locustfile without failures.
    assert len(cells) == 2 * 2 * 3
    assert Counter(c["config"]["target"] for c in cells) == {t: 6 for t in TARGETS}
    assert {c["status"] for c in cells} <= {"ok", "invalid"}, [c["reason"] for c in cells]
    for c in cells:
        counts = {r["name"]: r for r in c["requests"]}
        assert counts["POST /orders"]["count"] > 0 and counts["POST /orders"]["failures"] == 0
        invalid = counts.get("POST /orders [invalid]")  # 5 % of creates: their 422 is right
        assert invalid is None or invalid["failures"] == 0
        assert {"GET /orders/{id}", "GET /orders?limit&offset"} <= set(counts)
    # the report's every-cell table: each cell once, with its stored status
    rows = {
        r.attrs["data-cell"]: squash(r.text)
        for r in page.by_id("cells").find_all("tr")
        if "data-cell" in r.attrs
    }
    assert set(rows) == {c["cell_id"] for c in cells}
    for c in cells:
        assert c["status"] in rows[c["cell_id"]]

    # The claim's row: the example's own claim, with the verdict its figures give when the
    # raw folder is judged again here (checkout code, the run's stored claim).
    results = load_run(folder)
    assert [c.id for c in results.run.claims] == ["orders-2x", "gevent-p99"]
    outcome, reverse = judge_claims(claims_for([results], ()), analyse(results))
    row = page.by_id("claim-orders-2x")
    badge = next(b for b in row.find_all("span") if b.attrs.get("data-claim") == "orders-2x")
    assert squash(badge.text) == outcome.verdict.value
    # The second claim runs the other way: FastAPI is its baseline, one Flask target its
    # candidate; judged like the first, its ratio reads Flask/FastAPI.
    back = page.by_id("claim-gevent-p99")
    badge = next(b for b in back.find_all("span") if b.attrs.get("data-claim") == "gevent-p99")
    assert squash(badge.text) == reverse.verdict.value
    (check,) = reverse.checks
    assert [(c.baseline.target, c.candidate.target) for c in check.comparisons] == [
        ("orders-fastapi", "orders-flask-gevent")
    ] or check.verdict.value == "no data", check.text
    if check.comparisons:
        assert "Flask/FastAPI" in squash(back.text)
    text = squash(row.text)
    assert "twinbench.toml" in text and "scenario orders, throughput, needs 2×" in text
    # Its figures are the raw cells' POST /orders throughput (mean over valid repeats of the
    # peak level) or, marked ≈, the estimate from CPU time per request.
    for target in TARGETS:
        shown = re.search(rf"{target} (≈ )?([\d,.]+) req/s", text)
        assert shown is not None, (target, text)
        if shown.group(1):
            continue
        valid = [c for c in cells if c["config"]["target"] == target and c["status"] == "ok"]
        per_level: dict[int, list[float]] = {}
        for c in valid:
            r = next(r for r in c["requests"] if r["name"] == "POST /orders")
            w = c["window"]
            secs = (w["t_measure_end_ns"] - w["t_measure_start_ns"]) / 1e9
            per_level.setdefault(c["config"]["load_level"], []).append(r["count"] / secs)
        peak = max(sum(v) / len(v) for v in per_level.values())
        assert float(shown.group(2).replace(",", "")) == pytest.approx(peak, rel=0.01, abs=1)
    # The headline names the scenario, per the claim's request.
    assert "orders" in squash(page.by_id("verdict-text").text)
