"""apps/fastapi_naive/handlers.py: the Flask views' bodies over the Flask twin's storage."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_naive import create_blocking_app, create_sync_app


@pytest.fixture(params=[create_blocking_app, create_sync_app], ids=["blocking", "sync"])
def client(request: pytest.FixtureRequest, config: AppConfig):  # type: ignore[no-untyped-def]
    with TestClient(request.param(config), raise_server_exceptions=False) as test_client:
        yield test_client


def test_techempower_endpoints(client: TestClient) -> None:
    assert client.get("/json").content == b'{"message":"Hello, World!"}'
    assert client.get("/plaintext").content == b"Hello, World!"
    row = client.get("/db").json()
    assert set(row) == {"id", "randomNumber"}
    assert len(client.get("/queries?queries=7").json()) == 7
    assert len(client.get("/cached-queries?count=600").json()) == 500
    updated = client.get("/updates?queries=3").json()
    assert len(updated) == 3
    again = {r["id"]: r["randomNumber"] for r in client.get("/queries?queries=1").json()}
    assert again
    fortunes = client.get("/fortunes")
    assert fortunes.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;" in fortunes.text


def test_items_crud(client: TestClient) -> None:
    created = client.post("/api/items", json={"name": "n", "price": 2, "tags": ["a"]})
    assert created.status_code == 201
    item = created.json()
    assert item == {"name": "n", "price": 2.0, "tags": ["a"], "id": item["id"]}
    path = f"/api/items/{item['id']}"
    assert client.get(path).json() == item
    assert client.put(path, json={"name": "m", "price": 1.5}).json()["name"] == "m"
    assert client.get("/api/items?limit=5").json()["limit"] == 5
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get("/api/items/0").status_code == 404


def test_cpu_and_health(client: TestClient) -> None:
    assert client.get("/api/cpu?n=2").json()["n"] == 2
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/api/cpu?n=0").status_code == 422
