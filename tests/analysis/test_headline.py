"""Headline: the right targets, at a common valid load, with numbers that match the raw data."""

from __future__ import annotations

import dataclasses

import pytest
from report_synth import write_synthetic

from twinbench.analysis.derive import analyse
from twinbench.analysis.headline import (
    best_target,
    common_level,
    headline,
    target_config_text,
)
from twinbench.analysis.histograms import decode
from twinbench.analysis.stats import ratio_ci
from twinbench.define.targets import App
from twinbench.report.build import load_with_histograms
from twinbench.results.model import CellStatus, Driver, ReasonKind, RunResults


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> RunResults:
    return load_with_histograms(write_synthetic(tmp_path_factory.mktemp("synth") / "run"))


def test_best_targets_follow_throughput(synth: RunResults) -> None:
    index = analyse(synth)
    assert best_target(index, "json", App.FLASK) == "flask-gunicorn-gevent"
    assert best_target(index, "json", App.FASTAPI) == "fastapi-uvicorn"


def test_invalid_level_is_not_a_common_level(synth: RunResults) -> None:
    index = analyse(synth)
    # flask-gunicorn-sync's level 2 of json is load-generator-bound in the synthetic run
    assert index.valid_levels("json", "flask-gunicorn-sync") == [1]
    assert common_level(index, "json", "flask-gunicorn-sync", "fastapi-uvicorn") == 1
    assert common_level(index, "json", "flask-gunicorn-gevent", "fastapi-uvicorn") == 2


def test_headline_p99_is_recomputable_from_stored_histograms(synth: RunResults) -> None:
    row = next(r for r in headline(analyse(synth)) if r.scenario == "json")
    assert row.level == 2 and row.load == "16 users"
    p99 = next(v for v in row.values if v.metric.value == "latency_p99")
    for side, target in (("flask", row.flask_target), ("fastapi", row.fastapi_target)):
        cells = [c for c in synth.cells if c.cell_id.startswith(f"json.{target}.l2.")]
        per_repeat = [
            decode(synth.histograms[c.cell_id]["total"]).get_value_at_percentile(99) / 1000
            for c in cells
        ]
        assert getattr(p99, side) == pytest.approx(sum(per_repeat) / len(per_repeat))
        if side == "flask":
            flask_reps = per_repeat
        else:
            fastapi_reps = per_repeat
    assert p99.ci == ratio_ci(fastapi_reps, flask_reps)


def test_ws_figures_come_from_the_round_trip_not_the_handshake(synth: RunResults) -> None:
    index = analyse(synth)
    assert index.request_for("ws_echo") == "WS ws-echo rtt"
    assert index.request_for("json") == "total"
    cell = next(c for c in synth.cells if c.cell_id == "ws_echo.fastapi-uvicorn.l1.r1")
    row = next(r for r in headline(analyse(synth)) if r.scenario == "ws_echo")
    tput = next(v for v in row.values if v.metric.value == "throughput")
    assert index.value(cell, "throughput", "WS ws-echo rtt") != index.value(cell, "throughput")
    reps = index.repeats("ws_echo", "fastapi-uvicorn", 1, "throughput", "WS ws-echo rtt")
    assert tput.fastapi == pytest.approx(sum(reps) / len(reps))


def test_a_side_without_valid_cells_is_explained(synth: RunResults) -> None:
    cells = tuple(
        dataclasses.replace(
            c,
            status=CellStatus.FAILED,
            reason=ReasonKind.TARGET_DIED.reason("exit 1"),
            reason_kind=ReasonKind.TARGET_DIED,
        )
        if c.config.scenario == "json" and c.config.app == "fastapi"
        else c
        for c in synth.cells
    )
    row = next(
        r
        for r in headline(analyse(dataclasses.replace(synth, cells=cells)))
        if r.scenario == "json"
    )
    assert row.values == ()
    assert (
        row.note
        == "no valid cells for FastAPI (4 × failed: target-died; 2 × invalid: load-generator-bound)"
    )


def test_config_text_names_server_workers_and_pinning(synth: RunResults) -> None:
    text = target_config_text(synth, "flask-gunicorn-sync")
    assert text == "gunicorn sync, 3 workers, db pool 1, CPUs 0"


def test_per_request_figures_follow_the_catalogue_s_main_request(synth: RunResults) -> None:
    """One source of truth: Scenario.main_request (the old duplicate mapping is gone)."""
    import twinbench.analysis.headline as module
    from twinbench.define import scenarios

    assert not hasattr(module, "MAIN_REQUEST")
    index = analyse(synth)
    for sc in scenarios.CATALOGUE:
        if sc.name not in synth.run.scenarios:
            continue
        expected = "total"
        if sc.main_request is not None:
            names = {n for h in synth.histograms.values() for n in h}
            expected = next(n for n in sorted(names) if n.endswith(sc.main_request))
        assert index.request_for(sc.name) == expected, sc.name


def test_in_flight_merit_picks_the_target_by_capacity_not_by_queued_requests(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A queueing target has as many requests "in flight" as users, all waiting: the upstream
    scenario's best target is the one holding most within the SLO (its capacity)."""
    from twinbench.results.model import Capacity, RunSummary

    results = load_with_histograms(write_synthetic(tmp_path_factory.mktemp("c") / "run"))
    cells = tuple(
        dataclasses.replace(c, config=dataclasses.replace(c.config, scenario="upstream"))
        if c.config.scenario == "json"
        else c
        for c in results.cells
        if c.config.scenario != "upstream"
    )
    metrics = tuple(
        dataclasses.replace(m, scenario="upstream") if m.scenario == "json" else m
        for m in results.metrics
        if m.scenario != "upstream"
    )
    # The sync target queues: the most in flight at any level, but no level within the SLO.
    extra = tuple(
        dataclasses.replace(m, metric="inflight", value=1000.0 if "sync" in m.target else 10.0)
        for m in metrics
        if m.scenario == "upstream" and m.metric == "throughput" and m.request == "total"
    )
    d = Driver.CLOSED
    caps = (
        Capacity("flask-gunicorn-sync", "upstream", d, None, None, None, None, None, "over"),
        Capacity("flask-gunicorn-gevent", "upstream", d, 2, 16, None, 1.0, 1.0, "", 10.0),
        Capacity("fastapi-uvicorn", "upstream", d, 2, 16, None, 1.0, 1.0, "", 10.0),
    )
    assert results.summary is not None
    changed = dataclasses.replace(
        results,
        cells=cells,
        metrics=metrics + extra,
        summary=RunSummary(results.run.run_id, "", 1.0, "", {}, caps),
    )
    assert best_target(analyse(changed), "upstream", App.FLASK) == "flask-gunicorn-gevent"


def test_config_text_of_a_team_target_has_no_twin_pool(synth: RunResults) -> None:
    """TWINBENCH_DB_POOL sizes the twins' pools; a team's own app sizes its own."""
    own = dataclasses.replace(synth.run.targets[0], name="orders", source="twinbench.toml")
    run = dataclasses.replace(synth.run, targets=(*synth.run.targets, own))
    text = target_config_text(dataclasses.replace(synth, run=run), "orders")
    assert "db pool" not in text and text.endswith("CPUs 0"), text
