"""The whole app over PostgreSQL (asyncpg): the paths that touch the database."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest
from starlette.testclient import TestClient

from twinbench.apps.fastapi_app import create_app
from twinbench.apps.fastapi_app.db_postgres import PostgresDatabase

from .helpers import make_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(clean_postgres_url: str, upstream_url: str) -> Iterator[TestClient]:
    config = make_config(clean_postgres_url, upstream_url, pool_size=3)
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client


def test_uses_a_fixed_size_asyncpg_pool(pg_client: TestClient) -> None:
    db = pg_client.app_state["resources"].db
    assert isinstance(db, PostgresDatabase)
    pool: asyncpg.Pool = db._pool
    assert pool.get_min_size() == pool.get_max_size() == 3


def test_techempower_over_postgres(pg_client: TestClient) -> None:
    assert set(pg_client.get("/db").json()) == {"id", "randomNumber"}
    assert len(pg_client.get("/queries?queries=25").json()) == 25
    updated = pg_client.get("/updates?queries=25").json()
    assert len(updated) == 25
    cached_before = pg_client.app_state["resources"].worlds
    assert len(cached_before) == 10_000
    assert pg_client.get("/fortunes").text.count("<tr><td>") == 13
    assert pg_client.get("/health").json() == {"status": "ok"}


def test_items_over_postgres(pg_client: TestClient) -> None:
    created = pg_client.post("/api/items", json={"name": "pg", "price": 2.5, "tags": ["a", "b"]})
    assert created.status_code == 201
    item = created.json()
    assert item == {"id": 1, "name": "pg", "price": 2.5, "tags": ["a", "b"]}
    assert pg_client.get("/api/items/1").json() == item
    assert pg_client.get("/api/items").json() == {"items": [item], "limit": 20, "offset": 0}
    replaced = pg_client.put("/api/items/1", json={"name": "pg2", "price": 0, "tags": []})
    assert replaced.json() == {"id": 1, "name": "pg2", "price": 0.0, "tags": []}
    assert pg_client.delete("/api/items/1").status_code == 204
    assert pg_client.get("/api/items/1").status_code == 404
    assert pg_client.get("/api/items/2147483647").status_code == 404
