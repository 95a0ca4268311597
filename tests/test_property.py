"""Property-based: schemathesis generates requests from the FastAPI twin's OpenAPI
description, valid and invalid ones, and every case is replayed against the Flask twin.

No 5xx from either, and the same status and normalized JSON from both. The twins run on
byte-identical SQLite copies and see the cases in the same order, so they stay in step.

Schemathesis' own pytest loader does not run under pytest 9, so its Hypothesis strategies
are driven directly: one parametrized test per (operation, generation mode).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from support.normalize import comparable
from support.served import Served

from twinbench.apps.common.settings import AppConfig, parse_database_url

# Streams and long waits are covered by the contract suite; generated values here would
# legally ask for a 10 s upstream wait or a 10,000-event stream per example.
EXCLUDED_PATHS = frozenset({"/sse/stream", "/api/upstream"})


def _operations() -> list[Any]:
    from twinbench.apps.fastapi_app import create_app

    # The twin does not publish /openapi.json (a production choice); the description is
    # built from the same app factory, without starting the app.
    config = AppConfig(parse_database_url("sqlite:///unused.sqlite3"), "http://127.0.0.1:9", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HEAD routes share operation ids with GET
        raw = create_app(config).openapi()
    schema = schemathesis.openapi.from_dict(raw)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if op.path not in EXCLUDED_PATHS]


def _cases() -> list[Any]:
    """(operation, mode) pairs; invalid input can only be generated where there is input."""
    cases = []
    for op in _operations():
        raw = op.definition.raw
        takes_input = bool(raw.get("parameters") or raw.get("requestBody"))
        for mode in GenerationMode:
            if mode is GenerationMode.POSITIVE or takes_input:
                label = f"{op.method.upper()} {op.path} {mode.value}"
                cases.append(pytest.param(op, mode, id=label))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("operation", "mode"), _cases())
def test_no_5xx_and_same_answers(
    operation: Any, mode: GenerationMode, twins: tuple[Served, Served]
) -> None:
    flask, fastapi = twins

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,  # the same cases every run: a CI failure reproduces locally
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        answers = []
        for server in (fastapi, flask):
            resp = case.call(base_url=server.base_url, timeout=30)
            assert resp.status_code < 500, (
                f"{server.target.name}: {resp.status_code} for {case.as_curl_command()}"
            )
            ctype = resp.headers.get("content-type") or ""
            if isinstance(ctype, list):  # schemathesis keeps every value of a header
                ctype = ctype[0] if ctype else ""
            answers.append(comparable(resp.status_code, ctype, resp.content))
        assert answers[0] == answers[1], f"twins differ for {case.as_curl_command()}"

    check()
