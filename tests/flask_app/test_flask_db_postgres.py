"""PostgreSQL specifics, and the whole app end to end on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.flask_app import create_app
from twinbench.apps.flask_app.db_postgres import PostgresStorage
from twinbench.apps.flask_app.state import Services

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_storage(pg_url: str) -> Iterator[PostgresStorage]:
    storage = PostgresStorage(pg_url, 3)
    yield storage
    storage.close()


def test_pool_is_fixed_size_and_autocommit(pg_storage: PostgresStorage) -> None:
    stats = pg_storage._pool.get_stats()
    assert stats["pool_min"] == stats["pool_max"] == 3
    with pg_storage._pool.connection() as conn:
        assert conn.autocommit is True


def test_tags_are_a_text_array(pg_storage: PostgresStorage, pg_url: str) -> None:
    from twinbench.apps.common.models import ItemIn

    item = pg_storage.create_item(ItemIn(name="n", price=1, tags=["a", "b c"]))
    empty = pg_storage.create_item(ItemIn(name="m", price=1))
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT tags, pg_typeof(tags)::text FROM items WHERE id = %s", (item.id,)
        ).fetchone()
        assert row == (["a", "b c"], "text[]")
        assert conn.execute("SELECT tags FROM items WHERE id = %s", (empty.id,)).fetchone() == ([],)
        conn.execute("DELETE FROM items")


def test_concurrent_updates_do_not_deadlock(pg_storage: PostgresStorage) -> None:
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for round_ in range(15):
                ids = list(
                    dict.fromkeys(((seed + 1) * 37 * k + round_) % 50 + 1 for k in range(30))
                )
                pg_storage.update_worlds(ids, [seed + 1] * len(ids))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_unreachable_database_fails_fast() -> None:
    with pytest.raises(Exception, match=r"pool initialization incomplete|connection"):
        PostgresStorage("postgresql://root@127.0.0.1:1/nope", 1, open_timeout=1)


def test_app_end_to_end(pg_url: str, upstream_url: str) -> None:
    app: Flask = create_app(AppConfig(parse_database_url(pg_url), upstream_url, 2))
    services: Services = app.extensions["twinbench"]
    client = app.test_client()
    try:
        assert client.get("/health").get_json() == {"status": "ok"}
        assert set(client.get("/db").get_json()) == {"id", "randomNumber"}
        assert len(client.get("/queries?queries=5").get_json()) == 5
        assert len(client.get("/updates?queries=5").get_json()) == 5
        assert "&lt;script&gt;" in client.get("/fortunes").get_data(as_text=True)
        assert len(client.get("/cached-queries?count=3").get_json()) == 3
        created = client.post("/api/items", json={"name": "pg", "price": 1, "tags": ["t"]})
        assert created.status_code == 201
        item_id = created.get_json()["id"]
        assert client.get(f"/api/items/{item_id}").get_json()["tags"] == ["t"]
        assert (
            client.put(f"/api/items/{item_id}", json={"name": "q", "price": 2}).status_code == 200
        )
        assert client.delete(f"/api/items/{item_id}").status_code == 204
        assert client.get(f"/api/items/{item_id}").status_code == 404
        assert client.get("/api/items/2147483647").status_code == 404
    finally:
        services.close()
