"""SQLite specifics: pragmas on every pooled connection, tags stored as JSON text, one hop
to the pool's threads per request, and a cancelled hop's connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
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
            assert conn.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
            assert conn.execute("PRAGMA busy_timeout").fetchall() == [(5000,)]
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


async def test_a_request_is_one_hop_to_the_pools_threads(sqlite_path: Path) -> None:
    db = await SqliteDatabase.open(str(sqlite_path), pool_size=2)
    submitted: list[object] = []
    submit = db._threads.submit

    def counting_submit(fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        submitted.append(fn)
        return submit(fn, *args, **kwargs)

    db._threads.submit = counting_submit  # type: ignore[method-assign]
    try:
        assert len(await db.get_worlds(list(range(1, 21)))) == 20
        assert len(submitted) == 1  # 20 SELECTs, one hop (aiosqlite made 20)
        await db.update_worlds([1, 2, 3], [7, 8, 9])
        assert len(submitted) == 3  # the reads in one hop, the batched write in another
    finally:
        await db.close()


async def test_a_cancelled_hop_returns_its_connection_only_when_the_thread_is_done(
    sqlite_path: Path,
) -> None:
    db = await SqliteDatabase.open(str(sqlite_path), pool_size=1)
    started, finish = threading.Event(), threading.Event()

    def slow(conn: sqlite3.Connection) -> int:
        started.set()
        finish.wait(5)
        return int(conn.execute("SELECT 1").fetchone()[0])

    try:
        task = asyncio.ensure_future(db._run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert db._idle.empty()  # the thread still uses the only connection
        finish.set()
        for _ in range(100):
            if not db._idle.empty():
                break
            await asyncio.sleep(0.01)
        assert db._idle.qsize() == 1
        await db.ping()  # and it serves again
    finally:
        finish.set()
        await db.close()
