"""Plans: interleaving A B A B, stable ids, unsupported cells in place, the Locust plan JSON."""

from __future__ import annotations

import itertools

import pytest

from twinbench.define import profiles, scenarios
from twinbench.define.plan import build_plan, cell_id, locust_plan
from twinbench.define.targets import default_registry
from twinbench.errors import UsageError
from twinbench.results.model import Driver, LoadModel


def _plan(profile: str = "quick", names: tuple[str, ...] | None = None, repeats: int = 3):
    prof = profiles.get(profile)
    reg = default_registry()
    targets = reg.select(list(names or prof.targets or reg.standard_names))
    return build_plan(prof, targets, scenarios.CATALOGUE, repeats=repeats, target_cpus=1)


def test_targets_interleaved_never_back_to_back() -> None:
    plan = _plan()
    for sp in plan.scenarios:
        order = [c.config.target for c in sp.cells]
        assert all(a != b for a, b in itertools.pairwise(order)), order
        assert order[:3] == ["fastapi-uvicorn", "flask-gunicorn-sync", "flask-gunicorn-gevent"]
        # a ladder climbs: every repeat of a level before the next level; within a level,
        # repeat 1 of everyone before any repeat 2
        keys = [(c.config.load_level, c.config.repeat) for c in sp.cells]
        assert keys == sorted(keys)


def test_ids_stable_unique_and_ordered() -> None:
    a, b = _plan(), _plan()
    assert [c.cell_id for c in a.cells] == [c.cell_id for c in b.cells]
    ids = [c.cell_id for c in a.cells]
    assert len(set(ids)) == len(ids)
    assert [c.order for c in a.cells] == list(range(len(ids)))
    assert cell_id("json", "fastapi-uvicorn", 1, 2) == "json.fastapi-uvicorn.l1.r2"
    # every scenario × level × target × repeat is planned: (12 + 2 upstream levels) × 3 × 3
    assert len(ids) == 14 * 3 * 3


def test_unsupported_recorded_with_registry_reason() -> None:
    plan = _plan()
    ws = next(sp for sp in plan.scenarios if sp.scenario.name == "ws_echo")
    sync = [c for c in ws.cells if c.config.target == "flask-gunicorn-sync"]
    assert len(sync) == 3 and all("sync worker" in c.unsupported for c in sync)
    assert "flask-gunicorn-sync" not in ws.instances
    assert all(c.target != "flask-gunicorn-sync" for c in ws.runnable)


def test_broadcast_runs_one_worker() -> None:
    plan = _plan("full")
    bc = next(sp for sp in plan.scenarios if sp.scenario.name == "ws_broadcast")
    assert all(i.workers == 1 for i in bc.instances.values())
    js = next(sp for sp in plan.scenarios if sp.scenario.name == "json")
    assert js.instances["flask-gunicorn-sync"].workers == 3  # 2 × 1 CPU + 1


def test_step_ladder_and_locust_plan() -> None:
    plan = _plan("full", repeats=1)
    js = next(sp for sp in plan.scenarios if sp.scenario.name == "json")
    assert js.model is LoadModel.STEP
    hosts = {t: f"http://127.0.0.1:{8000 + i}" for i, t in enumerate(js.instances)}
    lp = locust_plan(js, hosts)
    assert lp["schema"] == 1 and lp["scenario"] == "json" and lp["model"] == "closed"
    assert [p["users"] for p in lp["phases"][:: len(hosts)]] == [4, 16, 64]
    assert lp["phases"][0]["host"] == hosts[lp["phases"][0]["id"].split(".")[1]]
    up = next(sp for sp in plan.scenarios if sp.scenario.name == "upstream")
    assert up.driver is Driver.CLOSED and up.model is LoadModel.STEP
    up_plan = locust_plan(up, hosts)
    assert [p["users"] for p in up_plan["phases"][:: len(hosts)]] == [8, 128, 1024]
    assert up_plan["params"] == {"upstream_ms": "50,500,2000"}  # the three waits
    assert up_plan["phases"][0]["warmup_s"] >= 2.0  # a 2 s wait needs a longer warm-up


def test_rates_make_the_open_model_and_profile_params_apply() -> None:
    prof = profiles.get("quick")
    reg = default_registry()
    targets = reg.select(list(prof.targets))
    ladder = (profiles.Level(users=100, rate=50.0), profiles.Level(users=100, rate=200.0))
    plan = build_plan(
        prof,
        targets,
        scenarios.select(["db", "upstream"]),
        repeats=1,
        target_cpus=1,
        levels=ladder,
    )
    db, up = plan.scenarios
    assert db.driver is Driver.OPEN and db.model is LoadModel.STEP
    lp = locust_plan(db, {t: "http://127.0.0.1:1" for t in db.instances})
    assert lp["model"] == "open" and [p["rate"] for p in lp["phases"][:: len(targets)]] == [
        50.0,
        200.0,
    ]
    assert all(c.config.driver is Driver.OPEN for c in db.cells)
    assert up.params == {"upstream_ms": "50,500"}  # quick's shorter waits


def test_streams_refuse_the_open_model_and_ladders_do_not_mix() -> None:
    prof = profiles.get("quick")
    targets = default_registry().select(["fastapi-uvicorn"])
    for names, ladder, match in (
        (["sse"], (profiles.Level(users=10, rate=5.0),), "closed only"),
        (["db"], (profiles.Level(users=10), profiles.Level(users=10, rate=5.0)), "mixes"),
    ):
        with pytest.raises(UsageError, match=match):
            build_plan(
                prof, targets, scenarios.select(names), repeats=1, target_cpus=1, levels=ladder
            )
