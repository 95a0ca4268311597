"""A team's own locustfile and target from a config file, end to end with real servers and
real Locust: the file is used unmodified (two User classes, weights, on_start,
catch_response, request names), closed and open model, crossed with a built-in scenario and
a built-in target; requests that 404 make failed cells; a main_request the file never sends
stops the run with one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from runner_support import run_cli

from twinbench.results.model import CellStatus, Driver, ReasonKind
from twinbench.results.store import load_histograms, load_run

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"

CONFIG = """
[[target]]
name = "my-fastapi"
app = "fastapi"
cwd = "app"
command = ["{python}", "-m", "uvicorn", "myapp:app", "--host", "{host}", "--port", "{port}"]

[[scenario]]
name = "shop"
locustfile = "locustfile.py"
users = [3]
main_request = "GET /api/items/{id}"

[[scenario]]
name = "shop-open"
locustfile = "locustfile.py"
rates = [40]
slo_p99_ms = 250

[[scenario]]
name = "gone"
locustfile = "gone.py"
users = [2]

[[claim]]
id = "shop-2x"
text = "The rewrite reads twice as many items"
scenario = "shop"
metric = "throughput"
factor = 2
baseline = "flask"
candidate = "my-fastapi"
"""


def _project(tmp: Path, config: str = CONFIG) -> Path:
    shutil.copy(DATA / "shop_locustfile.py", tmp / "locustfile.py")
    shutil.copy(DATA / "gone_locustfile.py", tmp / "gone.py")
    shutil.copytree(DATA / "app", tmp / "app")
    (tmp / "twinbench.toml").write_text(config)
    return tmp / "twinbench.toml"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("own")
    config = _project(tmp)
    done = run_cli(
        tmp,
        "--profile",
        "smoke",
        "--config",
        str(config),
        "--targets",
        "my-fastapi,fastapi-uvicorn",
        "--scenarios",
        "json,shop,shop-open,gone",
        "--measure-s",
        "0.6",
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "run"


def test_the_files_scenarios_run_unmodified_on_both_kinds_of_target(run_dir: Path) -> None:
    results = load_run(run_dir)
    shop = [c for c in results.cells if c.config.scenario == "shop"]
    assert {c.config.target for c in shop} == {"my-fastapi", "fastapi-uvicorn"}
    for cell in shop:
        assert cell.status is not CellStatus.FAILED, cell.reason
        counts = {r.name: r.count for r in cell.requests}
        # both classes ran (weights 3:1), the on_start request and the tasks, by their names
        assert counts["GET /api/items/{id}"] > 0 and counts["GET /api/items?limit"] > 0
        assert counts["POST /api/items"] > 0
        assert sum(r.failures for r in cell.requests if r.name != "total") == 0
        hists = load_histograms(run_dir, cell.cell_id)
        assert hists is not None and "GET /api/items/{id}" in hists.requests


def test_open_model_counts_from_the_intended_send_time(run_dir: Path) -> None:
    results = load_run(run_dir)
    cells = [c for c in results.cells if c.config.scenario == "shop-open"]
    assert cells and all(c.config.driver is Driver.OPEN and c.config.rate == 40 for c in cells)
    for cell in cells:
        assert cell.open is not None and cell.window is not None
        # the schedule's sends in the window: 40/s over the measured seconds
        assert abs(cell.open.intended - 40 * cell.window.measure_s) <= 2
        total = next(r for r in cell.requests if r.name == "total")
        assert total.count >= cell.open.sent - 2 and total.failures == 0


def test_a_file_target_serves_a_built_in_scenario(run_dir: Path) -> None:
    results = load_run(run_dir)
    cell = next(c for c in results.cells if c.cell_id == "json.my-fastapi.l1.r1")
    assert cell.status is not CellStatus.FAILED, cell.reason
    assert {r.name for r in cell.requests} >= {"GET /json"}
    target = next(t for t in results.run.targets if t.name == "my-fastapi")
    assert target.cwd.endswith("/app") and target.source.endswith("twinbench.toml")


def test_requests_that_fail_make_failed_cells_naming_the_failure(run_dir: Path) -> None:
    results = load_run(run_dir)
    for cell in [c for c in results.cells if c.config.scenario == "gone"]:
        assert cell.status is CellStatus.FAILED
        assert cell.reason_kind is ReasonKind.REQUESTS_FAILED
        total = next(r for r in cell.requests if r.name == "total")
        assert f"{total.failures} of {total.count} requests failed" in cell.reason
        top = max(cell.errors.values())
        assert f"most common ({top}×): GET /orders" in cell.reason and "404" in cell.reason


def test_the_run_stores_what_recomputing_needs(run_dir: Path) -> None:
    results = load_run(run_dir)
    defs = {s.name: s for s in results.run.scenario_defs}
    shop = defs["shop"]
    assert shop.source.endswith("twinbench.toml") and not shop.builtin
    digest = hashlib.sha256((run_dir.parent / "locustfile.py").read_bytes()).hexdigest()
    assert shop.locustfile_sha256 == digest and shop.users == (3,)
    assert defs["shop-open"].rates == (40.0,) and defs["shop-open"].slo_p99_ms == 250
    assert defs["json"].builtin
    assert [c.id for c in results.run.claims] == ["shop-2x"]
    raw = json.loads((run_dir / "run.json").read_text())
    assert raw["schema_version"] == 5


def test_a_main_request_never_sent_stops_the_run_with_the_names_sent(tmp_path: Path) -> None:
    config = _project(tmp_path, CONFIG.replace("GET /api/items/{id}", "GET /api/item/{id}"))
    done = run_cli(
        tmp_path,
        "--profile",
        "smoke",
        "--config",
        str(config),
        "--targets",
        "fastapi-uvicorn",
        "--scenarios",
        "shop",
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("twinbench: error")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "main_request 'GET /api/item/{id}' was not sent" in lines[0]
    assert "'GET /api/items/{id}'" in lines[0] and "'POST /api/items'" in lines[0]
