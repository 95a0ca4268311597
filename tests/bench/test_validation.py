"""pytest-benchmark for the "20x faster data validation" claim (pydantic-20x).

That claim is about Pydantic v1 → v2, not about Flask → FastAPI, so it is measured here, in
process: the contract's ItemIn model written once for pydantic.v1 (shipped inside
Pydantic 2, `twinbench.run.micro.ItemInV1`, which the runner's micro.json measures too) and
once for v2 (twinbench.apps.common.models.ItemIn), validating the same payloads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import v1

from twinbench.apps.common.models import ItemIn
from twinbench.run.micro import ItemInV1

pytestmark = pytest.mark.bench

BATCH = 1000
PAYLOAD = {"name": "widget", "price": 9.5, "tags": ["red", "blue", "sale"]}
RAW = json.dumps(PAYLOAD)


def _v1_dict() -> Any:
    for _ in range(BATCH):
        out = ItemInV1.parse_obj(PAYLOAD)
    return out


def _v2_dict() -> Any:
    for _ in range(BATCH):
        out = ItemIn.model_validate(PAYLOAD)
    return out


def _v1_json() -> Any:
    for _ in range(BATCH):
        out = ItemInV1.parse_raw(RAW)
    return out


def _v2_json() -> Any:
    for _ in range(BATCH):
        out = ItemIn.model_validate_json(RAW)
    return out


@pytest.mark.parametrize(
    "fn", [_v1_dict, _v2_dict, _v1_json, _v2_json], ids=["v1-dict", "v2-dict", "v1-json", "v2-json"]
)
def test_validate_item(benchmark: Any, fn: Any) -> None:
    benchmark.group = "pydantic ItemIn validation (per 1000)"
    out = benchmark.pedantic(fn, rounds=20, iterations=1, warmup_rounds=2)
    assert out.name == "widget" and out.tags == ["red", "blue", "sale"]


def test_both_models_refuse_the_same_input() -> None:
    """The v1 model is a faithful twin, or the comparison would mean nothing."""
    bad = [
        {"name": "", "price": 1},
        {"name": "x", "price": -1},
        {"name": "x", "price": 1, "z": 1},
        {"name": "x", "price": 1, "tags": ["t"] * 11},
        {"name": "x", "price": float("inf")},
    ]
    for payload in bad:
        with pytest.raises(v1.ValidationError):
            ItemInV1.parse_obj(payload)
        with pytest.raises(ValueError):
            ItemIn.model_validate(payload)
