from __future__ import annotations

import pytest

from twinbench.define.gate import GateRule, parse_percent, with_thresholds
from twinbench.errors import UsageError


def test_percentages() -> None:
    assert parse_percent("--min-effect", "5%") == pytest.approx(0.05)
    assert parse_percent("--min-effect", "7.5") == pytest.approx(0.075)
    for bad in ("abc", "0", "-3%", "nan", "inf", "1e9", ""):
        with pytest.raises(UsageError, match="--min-effect"):
            parse_percent("--min-effect", bad)


def test_thresholds_apply() -> None:
    rule = with_thresholds(GateRule(), 0.08, {"p99": "30%/90%", "errors": "1%"})
    cpu, p50, p99, err = rule.thresholds
    assert (cpu.min_effect, cpu.primary) == (pytest.approx(0.08), True)
    assert cpu.detect >= 0.16
    assert (p99.min_effect, p99.detect) == (pytest.approx(0.30), pytest.approx(0.90))
    assert err.min_effect == pytest.approx(0.01)
    assert p50 == GateRule().thresholds[1]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"p98": "5%"}, "unknown metric 'p98'"),
        ({"p99": "30%/20%"}, "must exceed"),
        ({"p50": "x"}, "not a percentage"),
    ],
)
def test_bad_thresholds(overrides: dict[str, str], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        with_thresholds(GateRule(), None, overrides)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"first_pairs": 1}, "at least 2"),
        ({"confirm_pairs": 1}, "at least 2"),
        ({"max_pairs": 3}, "--max-pairs 3"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_rules(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        GateRule(**kwargs)  # type: ignore[arg-type]
