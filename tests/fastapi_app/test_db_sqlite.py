"""SQLite specifics: pragmas on every pooled connection, tags stored as JSON text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from twinbench.apps.common.models import ItemIn
from twinbench.apps.fastapi_app.db_sqlite import SqliteDatabase

pytestmark = pytest.mark.anyio


async def test_every_connection_is_wal_with_busy_timeout(sqlite_path: Path) -> None:
    db = await SqliteDatabase.open(str(sqlite_path), pool_size=3)
    try:
        connections = [await db._idle.get() for _ in range(3)]
        assert db._idle.empty()
        for conn in connections:
            assert list(await conn.execute_fetchall("PRAGMA journal_mode")) == [("wal",)]
            assert list(await conn.execute_fetchall("PRAGMA busy_timeout")) == [(5000,)]
            db._idle.put_nowait(conn)
    finally:
        await db.close()


async def test_tags_are_json_text(sqlite_path: Path) -> None:
    db = await SqliteDatabase.open(str(sqlite_path), pool_size=1)
    try:
        item = await db.create_item(ItemIn(name="n", price=1, tags=["a", "é"]))
    finally:
        await db.close()
    with sqlite3.connect(sqlite_path) as conn:
        (raw,) = conn.execute("SELECT tags FROM items WHERE id = ?", (item.id,)).fetchone()
    assert raw == '["a", "\\u00e9"]'
