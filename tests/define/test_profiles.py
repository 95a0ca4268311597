"""Profiles: budgets hold by the measured cost model; every scenario is covered."""

from __future__ import annotations

import pytest

from twinbench.define import profiles, scenarios
from twinbench.define.plan import build_plan, estimate_seconds
from twinbench.define.targets import Feature, default_registry
from twinbench.errors import UsageError


@pytest.mark.parametrize("profile", profiles.PROFILES, ids=lambda p: p.name)
def test_estimate_within_budget(profile: profiles.Profile) -> None:
    reg = default_registry()
    targets = reg.select(list(profile.targets or reg.standard_names))
    plan = build_plan(profile, targets, scenarios.CATALOGUE, repeats=profile.repeats, target_cpus=1)
    est = estimate_seconds(plan)
    assert est <= profile.budget_s, f"{profile.name}: {est:.0f} s > {profile.budget_s:.0f} s"
    assert profile.max_seconds > profile.budget_s


def test_smoke_targets_serve_every_feature() -> None:
    reg = default_registry()
    for name in profiles.get("smoke").targets:
        assert all(reg.get(name).supports(f) for f in Feature)


def test_levels_exist_for_known_scenarios_only() -> None:
    known = set(scenarios.scenario_names())
    for p in profiles.PROFILES:
        assert set(p.levels) <= known
        for sc in scenarios.CATALOGUE:
            for level in p.levels_for(sc.name):
                assert level.rate is None or sc.open_model
                assert (level.rate and level.rate > 0) or (level.users and level.users >= 1)


def test_unknown_profile() -> None:
    with pytest.raises(UsageError, match="unknown profile"):
        profiles.get("huge")
