"""Older results load: schema 2 folders (tests/data) are upgraded on read, never rewritten,
and a folder newer than this twinbench is refused with one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from twinbench.define import scenarios
from twinbench.errors import UsageError
from twinbench.results import upgrade
from twinbench.results.model import SCHEMA_VERSION, CellStatus, ReasonKind
from twinbench.results.store import load_run

DATA = Path(__file__).parents[1] / "data"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", ["quick-sqlite", "quick-postgres"])
def test_schema_2_loads_upgraded_and_untouched(name: str) -> None:
    folder = DATA / name
    assert json.loads((folder / "run.json").read_text())["schema_version"] == 2
    before = _digest(folder)
    results = load_run(folder)
    assert _digest(folder) == before  # read, never rewritten
    assert results.run.schema_version == SCHEMA_VERSION
    assert [s.name for s in results.run.scenario_defs] == list(results.run.scenarios)
    assert results.run.scenario_defs[0] == scenarios.get(results.run.scenarios[0])
    for cell in results.cells:
        if cell.status is CellStatus.OK:
            assert cell.reason_kind is None
        elif cell.status is CellStatus.UNSUPPORTED:
            assert cell.reason_kind is ReasonKind.UNSUPPORTED
        else:
            assert cell.reason_kind is not None
            assert cell.reason.startswith(cell.reason_kind.value + ":")


def test_unknown_reason_and_scenario_survive() -> None:
    cell = {"status": "invalid", "reason": "some-future-kind: whatever"}
    assert upgrade.upgrade_cell(cell, 2)["reason_kind"] is None
    run = upgrade.upgrade_run({"schema_version": 2, "scenarios": ["json", "gone"]})
    assert run["schema_version"] == SCHEMA_VERSION
    assert [d["name"] for d in run["scenario_defs"]] == ["json", "gone"]
    assert run["scenario_defs"][1]["locustfile"] == "gone.py"


def test_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(DATA / "quick-sqlite", folder)
    raw = json.loads((folder / "run.json").read_text())
    raw["schema_version"] = SCHEMA_VERSION + 1
    (folder / "run.json").write_text(json.dumps(raw))
    with pytest.raises(UsageError, match=r"results schema \d+, this twinbench reads 2 to \d+"):
        load_run(folder)


def test_reason_kinds_compose_the_stored_sentence() -> None:
    kind = ReasonKind.LOAD_GENERATOR_BOUND
    assert kind.reason("Locust 97 % busy") == "load-generator-bound: Locust 97 % busy"
    assert ReasonKind.UNSUPPORTED.reason("no WebSocket") == "no WebSocket"
    assert ReasonKind.TARGET_DIED.target_caused and not kind.target_caused


def test_schema_3_targets_were_started_by_twinbench() -> None:
    run = upgrade.upgrade_run({"schema_version": 3, "targets": [{"name": "a"}]})
    assert run["targets"] == [{"url": "", "pid_file": "", "name": "a"}]
    assert upgrade.upgrade_cell({"cell_id": "c"}, 3) == {"loader_counts": [], "cell_id": "c"}
    # A schema 2 folder goes through both steps: its targets are local, its cells unsplit.
    results = load_run(DATA / "quick-sqlite")
    assert all(t.url == "" and t.resources_measured for t in results.run.targets)
    assert all(c.loader_counts == () for c in results.cells)


def test_schema_4_to_5_every_scenario_built_in_and_no_claims_of_its_own() -> None:
    run = {
        "schema_version": 4,
        "scenarios": ["json"],
        "scenario_defs": [
            {k: v for k, v in upgrade._scenario_def("json").items() if k not in _V5_FIELDS}
        ],
    }
    up = upgrade.upgrade_run(run)
    assert up["schema_version"] == SCHEMA_VERSION and up["claims"] == []
    (sc,) = up["scenario_defs"]
    assert sc["source"] == scenarios.BUILTIN and sc["locustfile_sha256"] == ""
    assert sc["users"] == [] and sc["rates"] == [] and sc["slo_p99_ms"] is None
    cell = {"cell_id": "x", "status": "ok", "reason_kind": None}
    assert upgrade.upgrade_cell(cell, 4) == cell


_V5_FIELDS = {"source", "locustfile_sha256", "users", "rates", "slo_p99_ms"}
