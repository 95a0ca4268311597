"""analysis.trend: what changed between two runs, and the runs' order and machines, on the
recorded run's configuration with one thing changed at a time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from twinbench.analysis.derive import analyse
from twinbench.analysis.headline import headline
from twinbench.analysis.summary import summarise
from twinbench.analysis.trend import MACHINES_NOTE, changes, trend
from twinbench.results.model import RunInfo, RunResults
from twinbench.results.store import load_run

RECORDED = Path(__file__).parents[1] / "data" / "quick-postgres"


@pytest.fixture(scope="module")
def results() -> RunResults:
    return load_run(RECORDED)


def test_nothing_changed_says_nothing(results: RunResults) -> None:
    assert changes(results.run, results.run) == ()


def test_each_kind_of_change_is_named(results: RunResults) -> None:
    run = results.run
    packages = dict(run.packages) | {"fastapi": "99.0", "newpkg": "1.0"}
    other = dataclasses.replace(
        run,
        git=dataclasses.replace(run.git, commit="f" * 40, dirty=False),
        packages=packages,
        machine=dataclasses.replace(run.machine, cpu_model="Other", python="3.12.1"),
        database_kind="sqlite",
        repeats=run.repeats + 2,
        targets=run.targets[1:],
    )
    found = changes(run, other)
    assert found[0] == "machine"
    assert f"commit {run.git.commit[:10]}+dirty → ffffffffff" in found
    assert f"fastapi {run.packages['fastapi']} → 99.0" in found
    assert "newpkg absent → 1.0" in found
    assert f"Python {run.machine.python} → 3.12.1" in found
    assert "database postgres → sqlite" in found
    assert f"repeats {run.repeats} → {run.repeats + 2}" in found
    assert f"targets removed: {run.targets[0].name}" in found


def _at(results: RunResults, started: str, run_id: str, **run: object) -> RunResults:
    info: RunInfo = dataclasses.replace(results.run, started_utc=started, run_id=run_id, **run)  # type: ignore[arg-type]
    return dataclasses.replace(results, run=info)


def test_runs_in_time_order_and_machines_counted(results: RunResults) -> None:
    other_machine = dataclasses.replace(results.run.machine, cpu_model="Other")
    runs = [
        _at(results, "2026-01-03T00:00:00Z", "c"),
        _at(results, "2026-01-01T00:00:00Z", "a"),
        _at(results, "2026-01-02T00:00:00Z", "b", machine=other_machine),
    ]
    indexes = [analyse(r) for r in runs]
    summaries = [summarise(ix, headline(ix), ()) for ix in indexes]
    t = trend(indexes, summaries)
    assert [r.run_id for r in t.runs] == ["a", "b", "c"]
    assert [r.machine_key for r in t.runs] == [0, 1, 0]
    assert t.machines == 2 and t.note == MACHINES_NOTE
    assert t.runs[0].changes == () and t.runs[1].changes == ("machine",)
    # The same results three times: every run's ratio and figure of merit are the same.
    for sc in t.scenarios:
        ratios = {p.figure.ratio if p.figure else None for p in sc.ratios}
        assert len(ratios) == 1, sc.scenario
        for _, _, values in sc.merits:
            assert len(set(values)) == 1
    same = trend([indexes[0]] * 3, [summaries[0]] * 3)
    assert same.note == "" and same.machines == 1
