"""Pool exhaustion: a request that waits past the acquire timeout gets the contract's 503
`unavailable` (JSON, no traceback), on both back-ends, in process with a pool of one."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from flask import Flask

from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S
from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.flask_app import create_app
from twinbench.apps.flask_app.db import Storage
from twinbench.apps.flask_app.db_postgres import PostgresStorage
from twinbench.apps.flask_app.db_sqlite import SqliteStorage
from twinbench.apps.flask_app.state import Services

TIMEOUT_S = 0.3


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["twinbench"]
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_path: object) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{sqlite_path}"


@pytest.fixture()
def one_connection_app(database_url: str, upstream_url: str) -> Iterator[Flask]:
    config = AppConfig(parse_database_url(database_url), upstream_url, 1, TIMEOUT_S)
    app = create_app(config)
    yield app
    services_of(app).close()


def _hold(storage: Storage) -> AbstractContextManager[object]:
    """Borrow the pool's only connection, as a request in progress would."""
    assert isinstance(storage, SqliteStorage | PostgresStorage)
    return storage._connection()


def test_the_default_acquire_timeout_is_30_s(config: AppConfig) -> None:
    assert ACQUIRE_TIMEOUT_S == 30.0
    assert AppConfig.from_env({"TWINBENCH_DATABASE_URL": "sqlite:///x"}).pool_timeout_s == 30.0
    app = create_app(config)
    try:
        storage = services_of(app).storage
        assert isinstance(storage, SqliteStorage)
        assert storage._acquire_timeout == 30.0
    finally:
        services_of(app).close()


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
    one_connection_app: Flask,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: object,
) -> None:
    client = one_connection_app.test_client()
    with caplog.at_level(logging.DEBUG), _hold(services_of(one_connection_app).storage):
        started = time.monotonic()
        response = client.open(path, method=method, json=body)
        waited = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    assert response.get_json() == {
        "error": {
            "code": "unavailable",
            "message": "No database connection became free in time",
            "details": [],
        }
    }
    assert TIMEOUT_S * 0.9 <= waited < TIMEOUT_S + 5
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    # Released: the same request is served again.
    assert client.open(path, method=method, json=body).status_code < 500


def test_health_is_503_not_ready_while_exhausted(
    one_connection_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twinbench.apps.flask_app import health

    # The ping's own wait (2 s in production), not the pool's: shortened, as the FastAPI
    # twin's test does; the answer is the same 503.
    monkeypatch.setattr(health, "PING_TIMEOUT_S", TIMEOUT_S)
    client = one_connection_app.test_client()
    with _hold(services_of(one_connection_app).storage):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "not_ready"
