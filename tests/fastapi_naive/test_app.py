"""apps/fastapi_naive/app.py: the same handlers registered blocking (`async def`) or in the
thread pool (`def`), with the twins' error handling and body limit."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse

from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_naive import create_blocking_app, create_sync_app
from twinbench.apps.fastapi_naive.app import ROUTES, blocking

FACTORIES = [create_blocking_app, create_sync_app]


def _http_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute)]


def test_blocking_wraps_the_handler_in_async_def_with_its_signature() -> None:
    def handler(a: int, b: str = "x") -> dict[str, int]:
        return {"a": a}

    endpoint = blocking(handler)
    assert inspect.iscoroutinefunction(endpoint)
    assert inspect.signature(endpoint) == inspect.signature(handler)


def test_blocking_app_has_async_endpoints_sync_app_plain_ones(config: AppConfig) -> None:
    blocking_routes = _http_routes(create_blocking_app(config))
    sync_routes = _http_routes(create_sync_app(config))
    assert len(blocking_routes) == len(sync_routes) == len(ROUTES)
    assert all(inspect.iscoroutinefunction(r.endpoint) for r in blocking_routes)
    assert not any(inspect.iscoroutinefunction(r.endpoint) for r in sync_routes)
    # Same handlers, same parameters and response models, either way.
    for a, b in zip(blocking_routes, sync_routes, strict=True):
        assert (a.path, a.methods, a.response_model) == (b.path, b.methods, b.response_model)


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_errors_and_body_limit_are_the_twins(factory, config: AppConfig) -> None:  # type: ignore[no-untyped-def]
    with TestClient(factory(config), raise_server_exceptions=False) as client:
        assert client.get("/nope").json()["error"]["code"] == "not_found"
        assert client.post("/json").status_code == 405
        response = client.post(
            "/api/items", content=b"{", headers={"content-type": "application/json"}
        )
        assert response.json()["error"]["code"] == "malformed_json"
        big = client.post(
            "/api/items", content=b"x", headers={"content-length": str(2 * 1024 * 1024)}
        )
        assert big.status_code == 413
        assert client.get("/api/upstream?ms=1").json()["error"]["code"] == "upstream_error"


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_websocket_paths_answer_501(factory, config: AppConfig) -> None:  # type: ignore[no-untyped-def]
    app = factory(config)
    assert {r.path for r in app.routes if isinstance(r, APIWebSocketRoute)} == {
        "/ws/echo",
        "/ws/broadcast",
    }
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws/echo"),
    ):
        pass
    assert denied.value.status_code == 501
    assert denied.value.json()["error"]["code"] == "not_implemented"
