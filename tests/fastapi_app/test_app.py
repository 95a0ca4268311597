"""create_app(): configuration, lifespan, HEAD/OPTIONS, unknown paths, the 500 safety net."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from twinbench.apps.common.settings import AppConfig, DatabaseKind
from twinbench.apps.fastapi_app import create_app
from twinbench.apps.fastapi_app.resources import Resources

from .helpers import assert_error, make_config

# Every GET route of the contract (with a query that keeps it fast).
GET_PATHS = [
    "/json",
    "/plaintext",
    "/db",
    "/queries?queries=2",
    "/updates?queries=2",
    "/fortunes",
    "/cached-queries?count=2",
    "/api/items",
    "/api/items/1",
    "/api/cpu?n=10",
    "/api/upstream?ms=0",
    "/sse/stream?events=1",
    "/health",
    "/nope",
]


def test_config_defaults_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_path: Path, upstream_url: str
) -> None:
    monkeypatch.setenv("TWINBENCH_DATABASE_URL", f"sqlite:///{sqlite_path}")
    monkeypatch.setenv("TWINBENCH_UPSTREAM_URL", upstream_url + "/")
    monkeypatch.setenv("TWINBENCH_DB_POOL_SIZE", "3")
    with TestClient(create_app()) as client:
        resources: Resources = client.app_state["resources"]
        assert resources.upstream_url == upstream_url
        assert client.get("/db").status_code == 200
        assert client.get("/api/upstream?ms=1").json() == {"delay_ms": 1}


def test_lifespan_opens_and_closes_everything(config: AppConfig) -> None:
    with TestClient(create_app(config)) as client:
        resources: Resources = client.app_state["resources"]
        assert len(resources.worlds) == 10_000
        assert not resources.http.closed
    assert resources.http.closed
    with pytest.raises(RuntimeError):  # the pool is closed too (its threads are shut down)
        asyncio.run(resources.db.ping())


def test_startup_fails_without_a_database(tmp_path: Path, upstream_url: str) -> None:
    # No tables: the World cache cannot load, so the app must refuse to start.
    config = make_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}", upstream_url)
    assert config.database.kind is DatabaseKind.SQLITE
    with pytest.raises(Exception, match="no such table"), TestClient(create_app(config)):
        pass


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_mirrors_get(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code
    assert head.content == b""
    ignore = {"date", "content-length"}  # date ticks; content-length varies with random rows
    assert {k: v for k, v in head.headers.items() if k not in ignore} == {
        k: v for k, v in get.headers.items() if k not in ignore
    }


@pytest.mark.parametrize("path", ["/json", "/api/items", "/api/items/1", "/sse/stream", "/health"])
def test_options_is_not_served(client: TestClient, path: str) -> None:
    response = client.options(path)
    assert_error(response, 405, "method_not_allowed", [])
    assert "OPTIONS" not in response.headers["allow"]


@pytest.mark.parametrize(
    "path", ["/nope", "/json/", "/api/items/", "/docs", "/redoc", "/openapi.json", "/"]
)
def test_unknown_paths_are_404(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404, "not_found", [])


def test_unexpected_exception_is_a_500_with_the_error_shape(config: AppConfig) -> None:
    app = create_app(config)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal server error", "details": []}
    }
    assert "RuntimeError" not in response.text


# GET+HEAD routes share one operation id; harmless for an unserved, in-process schema.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_openapi_schema_is_still_available_in_process(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    paths = app.openapi()["paths"]
    assert {"/api/items", "/api/items/{item_id}", "/json", "/sse/stream"} <= set(paths)
