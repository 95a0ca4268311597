"""Report I/O: histograms loaded beside the results, the newest run found, atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from twinbench.errors import UsageError
from twinbench.report.build import (
    latest_results_dir,
    load_with_histograms,
    write_atomic,
    write_report,
)

DATA = Path(__file__).parents[1] / "data"
RECORDED = DATA / "quick-sqlite"


def test_histograms_are_loaded_for_measured_cells() -> None:
    results = load_with_histograms(RECORDED)
    measured = [c for c in results.cells if c.window is not None]
    assert measured
    for cell in measured:
        hists = results.histograms[cell.cell_id]
        # "total" and one histogram per request name the cell counted (none when nothing
        # completed: a no-requests cell has only the empty total).
        assert set(hists) == {r.name for r in cell.requests} | {"total"}


def test_latest_results_dir_sorts_by_run_id(tmp_path: Path) -> None:
    for name in ("20250101T000000Z-aaaa", "20250102T000000Z-bbbb", "zz-not-a-run"):
        (tmp_path / name).mkdir()
    for name in ("20250101T000000Z-aaaa", "20250102T000000Z-bbbb"):
        (tmp_path / name / "run.json").write_text("{}")
    assert latest_results_dir(tmp_path).name == "20250102T000000Z-bbbb"
    with pytest.raises(UsageError, match="no results folder"):
        latest_results_dir(tmp_path / "empty")


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.html"
    write_atomic(out, "one")
    write_atomic(out, "two")
    assert out.read_text() == "two"
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


def test_write_report_from_recorded_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RECORDED, run)
    out = tmp_path / "report.html"
    model = write_report([run], out)
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert model.latest.results.run.run_id in html
    assert "<svg" in html  # charts inlined
    assert model.latest.results.micro is not None  # micro.json travels with the run


def test_two_recorded_runs_make_before_and_after(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    model = write_report([DATA / "quick-sqlite", DATA / "quick-postgres"], out)
    assert [v.results.run.database_kind for v in model.runs] == ["sqlite", "postgres"]
    assert model.deltas and 'id="deltas-table"' in out.read_text(encoding="utf-8")
    # Charts are drawn for the run they are shown for, the latest: no time spent unseen.
    assert model.runs[0].charts == () and model.latest.charts


def test_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a twinbench results folder"):
        write_report([tmp_path], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_seed_claims_only_for_built_in_scenarios_run_and_the_runs_own_claims() -> None:
    import dataclasses

    from twinbench.define.claims import Check, CheckKind, Claim
    from twinbench.define.scenarios import Scenario
    from twinbench.define.targets import Feature
    from twinbench.inputs import load_claims
    from twinbench.report.model import claims_for
    from twinbench.results.metrics import Metric
    from twinbench.results.store import load_run

    ledger = load_claims()
    recorded = load_run(Path(__file__).parents[1] / "data" / "quick-sqlite")
    shown = {c.id for c in claims_for([recorded], ledger)}
    ran = set(recorded.run.scenarios)
    for claim in ledger:
        micro = any(k.kind is CheckKind.MICRO for k in claim.checks)
        assert (claim.id in shown) == bool(set(claim.scenarios) & ran or micro), claim.id
    assert "api-3-5x" not in shown and "pydantic-20x" in shown  # api not run; micro was
    own = Scenario("checkout", "/p/l.py", Feature.LOCUSTFILE, Metric.THROUGHPUT, "", source="t")
    check = Check("t", CheckKind.RATIO, "checkout", Metric.THROUGHPUT, factor=3.0)
    mine = Claim("orders-3x", "t", "flask → fastapi", "3x", (check,))
    run = dataclasses.replace(recorded.run, scenario_defs=(own,), claims=(mine,))
    only_own = dataclasses.replace(recorded, run=run)
    assert claims_for([only_own], ledger) == (mine,)
