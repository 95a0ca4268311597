"""The scenario catalogue: one locustfile each, known features, stable order."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinbench import scenarios
from twinbench.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def test_catalogue_names_and_locustfiles() -> None:
    assert scenarios.scenario_names() == [
        "json", "plaintext", "db", "queries", "fortunes", "updates",
        "api", "upstream", "cpu", "sse", "ws_echo", "ws_broadcast",
    ]  # fmt: skip
    for sc in scenarios.CATALOGUE:
        assert (ROOT / sc.locustfile).exists(), sc.locustfile


def test_select_keeps_catalogue_order() -> None:
    assert [s.name for s in scenarios.select(["cpu", "json"])] == ["json", "cpu"]
    assert scenarios.select(None) == scenarios.CATALOGUE
    with pytest.raises(UsageError, match="unknown scenario 'nope'"):
        scenarios.select(["nope"])
