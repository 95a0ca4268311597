"""GET /health: 200 when the pool answers and the upstream client is open, else 503."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from twinbench.apps.fastapi_app.resources import Resources

from .helpers import assert_error


def test_ready(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_database_down_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    resources: Resources = client.app_state["resources"]

    async def broken_ping() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(resources.db, "ping", broken_ping)
    assert_error(client.get("/health"), 503, "not_ready", [])


def test_database_hanging_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from twinbench.apps.fastapi_app import health

    resources: Resources = client.app_state["resources"]

    async def hanging_ping() -> None:
        await asyncio.sleep(10)

    monkeypatch.setattr(resources.db, "ping", hanging_ping)
    monkeypatch.setattr(health, "PING_TIMEOUT_S", 0.05)
    assert_error(client.get("/health"), 503, "not_ready", [])


def test_closed_upstream_client_is_503(client: TestClient) -> None:
    resources: Resources = client.app_state["resources"]
    client.portal.call(resources.http.close)  # type: ignore[union-attr]
    assert_error(client.get("/health"), 503, "not_ready", [])
