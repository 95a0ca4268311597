"""SQLite storage on a small pool of aiosqlite connections (each runs in its own thread).

SQLite has one write lock per database. Every aiosqlite call is a hop to the connection's
thread and back through the event loop, so a write that takes the lock in one hop and commits
in another holds it across event-loop turns, while the other writers sleep in SQLite's busy
handler, whose back-off grows to 100 ms. The Flask twin never meets this: each of its writes
is one call on one thread. So here connections are in autocommit mode, a single statement is
one hop (`execute_fetchall`), and writers take an asyncio lock first: they queue on the event
loop, not in the busy handler (which then only meets other processes). Measured on the quick
profile's ladder (16 users, fastapi-uvicorn): /updates p99 180-230 ms without the lock, 18-25
ms with it; the api mix 51 ms and 30-38 ms (before either change: 232 and 110 ms).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

from .db import World, world

_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = ?"
_UPDATE_WORLD = "UPDATE world SET randomnumber = ? WHERE id = ?"
_ITEM_COLUMNS = "id, name, price, tags"


def _item(row: Sequence[Any]) -> Item:
    # tags is JSON text on SQLite (there is no array type).
    return Item(id=row[0], name=row[1], price=row[2], tags=json.loads(row[3]))


class SqliteDatabase:
    def __init__(
        self,
        connections: Iterable[aiosqlite.Connection],
        acquire_timeout: float = ACQUIRE_TIMEOUT_S,
    ) -> None:
        self._acquire_timeout = acquire_timeout
        self._write_lock = asyncio.Lock()  # one writer at a time, as SQLite allows
        self._all = list(connections)
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in self._all:
            self._idle.put_nowait(conn)

    @classmethod
    async def open(
        cls, path: str, pool_size: int, acquire_timeout: float = ACQUIRE_TIMEOUT_S
    ) -> SqliteDatabase:
        connections = []
        try:
            for _ in range(pool_size):
                # Autocommit: a statement commits on its own, with no second hop to commit.
                conn = await aiosqlite.connect(path, isolation_level=None)
                connections.append(conn)
                # WAL lets readers run while one writer writes; busy_timeout makes a
                # second writer wait for the lock instead of failing at once.
                await conn.execute("PRAGMA journal_mode=WAL")
                await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            for conn in connections:
                await conn.close()
            raise
        return cls(connections, acquire_timeout)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        try:
            # The usual case, an idle connection, costs no timer; only a wait is bounded.
            conn = self._idle.get_nowait()
        except asyncio.QueueEmpty:
            try:
                async with asyncio.timeout(self._acquire_timeout):
                    conn = await self._idle.get()
            except TimeoutError:
                raise PoolExhausted(self._acquire_timeout) from None
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        async with self._connection() as conn:
            return list(await conn.execute_fetchall(sql, params))

    async def _write(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """One DML statement, its own transaction, in one hop; returns its RETURNING rows."""
        async with self._connection() as conn, self._write_lock:
            return list(await conn.execute_fetchall(sql, params))

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    async def get_world(self, id_: int) -> World:
        row = (await self._fetch(_SELECT_WORLD, (id_,)))[0]
        return world(row[0], row[1])

    async def get_worlds(self, ids: list[int]) -> list[World]:
        result = []
        async with self._connection() as conn:
            for id_ in ids:
                row = next(iter(await conn.execute_fetchall(_SELECT_WORLD, (id_,))))
                result.append(world(row[0], row[1]))
        return result

    async def update_worlds(self, ids: list[int], numbers: list[int]) -> list[World]:
        async with self._connection() as conn:
            for id_ in ids:  # TechEmpower: every row is read with its own query
                await conn.execute_fetchall(_SELECT_WORLD, (id_,))
            async with self._write_lock:
                # IMMEDIATE takes the write lock up front (the Flask twin does the same). BEGIN
                # is inside the try: a task cancelled while awaiting it (the client went away)
                # must still roll back, or the pooled connection would keep the lock.
                try:
                    await conn.execute("BEGIN IMMEDIATE")
                    await conn.executemany(_UPDATE_WORLD, list(zip(numbers, ids, strict=True)))
                    await conn.execute("COMMIT")
                except BaseException:
                    await conn.rollback()
                    raise
        return [world(id_, number) for id_, number in zip(ids, numbers, strict=True)]

    async def all_worlds(self) -> dict[int, int]:
        return {row[0]: row[1] for row in await self._fetch("SELECT id, randomnumber FROM world")}

    async def fortunes(self) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._fetch("SELECT id, message FROM fortune")]

    async def create_item(self, item: ItemIn) -> Item:
        rows = await self._write(
            f"INSERT INTO items (name, price, tags) VALUES (?, ?, ?) RETURNING {_ITEM_COLUMNS}",
            (item.name, item.price, json.dumps(item.tags)),
        )
        return _item(rows[0])

    async def get_item(self, id_: int) -> Item | None:
        rows = await self._fetch(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (id_,))
        return _item(rows[0]) if rows else None

    async def list_items(self, limit: int, offset: int) -> list[Item]:
        rows = await self._fetch(
            f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
        )
        return [_item(row) for row in rows]

    async def replace_item(self, id_: int, item: ItemIn) -> Item | None:
        rows = await self._write(
            "UPDATE items SET name = ?, price = ?, tags = ? WHERE id = ?"
            f" RETURNING {_ITEM_COLUMNS}",
            (item.name, item.price, json.dumps(item.tags), id_),
        )
        return _item(rows[0]) if rows else None

    async def delete_item(self, id_: int) -> bool:
        return bool(await self._write("DELETE FROM items WHERE id = ? RETURNING id", (id_,)))

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
