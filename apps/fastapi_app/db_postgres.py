"""PostgreSQL storage on an asyncpg pool (asyncpg prepares and caches statements itself)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

from .db import World, world

_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
_UPDATE_WORLD = "UPDATE world SET randomnumber = $2 WHERE id = $1"
_ITEM_COLUMNS = "id, name, price, tags"


def _item(row: Mapping[str, Any]) -> Item:
    # asyncpg decodes text[] to a Python list already.
    return Item(id=row["id"], name=row["name"], price=row["price"], tags=row["tags"])


class PostgresDatabase:
    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float = ACQUIRE_TIMEOUT_S) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    @classmethod
    async def open(
        cls, url: str, pool_size: int, acquire_timeout: float = ACQUIRE_TIMEOUT_S
    ) -> PostgresDatabase:
        # A fixed-size pool: the registry sizes TWINBENCH_DB_POOL_SIZE per worker so that
        # all workers together stay within the server's connection budget.
        pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size)
        return cls(pool, acquire_timeout)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, waiting at most the acquire timeout (the pool's own
        `fetchrow` & co. would wait forever). asyncio.timeout, not acquire(timeout=...):
        on Python 3.11 the latter is a wait_for, i.e. an extra task per query."""
        try:
            async with asyncio.timeout(self._acquire_timeout):
                conn = await self._pool.acquire()
        except TimeoutError:
            raise PoolExhausted(self._acquire_timeout) from None
        try:
            yield conn
        finally:
            await self._pool.release(conn)

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    async def get_world(self, id_: int) -> World:
        async with self._connection() as conn:
            row = await conn.fetchrow(_SELECT_WORLD, id_)
        return world(row["id"], row["randomnumber"])

    async def get_worlds(self, ids: list[int]) -> list[World]:
        async with self._connection() as conn:
            rows = [await conn.fetchrow(_SELECT_WORLD, id_) for id_ in ids]
        return [world(row["id"], row["randomnumber"]) for row in rows]

    async def update_worlds(self, ids: list[int], numbers: list[int]) -> list[World]:
        async with self._connection() as conn:
            for id_ in ids:  # TechEmpower: every row is read with its own query
                await conn.fetchrow(_SELECT_WORLD, id_)
            # Sorted by id so that concurrent batches lock rows in the same order and
            # cannot deadlock each other.
            await conn.executemany(_UPDATE_WORLD, sorted(zip(ids, numbers, strict=True)))
        return [world(id_, number) for id_, number in zip(ids, numbers, strict=True)]

    async def all_worlds(self) -> dict[int, int]:
        async with self._connection() as conn:
            rows = await conn.fetch("SELECT id, randomnumber FROM world")
        return {row["id"]: row["randomnumber"] for row in rows}

    async def fortunes(self) -> list[tuple[int, str]]:
        async with self._connection() as conn:
            rows = await conn.fetch("SELECT id, message FROM fortune")
        return [(row["id"], row["message"]) for row in rows]

    async def create_item(self, item: ItemIn) -> Item:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"INSERT INTO items (name, price, tags) VALUES ($1, $2, $3)"
                f" RETURNING {_ITEM_COLUMNS}",
                item.name,
                item.price,
                item.tags,
            )
        return _item(row)

    async def get_item(self, id_: int) -> Item | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = $1", id_)
        return None if row is None else _item(row)

    async def list_items(self, limit: int, offset: int) -> list[Item]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id LIMIT $1 OFFSET $2", limit, offset
            )
        return [_item(row) for row in rows]

    async def replace_item(self, id_: int, item: ItemIn) -> Item | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "UPDATE items SET name = $2, price = $3, tags = $4 WHERE id = $1"
                f" RETURNING {_ITEM_COLUMNS}",
                id_,
                item.name,
                item.price,
                item.tags,
            )
        return None if row is None else _item(row)

    async def delete_item(self, id_: int) -> bool:
        async with self._connection() as conn:
            status: str = await conn.execute("DELETE FROM items WHERE id = $1", id_)
        return status != "DELETE 0"

    async def close(self) -> None:
        await self._pool.close()
