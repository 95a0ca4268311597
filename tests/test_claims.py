"""The claims ledger: docs/claims.toml keeps every seed claim, and the parser rejects bad data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twinbench.claims import CheckKind, Metric, default_claims_path, load_claims, parse_claims
from twinbench.errors import UsageError

SEED = Path("/work/shared/seed-claims.md")
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
    assert default_claims_path().name == "claims.toml"


@pytest.mark.skipif(not SEED.exists(), reason="the seed file lives outside the repository")
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


def test_pydantic_claim_is_micro_level_and_names_microbench() -> None:
    claim = next(c for c in load_claims() if c.id == "pydantic-20x")
    micro = [c for c in claim.checks if c.kind is CheckKind.MICRO]
    assert micro and micro[0].micro_command == "make microbench"


def test_every_measurable_check_names_scenario_and_metric() -> None:
    for claim in load_claims():
        for check in claim.checks:
            if check.kind is not CheckKind.MICRO:
                assert check.scenario and isinstance(check.metric, Metric), claim.id


def test_metric_quantile_and_units() -> None:
    assert Metric.P999.quantile == 99.9
    assert Metric.P50.quantile == 50.0
    assert Metric.THROUGHPUT.quantile is None
    assert Metric.MEMORY.unit == "MB"


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
