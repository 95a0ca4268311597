"""Verdict logic: confirmed / not confirmed / depends (naming the flipping configuration)."""

from __future__ import annotations

from twinbench.claims import Better, Check, CheckKind, Claim, Metric
from twinbench.registry import App
from twinbench.verdicts import Figure, Verdict, judge_check, judge_claim

RPS = Check(
    "rps", CheckKind.RATIO, "json", Metric.THROUGHPUT, Better.HIGHER, factor=3.0,
    from_value=2000, to_value=10000,
)  # fmt: skip
P50 = Check("p50", CheckKind.RATIO, "json", Metric.P50, Better.LOWER, factor=2.0)


def fa(name: str, *values: float, load: float | None = None) -> Figure:
    return Figure(name, App.FASTAPI, tuple(values), f"{name} config", load)


def fl(name: str, *values: float, load: float | None = None) -> Figure:
    return Figure(name, App.FLASK, tuple(values), f"{name} config", load)


def test_confirmed_when_every_flask_configuration_misses_by_the_factor() -> None:
    out = judge_check(RPS, [fa("fastapi-uvicorn", 900, 910), fl("sync", 100, 110)])
    assert out.verdict is Verdict.CONFIRMED
    (comp,) = out.comparisons
    assert comp.improvement == (905 / 105)
    assert "plan's figures" in out.text and "2,000 → 10,000" in out.text


def test_depends_names_the_flipping_configuration() -> None:
    figures = [fa("fastapi-uvicorn", 900, 910), fl("sync", 100, 110), fl("gevent", 800, 820)]
    out = judge_check(RPS, figures)
    assert out.verdict is Verdict.DEPENDS
    assert "Holds against sync; flipped by gevent." in out.text


def test_not_confirmed_and_best_fastapi_is_used() -> None:
    figures = [fa("a", 300, 310), fa("b", 200, 190), fl("gevent", 290, 300)]
    out = judge_check(RPS, figures)
    assert out.verdict is Verdict.NOT_CONFIRMED
    assert out.comparisons[0].fastapi.target == "a"


def test_claim_restricted_to_one_flask_configuration_mentions_the_others() -> None:
    check = Check(
        "rps", CheckKind.RATIO, "json", Metric.THROUGHPUT, factor=3.0, flask_targets=("waitress",)
    )
    figures = [fa("fastapi", 900, 900), fl("waitress", 100, 100), fl("gevent", 800, 800)]
    out = judge_check(check, figures)
    assert out.verdict is Verdict.CONFIRMED
    assert "differs for gevent" in out.text


def test_lower_is_better_compares_at_highest_common_load() -> None:
    figures = [
        fa("fastapi", 1.0, 1.0, load=10), fa("fastapi", 2.0, 2.0, load=100),
        fl("sync", 3.0, 3.0, load=10), fl("sync", 3.0, 3.1, load=50),
    ]  # fmt: skip
    out = judge_check(P50, figures)
    (comp,) = out.comparisons
    assert comp.flask.load == 10 and comp.fastapi.load == 10
    assert comp.improvement == 3.0 and out.verdict is Verdict.CONFIRMED


def test_no_data_names_the_scenario() -> None:
    out = judge_check(RPS, [fl("sync", 100, 100)])
    assert out.verdict is Verdict.NO_DATA
    assert "`twinbench run --scenarios json`" in out.text
    absent = judge_check(RPS, [], "all cells invalid")
    assert absent.text.startswith("all cells invalid;") and "--scenarios json" in absent.text


def test_threshold_uses_worst_figure_over_loads_at_least_min_load() -> None:
    check = Check("ws", CheckKind.THRESHOLD, "ws", Metric.P99, below=50.0, min_load=100)
    figures = [
        fa("uv", 10, load=50), fa("uv", 40, load=100), fa("uv", 60, load=200),
        fa("guv", 20, load=200),
    ]  # fmt: skip
    out = judge_check(check, figures)
    assert out.verdict is Verdict.DEPENDS
    assert "uv 60 ms at 200 (over 50 ms)" in out.text
    only_low = judge_check(check, [fa("uv", 10, load=50)])
    assert only_low.verdict is Verdict.NO_DATA and "load ≥ 100" in only_low.text


def test_micro_claim_says_so() -> None:
    check = Check("validation", CheckKind.MICRO, micro_command="make microbench")
    out = judge_check(check, [])
    assert out.verdict is Verdict.MICRO and "make microbench" in out.text


def test_claim_verdict_combines_checks() -> None:
    claim = Claim("c", "s", "f", "w", (RPS, P50))
    confirmed = judge_check(RPS, [fa("a", 900, 900), fl("b", 100, 100)])
    missing = judge_check(P50, [])
    micro = judge_check(Check("m", CheckKind.MICRO, micro_command="x"), [])
    failed = judge_check(RPS, [fa("a", 100, 100), fl("b", 100, 100)])
    assert judge_claim(claim, [confirmed, missing]).verdict is Verdict.CONFIRMED
    assert judge_claim(claim, [micro, missing]).verdict is Verdict.NO_DATA
    assert judge_claim(claim, [micro]).verdict is Verdict.MICRO
    assert judge_claim(claim, [confirmed, failed]).verdict is Verdict.NOT_CONFIRMED


def test_claimed_flask_configuration_missing_is_no_data_but_shows_the_others() -> None:
    check = Check(
        "p50", CheckKind.RATIO, "upstream", Metric.P50, Better.LOWER, factor=10.0,
        flask_targets=("flask-waitress",),
    )  # fmt: skip
    out = judge_check(check, [fa("fastapi", 1.0, 1.0), fl("gevent", 1.1, 1.1)])
    assert out.verdict is Verdict.NO_DATA
    assert "(flask-waitress) has no valid figure" in out.text
    assert "fastapi 1 vs gevent 1.1 ms: 1.10× better" in out.text
