"""pytest-benchmark: in-process handling of /json, /db and POST /api/items, both twins.

A benchmark, not a timed test: `make microbench` runs it with timing; under `make test`
(--benchmark-disable) each body runs once, which checks the drivers still work.
Each measured call handles BATCH (100) requests: divide the reported times by 100.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BATCH, ITEM

pytestmark = pytest.mark.bench


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [("GET", "/json", b"", 200), ("GET", "/db", b"", 200), ("POST", "/api/items", ITEM, 201)],
    ids=["json", "db", "post-item"],
)
def test_inprocess(
    benchmark: Any, driver: Any, method: str, path: str, body: bytes, status: int
) -> None:
    run = driver.batch(method, path, body)
    benchmark.extra_info["requests_per_round"] = BATCH
    result = benchmark.pedantic(run, rounds=15, iterations=1, warmup_rounds=2)
    assert result == status
