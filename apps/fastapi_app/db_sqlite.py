"""SQLite storage on a small pool of aiosqlite connections (each runs in its own thread)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from apps.common.models import Item, ItemIn
from apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

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
                conn = await aiosqlite.connect(path)
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

    async def _write(self, sql: str, params: Sequence[Any]) -> tuple[list[Sequence[Any]], int]:
        """Run one DML statement in its own transaction; returns (RETURNING rows, rowcount)."""
        async with self._connection() as conn:
            try:
                async with conn.execute(sql, params) as cursor:
                    rows: list[Sequence[Any]] = list(await cursor.fetchall())
                    count = cursor.rowcount
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
        return rows, count

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
            try:
                await conn.executemany(_UPDATE_WORLD, list(zip(numbers, ids, strict=True)))
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
        return [world(id_, number) for id_, number in zip(ids, numbers, strict=True)]

    async def all_worlds(self) -> dict[int, int]:
        return {row[0]: row[1] for row in await self._fetch("SELECT id, randomnumber FROM world")}

    async def fortunes(self) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._fetch("SELECT id, message FROM fortune")]

    async def create_item(self, item: ItemIn) -> Item:
        rows, _ = await self._write(
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
        rows, _ = await self._write(
            "UPDATE items SET name = ?, price = ?, tags = ? WHERE id = ?"
            f" RETURNING {_ITEM_COLUMNS}",
            (item.name, item.price, json.dumps(item.tags), id_),
        )
        return _item(rows[0]) if rows else None

    async def delete_item(self, id_: int) -> bool:
        _, count = await self._write("DELETE FROM items WHERE id = ?", (id_,))
        return count > 0

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
