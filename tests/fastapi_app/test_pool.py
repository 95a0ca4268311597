"""Pool exhaustion: a request that waits past the acquire timeout gets the contract's 503
`unavailable` (JSON, no traceback), on both back-ends, in process with a pool of one.

Before, asyncpg's acquire and the SQLite pool's `get()` waited forever."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from starlette.testclient import TestClient

from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S
from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.fastapi_app import create_app
from twinbench.apps.fastapi_app.db_postgres import PostgresDatabase
from twinbench.apps.fastapi_app.db_sqlite import SqliteDatabase

from .helpers import assert_error

TIMEOUT_S = 0.3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_path: object) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("clean_postgres_url"))
    return f"sqlite:///{sqlite_path}"


@pytest.fixture
def one_connection_client(database_url: str, upstream_url: str) -> Iterator[TestClient]:
    config = AppConfig(parse_database_url(database_url), upstream_url, 1, TIMEOUT_S)
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client


def _held(client: TestClient) -> Any:
    """The pool's only connection, borrowed in the app's event loop as a request would."""
    db = client.app_state["resources"].db
    assert isinstance(db, SqliteDatabase | PostgresDatabase)
    borrowed: AbstractAsyncContextManager[object] = db._connection()
    assert client.portal is not None
    return client.portal.wrap_async_context_manager(borrowed)


def test_the_default_acquire_timeout_is_30_s(client: TestClient) -> None:
    assert ACQUIRE_TIMEOUT_S == 30.0
    db = client.app_state["resources"].db
    assert isinstance(db, SqliteDatabase)
    assert db._acquire_timeout == 30.0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/db", None),
        ("GET", "/queries?queries=3", None),
        ("GET", "/updates?queries=3", None),
        ("GET", "/fortunes", None),
        ("GET", "/api/items/1", None),
        ("GET", "/api/items", None),
        ("POST", "/api/items", {"name": "x", "price": 1}),
        ("DELETE", "/api/items/1", None),
    ],
)
def test_exhausted_pool_is_503_unavailable(
    one_connection_client: TestClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: object,
) -> None:
    client = one_connection_client
    with caplog.at_level(logging.DEBUG), _held(client):
        started = time.monotonic()
        response = client.request(method, path, json=body)
        waited = time.monotonic() - started
    assert_error(response, 503, "unavailable", [])
    assert response.json()["error"]["message"] == "No database connection became free in time"
    assert TIMEOUT_S * 0.9 <= waited < TIMEOUT_S + 5
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    # Released: the same request is served again.
    assert client.request(method, path, json=body).status_code < 500


def test_health_is_503_not_ready_while_exhausted(one_connection_client: TestClient) -> None:
    with _held(one_connection_client):
        assert_error(one_connection_client.get("/health"), 503, "not_ready", [])
