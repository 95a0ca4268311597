"""TechEmpower's "one SELECT per row" for /queries and /updates, counted at the driver.

Every statement the app sends is recorded where the driver executes it (sqlite3's trace
callback; for psycopg, a cursor class that notes each query before running it as usual),
so batching the reads (`WHERE id = ANY(...)`, `IN (...)`) or caching them would be caught.
The statements still run against the real database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, LiteralString

import psycopg
import pytest
from flask import Flask

from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.flask_app import create_app
from twinbench.apps.flask_app.db import Storage
from twinbench.apps.flask_app.db_postgres import PostgresStorage
from twinbench.apps.flask_app.db_sqlite import SqliteStorage
from twinbench.apps.flask_app.state import Services

POOL_SIZE = 2
_SELECT_WORLD = re.compile(r"^\s*SELECT\b.*\bFROM\s+world\b", re.IGNORECASE | re.DOTALL)
_UPDATE_WORLD = re.compile(r"^\s*UPDATE\s+world\b", re.IGNORECASE)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, sqlite_path: object, upstream_url: str) -> Iterator[Flask]:
    url = (
        str(request.getfixturevalue("pg_url"))
        if request.param == "postgres"
        else f"sqlite:///{sqlite_path}"
    )
    app = create_app(AppConfig(parse_database_url(url), upstream_url, POOL_SIZE))
    yield app
    services = app.extensions["twinbench"]
    assert isinstance(services, Services)
    services.close()


def record_statements(storage: Storage) -> list[str]:
    """Start recording every statement any pooled connection executes, in order."""
    statements: list[str] = []
    if isinstance(storage, SqliteStorage):
        for conn in storage._all:
            conn.set_trace_callback(statements.append)
        return statements
    assert isinstance(storage, PostgresStorage)

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            statements.append(str(query))
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
            statements.append(str(query))
            super().executemany(query, params_seq, **kwargs)

    pool = storage._pool
    borrowed = [pool.getconn() for _ in range(POOL_SIZE)]  # every connection of the pool
    for conn in borrowed:
        conn.cursor_factory = Recording
    for conn in borrowed:
        pool.putconn(conn)
    return statements


def _count(statements: list[str], pattern: re.Pattern[LiteralString]) -> int:
    return sum(1 for sql in statements if pattern.search(sql))


@pytest.mark.parametrize("n", [1, 7, 20])
def test_queries_reads_each_row_with_its_own_select(app: Flask, n: int) -> None:
    statements = record_statements(app.extensions["twinbench"].storage)
    client = app.test_client()
    rows = client.get(f"/queries?queries={n}").get_json()
    assert len(rows) == n
    assert _count(statements, _SELECT_WORLD) == n, statements


@pytest.mark.parametrize("n", [1, 7, 20])
def test_updates_read_each_row_with_its_own_select(app: Flask, n: int) -> None:
    statements = record_statements(app.extensions["twinbench"].storage)
    rows = app.test_client().get(f"/updates?queries={n}").get_json()
    assert len(rows) == n
    assert _count(statements, _SELECT_WORLD) == n, statements
    assert _count(statements, _UPDATE_WORLD) >= 1  # written, batched or not
    # Every read comes before the first write (read, then persist the new numbers).
    first_update = next(i for i, sql in enumerate(statements) if _UPDATE_WORLD.search(sql))
    assert _count(statements[first_update:], _SELECT_WORLD) == 0


def test_db_is_one_select_and_cached_queries_none(app: Flask) -> None:
    statements = record_statements(app.extensions["twinbench"].storage)
    client = app.test_client()
    assert client.get("/db").status_code == 200
    assert _count(statements, _SELECT_WORLD) == 1
    statements.clear()
    assert len(client.get("/cached-queries?count=7").get_json()) == 7
    assert _count(statements, _SELECT_WORLD) == 0, "the cache went to the database"
