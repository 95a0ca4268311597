"""Verdict logic: confirmed / not confirmed / depends (naming the flipping configuration),
significance required, bounds from targets that met no level, and how checks combine."""

from __future__ import annotations

import pytest

from twinbench.analysis.verdicts import (
    MICRO_LABEL,
    Bound,
    Figure,
    MicroFigure,
    Reach,
    Verdict,
    combine,
    judge_check,
    judge_claim,
    judge_micro,
)
from twinbench.define.claims import Check, CheckKind, Claim, measuring_command
from twinbench.define.targets import App
from twinbench.results.metrics import Better, Metric

RPS = Check(
    "rps", CheckKind.RATIO, "json", Metric.THROUGHPUT, Better.HIGHER, factor=3.0,
    from_value=2000, to_value=10000,
)  # fmt: skip
P50 = Check("p50", CheckKind.RATIO, "json", Metric.LATENCY_P50, Better.LOWER, factor=2.0)
CAPACITY = Check("cap", CheckKind.RATIO, "upstream", Metric.CAPACITY, Better.HIGHER, factor=10.0)


def fa(name: str, *values: float, load: float | None = None) -> Figure:
    return Figure(name, App.FASTAPI, tuple(values), f"{name} config", load)


def fl(name: str, *values: float, load: float | None = None) -> Figure:
    return Figure(name, App.FLASK, tuple(values), f"{name} config", load)


def level(name: str, app: App, users: float) -> Figure:
    """A ladder level held in every repeat (exact)."""
    return Figure(name, app, (users,), f"{name} config", exact=True, unit="users")


def below(name: str, app: App, users: float) -> Figure:
    """A target that met no level: capacity below the lowest one."""
    return Figure(name, app, (users,), f"{name} config", bound=Bound.BELOW, exact=True)


def test_confirmed_when_every_flask_configuration_misses_by_the_factor() -> None:
    out = judge_check(RPS, [fa("fastapi-uvicorn", 900, 910, 905), fl("sync", 100, 110, 105)])
    assert out.verdict is Verdict.CONFIRMED
    (comp,) = out.comparisons
    assert comp.improvement == pytest.approx(905 / 105)
    assert comp.ci is not None and comp.ci.significant
    assert "plan's figures" in out.text and "2,000 → 10,000" in out.text


def test_depends_names_the_flipping_configuration() -> None:
    figures = [
        fa("fastapi-uvicorn", 900, 910, 905),
        fl("sync", 100, 110, 105),
        fl("gevent", 800, 820, 810),
    ]
    out = judge_check(RPS, figures)
    assert out.verdict is Verdict.DEPENDS
    assert "Holds against sync; flipped by gevent." in out.text


def test_not_confirmed_and_best_fastapi_is_used() -> None:
    figures = [fa("a", 300, 310), fa("b", 200, 190), fl("gevent", 290, 300)]
    out = judge_check(RPS, figures)
    assert out.verdict is Verdict.NOT_CONFIRMED
    assert out.comparisons[0].candidate.target == "a"


def test_reaching_the_factor_on_noise_is_not_confirmed() -> None:
    """The point estimate is 4x (≥ 3x) but the repeats overlap: the interval spans 1."""
    noisy = [fa("fastapi", 10.0, 10.0, 1000.0), fl("sync", 100.0, 110.0, 90.0)]
    out = judge_check(RPS, noisy)
    (comp,) = out.comparisons
    assert comp.improvement >= 3.0
    assert comp.ci is not None and not comp.ci.significant
    assert comp.reach is Reach.NOT_SIGNIFICANT
    assert out.verdict is Verdict.NOT_CONFIRMED
    assert "not confirmed: no significant difference" in out.text


def test_one_repeat_has_no_interval_and_cannot_confirm() -> None:
    out = judge_check(RPS, [fa("fastapi", 900.0), fl("sync", 100.0, 100.0)])
    assert out.verdict is Verdict.NOT_CONFIRMED
    assert "too few repeats" in out.text


def test_claim_restricted_to_one_flask_configuration_mentions_the_others() -> None:
    check = Check(
        "rps",
        CheckKind.RATIO,
        "json",
        Metric.THROUGHPUT,
        factor=3.0,
        baseline_targets=("waitress",),
    )
    figures = [
        fa("fastapi", 900, 905, 910),
        fl("waitress", 100, 101, 102),
        fl("gevent", 800, 805, 810),
    ]
    out = judge_check(check, figures)
    assert out.verdict is Verdict.CONFIRMED
    assert "differs for gevent" in out.text


def test_lower_is_better_compares_at_highest_common_load() -> None:
    figures = [
        fa("fastapi", 1.0, 1.01, 0.99, load=10), fa("fastapi", 2.0, 2.0, 2.0, load=100),
        fl("sync", 3.0, 3.03, 2.97, load=10), fl("sync", 3.0, 3.1, 3.0, load=50),
    ]  # fmt: skip
    out = judge_check(P50, figures)
    (comp,) = out.comparisons
    assert comp.baseline.load == 10 and comp.candidate.load == 10
    assert comp.improvement == pytest.approx(3.0) and out.verdict is Verdict.CONFIRMED


def test_ladder_levels_are_exact_and_need_no_interval() -> None:
    out = judge_check(CAPACITY, [level("fa", App.FASTAPI, 1024), level("fl", App.FLASK, 8)])
    (comp,) = out.comparisons
    assert comp.ci is not None and not comp.ci.has_interval
    assert comp.improvement == 128 and out.verdict is Verdict.CONFIRMED
    assert "ladder levels, each held in every repeat" in out.text


def test_a_target_below_the_lowest_level_gives_a_lower_bound() -> None:
    """FastAPI holds 256, Flask sync holds < 16: the ratio is at least 16."""
    out = judge_check(CAPACITY, [level("fa", App.FASTAPI, 256), below("sync", App.FLASK, 16)])
    (comp,) = out.comparisons
    assert comp.bound == "at least" and comp.improvement == 16.0
    assert out.verdict is Verdict.CONFIRMED
    assert "sync none (< 16" in out.text and "at least 16.00× better" in out.text
    strict = Check("cap", CheckKind.RATIO, "upstream", Metric.CAPACITY, factor=20.0)
    figures = [level("fa", App.FASTAPI, 256), below("sync", App.FLASK, 16)]
    assert judge_check(strict, figures).verdict is Verdict.INCONCLUSIVE


def test_measured_in_flight_bound_uses_the_least_favourable_repeat() -> None:
    fa_inflight = Figure("fa", App.FASTAPI, (240.0, 250.0, 200.0), "c", unit="in flight")
    out = judge_check(CAPACITY, [fa_inflight, below("sync", App.FLASK, 16)])
    assert out.comparisons[0].improvement == pytest.approx(200.0 / 16)


def test_fastapi_below_the_lowest_level_gives_an_upper_bound() -> None:
    out = judge_check(CAPACITY, [below("fa", App.FASTAPI, 16), level("gevent", App.FLASK, 128)])
    (comp,) = out.comparisons
    assert comp.bound == "at most" and comp.improvement == pytest.approx(16 / 128)
    assert out.verdict is Verdict.NOT_CONFIRMED
    both = judge_check(CAPACITY, [below("fa", App.FASTAPI, 16), below("s", App.FLASK, 16)])
    assert both.verdict is Verdict.INCONCLUSIVE


def test_no_data_names_a_command_that_measures_it() -> None:
    out = judge_check(RPS, [fl("sync", 100, 100)])
    assert out.verdict is Verdict.NO_DATA
    assert f"`{measuring_command(RPS)}`" in out.text
    assert "no valid fastapi figure" in out.text
    absent = judge_check(RPS, [], "all cells invalid")
    assert absent.text.startswith("all cells invalid;") and "--scenarios json" in absent.text


def test_threshold_uses_worst_figure_over_loads_at_least_min_load() -> None:
    check = Check(
        "ws", CheckKind.THRESHOLD, "ws_echo", Metric.LATENCY_P99, below=50.0, min_load=100
    )
    figures = [
        fa("uv", 10, load=50), fa("uv", 40, load=100), fa("uv", 60, load=200),
        fa("guv", 20, load=200),
    ]  # fmt: skip
    out = judge_check(check, figures)
    assert out.verdict is Verdict.DEPENDS
    assert "uv 60 ms at 200 (over 50 ms)" in out.text
    assert {f.target for f in out.figures} == {"uv", "guv"}
    only_low = judge_check(check, [fa("uv", 10, load=50)])
    assert only_low.verdict is Verdict.NO_DATA and "at least 100" in only_low.text


MICRO = Check(
    "validation", CheckKind.MICRO, factor=20.0, baseline=("v1-dict", "v1-json"),
    candidate=("v2-dict", "v2-json"),
)  # fmt: skip


def test_micro_claim_is_judged_on_the_speed_up_with_its_interval() -> None:
    rounds = {
        "v1-dict": (10.0, 10.2, 9.8, 10.1),
        "v2-dict": (1.0, 1.02, 0.98, 1.01),
        "v1-json": (30.0, 30.5, 29.5, 30.2),
        "v2-json": (1.0, 1.01, 0.99, 1.0),
    }
    figures = {n: MicroFigure(n, f"{n} op", r) for n, r in rounds.items()}
    out = judge_micro(MICRO, figures, "4 rounds on CPU 0")
    assert out.verdict is Verdict.DEPENDS  # ~10x from a dict, ~30x from JSON
    dict_speed, json_speed = out.micro
    assert dict_speed.ci.ratio == pytest.approx(sum(rounds["v1-dict"]) / sum(rounds["v2-dict"]))
    assert dict_speed.reach is Reach.MISSES and json_speed.reach is Reach.MEETS
    assert out.text.startswith(MICRO_LABEL) and out.config == "4 rounds on CPU 0"


def test_micro_claim_without_micro_json_names_the_run_that_writes_it() -> None:
    out = judge_micro(MICRO, {}, "")
    assert out.verdict is Verdict.NO_DATA
    assert "no micro-benchmark figures" in out.text and f"`{measuring_command(MICRO)}`" in out.text


def test_claim_verdict_combines_checks() -> None:
    claim = Claim("c", "s", "f", "w", (RPS, P50))
    confirmed = judge_check(RPS, [fa("a", 900, 905, 910), fl("b", 100, 101, 102)])
    missing = judge_check(P50, [])
    failed = judge_check(RPS, [fa("a", 100, 101, 102), fl("b", 100, 101, 100)])
    assert confirmed.verdict is Verdict.CONFIRMED and failed.verdict is Verdict.NOT_CONFIRMED
    # Confirmed where measured, the rest unmeasured: "partly measured", never "confirmed".
    partly = judge_claim(claim, [confirmed, missing])
    assert partly.verdict is Verdict.PARTLY and partly.partly
    assert judge_claim(claim, [confirmed, confirmed]).verdict is Verdict.CONFIRMED
    assert judge_claim(claim, [missing, missing]).verdict is Verdict.NO_DATA
    sunk = judge_claim(claim, [confirmed, failed, missing])
    assert sunk.verdict is Verdict.NOT_CONFIRMED and sunk.partly
    assert combine([Verdict.CONFIRMED, Verdict.DEPENDS]) is Verdict.DEPENDS
    assert combine([Verdict.INCONCLUSIVE, Verdict.NO_DATA]) is Verdict.INCONCLUSIVE


def test_claimed_flask_configuration_missing_is_no_data_but_shows_the_others() -> None:
    check = Check(
        "p50", CheckKind.RATIO, "upstream", Metric.LATENCY_P50, Better.LOWER, factor=10.0,
        baseline_targets=("flask-waitress",),
    )  # fmt: skip
    out = judge_check(check, [fa("fastapi", 1.0, 1.0, 1.0), fl("gevent", 1.1, 1.1, 1.1)])
    assert out.verdict is Verdict.NO_DATA
    assert "(flask-waitress) has no valid figure" in out.text
    assert f"`{measuring_command(check)}`" in out.text
    assert "fastapi 1 ms vs gevent 1.1 ms: 1.10× better" in out.text


def est(name: str, app: App, *values: float) -> Figure:
    """A capacity estimated from CPU time per request (analysis.estimate)."""
    return Figure(name, app, tuple(values), f"{name} config", estimate=True)


def test_estimates_are_compared_only_with_estimates_and_only_when_needed() -> None:
    # FastAPI has no measured peak (every cell load-generator-bound): both sides' estimates.
    figures = [
        est("fastapi-uvicorn", App.FASTAPI, 10_000, 10_200, 9_900),
        fl("gevent", 3_800, 3_850, 3_900),
        est("gevent", App.FLASK, 4_000, 4_050, 4_020),
    ]
    out = judge_check(RPS, figures)
    (comp,) = out.comparisons
    assert comp.candidate.estimate and comp.baseline.estimate  # never estimate vs measurement
    assert comp.improvement == pytest.approx(10_033.3 / 4_023.3, rel=1e-3)
    assert out.verdict is Verdict.NOT_CONFIRMED  # 2.5x misses 3x
    assert "≈ 10,033 req/s" in out.text and "estimated from CPU time per request" in out.text
    # With measured figures on both sides, the estimates are not used.
    measured = [*figures, fa("fastapi-uvicorn", 15_000, 15_100, 15_050)]
    (comp,) = judge_check(RPS, measured).comparisons
    assert not comp.candidate.estimate and not comp.baseline.estimate
    assert comp.improvement == pytest.approx(15_050 / 3_850)


def own(name: str, *values: float) -> Figure:
    return Figure(name, App.CUSTOM, tuple(values), f"{name} config")


def test_a_team_claim_may_put_any_app_on_either_side() -> None:
    """A custom rewrite against FastAPI: Flask's figures take no part, and the text reads
    candidate/baseline by app, not FastAPI/Flask."""
    check = Check(
        "rps", CheckKind.RATIO, "s", Metric.THROUGHPUT, factor=2.0,
        baseline_app=App.FASTAPI, candidate_app=App.CUSTOM,
    )  # fmt: skip
    figures = [own("rust-port", 900, 910, 905), fa("fastapi-uvicorn", 300, 310, 305)]
    figures.append(fl("gevent", 5000, 5100, 5050))  # would sink it if it counted
    out = judge_check(check, figures)
    assert out.verdict is Verdict.CONFIRMED, out.text
    (comp,) = out.comparisons
    assert (comp.baseline.target, comp.candidate.target) == ("fastapi-uvicorn", "rust-port")
    assert "custom/FastAPI" in out.text and "FastAPI/Flask" not in out.text
    # The reverse direction: Flask as the candidate.
    back = Check(
        "rps", CheckKind.RATIO, "s", Metric.THROUGHPUT, factor=2.0,
        baseline_app=App.FASTAPI, candidate_app=App.FLASK,
    )  # fmt: skip
    out = judge_check(back, figures)
    assert out.verdict is Verdict.CONFIRMED and "Flask/FastAPI" in out.text
    assert out.comparisons[0].candidate.target == "gevent"


def test_two_configurations_of_one_app_never_compare_a_target_with_itself() -> None:
    check = Check(
        "rps", CheckKind.RATIO, "json", Metric.THROUGHPUT, factor=1.5,
        baseline_app=App.FASTAPI, candidate_app=App.FASTAPI,
        baseline_targets=("uvicorn",), candidate_targets=("gunicorn-uvicorn",),
    )  # fmt: skip
    figures = [fa("uvicorn", 100, 101, 99), fa("gunicorn-uvicorn", 98, 99, 100)]
    out = judge_check(check, figures)
    assert out.verdict is Verdict.NOT_CONFIRMED, out.text
    (comp,) = out.comparisons
    assert (comp.baseline.target, comp.candidate.target) == ("uvicorn", "gunicorn-uvicorn")
    assert "gunicorn-uvicorn/uvicorn" in out.text
