"""The claims ledger: the packaged claims.toml keeps every seed claim (docs/seed-claims.md,
the plans' claims as the project received them), and the parser rejects bad data."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from twinbench.cli.run import parse_levels, run
from twinbench.define import profiles, scenarios
from twinbench.define.claims import (
    Check,
    CheckKind,
    measuring_command,
    parse_claims,
    reaches,
)
from twinbench.define.targets import App, default_registry
from twinbench.errors import UsageError
from twinbench.inputs import load_claims
from twinbench.packaged import claims_ledger
from twinbench.results.metrics import Metric
from twinbench.run.micro import CASES

SEED = Path(__file__).parents[2] / "docs" / "seed-claims.md"
EXPECTED_IDS = [
    "json-rps-5x",
    "p50-5x",
    "p99-4x",
    "memory-20pct",
    "db-rps-5x",
    "ws-4x",
    "api-3-5x",
    "concurrency-5x",
    "waitress-users-50x",
    "waitress-latency-10x",
    "upstream-chat-3-5x",
    "pydantic-20x",
    "ws-latency-50ms",
]


def test_ledger_has_every_claim_in_order() -> None:
    claims = load_claims()
    assert [c.id for c in claims] == EXPECTED_IDS
    assert claims_ledger().name == "claims.toml"


def test_wording_and_source_are_kept_verbatim() -> None:
    rows = {}
    for line in SEED.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[a-z][a-z0-9-]+", cells[0]) and cells[0] != "id":
            rows[cells[0]] = cells
    assert sorted(rows) == sorted(EXPECTED_IDS)
    for claim in load_claims():
        _, source, from_to, wording = rows[claim.id]
        assert (claim.source, claim.from_to, claim.wording) == (source, from_to, wording)


def test_pydantic_claim_pairs_v1_and_v2_micro_benchmarks_and_keeps_its_api_part() -> None:
    claim = next(c for c in load_claims() if c.id == "pydantic-20x")
    (micro,) = [c for c in claim.checks if c.kind is CheckKind.MICRO]
    assert micro.factor == 20.0
    assert micro.baseline == ("pydantic-v1-dict", "pydantic-v1-json")
    assert micro.candidate == ("pydantic-v2-dict", "pydantic-v2-json")
    (api,) = [c for c in claim.checks if c.kind is CheckKind.RATIO]
    assert (api.scenario, api.metric, api.factor) == ("api", Metric.THROUGHPUT, 2.0)


def test_every_name_in_the_ledger_exists() -> None:
    """A typo in a scenario, target or micro-benchmark name must fail here, not silently
    turn into "no data in this run"."""
    registry = default_registry()
    micro_names = {name for name, _, _ in CASES}
    for claim in load_claims():
        for check in claim.checks:
            if check.kind is CheckKind.MICRO:
                assert set(check.baseline + check.candidate) <= micro_names, claim.id
                continue
            assert check.scenario is not None
            feature = scenarios.get(check.scenario).feature
            assert scenarios.get(check.scenario).name == check.scenario, claim.id  # no alias
            sides = ((check.baseline_targets, App.FLASK), (check.candidate_targets, App.FASTAPI))
            for names, app in sides:
                for name in names:
                    target = registry.get(name)  # raises on a typo
                    assert target.app is app, (claim.id, name)
                    assert target.supports(feature), (claim.id, name)


def test_a_scenario_typo_fails_when_parsing() -> None:
    with pytest.raises(UsageError, match="unknown scenario 'jsno'"):
        parse_claims(GOOD.replace('scenario = "json"', 'scenario = "jsno"'))


def _levels(command: str) -> tuple[dict[str, object], tuple[profiles.Level, ...] | None]:
    """The options `twinbench run` itself parses from the command (a wrong option fails)."""
    argv = shlex.split(command)
    assert argv[:2] == ["twinbench", "run"], command
    ctx = run.make_context("run", argv[2:])
    params = ctx.params
    levels = parse_levels(params["users"], params["rates"]) if params["users"] else None
    return params, levels


@pytest.mark.parametrize(
    "check",
    [c for claim in load_claims() for c in claim.checks],
    ids=[f"{claim.id}-{i}" for claim in load_claims() for i, _ in enumerate(claim.checks)],
)
def test_the_command_named_for_missing_data_really_measures_the_check(check: Check) -> None:
    params, levels = _levels(measuring_command(check))
    profile = profiles.get(str(params["profile"]))
    if check.kind is CheckKind.MICRO:
        return  # every complete run ends with the micro-benchmarks (micro.json), 15 rounds
    assert profile.repeats >= 3  # fewer repeats give no interval: nothing could be confirmed
    (scenario,) = str(params["scenarios"]).split(",")
    assert scenario == check.scenario
    registry = default_registry()
    feature = scenarios.get(scenario).feature
    targets = str(params["targets"]).split(",") if params["targets"] else list(profile.targets)
    chosen = [registry.get(t) for t in targets or registry.standard_names]
    for name in check.baseline_targets + check.candidate_targets:
        assert name in [t.name for t in chosen], (name, targets)
    sides = {t.app for t in chosen if t.supports(feature)}
    assert App.FASTAPI in sides
    if check.kind is CheckKind.RATIO:
        assert App.FLASK in sides
    ladder = levels if levels is not None else profile.levels_for(scenario)
    assert reaches(check, ladder), (check.what, ladder)


def test_claims_that_need_a_ladder_or_a_load_name_one_that_reaches_it() -> None:
    """waitress-users-50x: full's SSE ladder (10 → 500) spans 50x; ws-latency-50ms: quick's
    100 WebSocket sessions; the API p95 at 100 users: no profile has it, so --users does."""
    by_id = {c.id: c for c in load_claims()}
    assert measuring_command(by_id["waitress-users-50x"].checks[0]) == (
        "twinbench run --profile full --scenarios sse --targets fastapi-uvicorn,flask-waitress"
    )
    ws, api = by_id["ws-latency-50ms"].checks
    assert measuring_command(ws).startswith("twinbench run --profile quick --scenarios ws_echo")
    assert measuring_command(api).endswith("--users 100")
    assert not reaches(
        by_id["waitress-users-50x"].checks[0], profiles.get("quick").levels_for("sse")
    )


def test_every_measurable_check_names_scenario_and_metric() -> None:
    for claim in load_claims():
        for check in claim.checks:
            if check.kind is not CheckKind.MICRO:
                assert check.scenario and isinstance(check.metric, Metric), claim.id


def test_metric_quantile_and_units() -> None:
    assert Metric.LATENCY_P999.quantile == 99.9
    assert Metric.LATENCY_P50.quantile == 50.0
    assert Metric.THROUGHPUT.quantile is None
    assert Metric.TARGET_RSS_MAX.shown_unit == "MB"


GOOD = """
[[claim]]
id = "x"
source = "s"
from_to = "a → b"
wording = "w"
[[claim.check]]
what = "t"
kind = "ratio"
scenario = "json"
metric = "throughput"
factor = 2
"""


def test_parse_minimal() -> None:
    (claim,) = parse_claims(GOOD)
    assert claim.checks[0].factor == 2.0 and claim.scenarios == ("json",)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("factor = 2", "factor = 0"), "factor > 0"),
        (('metric = "throughput"', 'metric = "speed"'), "not one of"),
        (('kind = "ratio"', 'kind = "threshold"'), "needs `below`"),
        (('kind = "ratio"', 'kind = "micro"'), "pairs `baseline` and `candidate`"),
        (('scenario = "json"\n', ""), "needs a scenario"),
        (('id = "x"', 'id = ""'), "missing id"),
        (("factor = 2", 'factor = "2"'), "must be a number"),
    ],
)
def test_parse_rejects(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_claims(GOOD.replace(*edit))


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(UsageError, match="duplicate"):
        parse_claims(GOOD + GOOD)
