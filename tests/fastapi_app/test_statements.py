"""TechEmpower's "one SELECT per row" for /queries and /updates, counted at the driver.

Every statement the app sends is recorded where the driver executes it (sqlite3's trace
callback, asyncpg's query loggers), so batching the reads (`WHERE id = ANY(...)`, `IN (...)`)
or caching them would be caught. The statements still run against the real database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, LiteralString

import pytest
from starlette.testclient import TestClient

from twinbench.apps.fastapi_app import create_app
from twinbench.apps.fastapi_app.db_postgres import PostgresDatabase
from twinbench.apps.fastapi_app.db_sqlite import SqliteDatabase

from .helpers import make_config

POOL_SIZE = 2
_SELECT_WORLD = re.compile(r"^\s*SELECT\b.*\bFROM\s+world\b", re.IGNORECASE | re.DOTALL)
_UPDATE_WORLD = re.compile(r"^\s*UPDATE\s+world\b", re.IGNORECASE)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(
    request: pytest.FixtureRequest, sqlite_path: object, upstream_url: str
) -> Iterator[TestClient]:
    url = (
        str(request.getfixturevalue("clean_postgres_url"))
        if request.param == "postgres"
        else f"sqlite:///{sqlite_path}"
    )
    app = create_app(make_config(url, upstream_url, POOL_SIZE))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def record_statements(client: TestClient) -> list[str]:
    """Start recording every statement any pooled connection executes, in order."""
    statements: list[str] = []
    db = client.app_state["resources"].db
    portal = client.portal
    assert portal is not None

    if isinstance(db, SqliteDatabase):
        for conn in db._all:  # the callback runs on the pool's threads; list.append is safe
            conn.set_trace_callback(statements.append)
        return statements
    assert isinstance(db, PostgresDatabase)

    def log(query: Any) -> None:
        statements.append(query.query)

    async def log_all() -> None:
        # Borrow every connection of the pool at once; loggers stay with a connection.
        borrowed = [await db._pool.acquire() for _ in range(POOL_SIZE)]
        for conn in borrowed:
            conn.add_query_logger(log)
        for conn in borrowed:
            await db._pool.release(conn)

    portal.call(log_all)
    statements.clear()  # the pool's own reset statements on release
    return statements


def _count(statements: list[str], pattern: re.Pattern[LiteralString]) -> int:
    return sum(1 for sql in statements if pattern.search(sql))


@pytest.mark.parametrize("n", [1, 7, 20])
def test_queries_reads_each_row_with_its_own_select(client: TestClient, n: int) -> None:
    statements = record_statements(client)
    rows = client.get(f"/queries?queries={n}").json()
    assert len(rows) == n
    assert _count(statements, _SELECT_WORLD) == n, statements


@pytest.mark.parametrize("n", [1, 7, 20])
def test_updates_read_each_row_with_its_own_select(client: TestClient, n: int) -> None:
    statements = record_statements(client)
    rows = client.get(f"/updates?queries={n}").json()
    assert len(rows) == n
    assert _count(statements, _SELECT_WORLD) == n, statements
    assert _count(statements, _UPDATE_WORLD) >= 1  # written, batched or not
    # Every read comes before the first write (read, then persist the new numbers).
    first_update = next(i for i, sql in enumerate(statements) if _UPDATE_WORLD.search(sql))
    assert _count(statements[first_update:], _SELECT_WORLD) == 0


def test_db_is_one_select_and_cached_queries_none(client: TestClient) -> None:
    statements = record_statements(client)
    assert client.get("/db").status_code == 200
    assert _count(statements, _SELECT_WORLD) == 1
    statements.clear()
    assert len(client.get("/cached-queries?count=7").json()) == 7
    assert _count(statements, _SELECT_WORLD) == 0, "the cache went to the database"
