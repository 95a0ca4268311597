"""SQLite storage: the standard `sqlite3` module behind a small thread-safe connection pool.

sqlite3 connections are not safe for concurrent use, so each request borrows one exclusively.

Under gevent, writes run in gevent's native thread pool: a write that waits for another
process's write lock sleeps inside SQLite's busy handler (C, up to busy_timeout), which would
otherwise stall every greenlet of the worker (measured: a /json took 4.9 s behind one such
wait). Reads never wait for locks in WAL mode, so they stay inline.
Connections are opened in autocommit mode (`isolation_level=None`): single statements commit
on their own, and the one batched write (/updates) uses `BEGIN IMMEDIATE`, which takes the write
lock up front so that concurrent writers wait on `busy_timeout` instead of failing with
SQLITE_BUSY when upgrading a read transaction.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

from .db import World

_ITEM_COLUMNS = "id, name, price, tags"
_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = ?"
_BUSY_TIMEOUT_MS = 5000

ItemRow = tuple[int, str, float, str]
T = TypeVar("T")
Offload = Callable[[Callable[[], Any]], Any]


def _inline(work: Callable[[], Any]) -> Any:
    return work()


def default_offload() -> Offload:
    """gevent's native thread pool when gevent has patched threading, else a plain call."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        threadpool = gevent.get_hub().threadpool
        return lambda work: threadpool.apply(work)
    return _inline


def _item(row: ItemRow) -> Item:
    return Item(id=row[0], name=row[1], price=row[2], tags=json.loads(row[3]))


def _world(conn: sqlite3.Connection, world_id: int) -> World:
    row = conn.execute(_SELECT_WORLD, (world_id,)).fetchone()
    if row is None:
        raise LookupError(f"world row {world_id} is missing: was the database seeded?")
    return World(row[0], row[1])


class PoolTimeout(PoolExhausted):
    """No pooled SQLite connection became free in time (the views answer 503)."""


class SqliteStorage:
    def __init__(
        self,
        path: str,
        pool_size: int,
        offload: Offload | None = None,
        acquire_timeout: float = ACQUIRE_TIMEOUT_S,
    ) -> None:
        self._path = path
        self._acquire_timeout = acquire_timeout
        self._offload = offload if offload is not None else default_offload()
        # A LIFO queue keeps the most recently used connections (and their page caches) warm.
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all = [self._connect() for _ in range(pool_size)]
        for conn in self._all:
            self._idle.put(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[sqlite3.Connection]:
        timeout = self._acquire_timeout if timeout is None else timeout
        try:
            conn = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise PoolTimeout(timeout) from None
        try:
            yield conn
        finally:
            if conn.in_transaction:  # only after an error inside an explicit transaction
                conn.rollback()
            self._idle.put(conn)

    def _write(self, work: Callable[[], T]) -> T:
        result: T = self._offload(work)
        return result

    def ping(self, timeout: float) -> None:
        with self._connection(timeout) as conn:
            conn.execute("SELECT 1").fetchone()

    def world(self, world_id: int) -> World | None:
        with self._connection() as conn:
            row = conn.execute(_SELECT_WORLD, (world_id,)).fetchone()
        return World(row[0], row[1]) if row else None

    def worlds(self, ids: Sequence[int]) -> list[World]:
        with self._connection() as conn:
            return [_world(conn, i) for i in ids]

    def all_worlds(self) -> list[World]:
        with self._connection() as conn:
            return [
                World(row[0], row[1]) for row in conn.execute("SELECT id, randomnumber FROM world")
            ]

    def update_worlds(self, ids: Sequence[int], numbers: Sequence[int]) -> list[World]:
        with self._connection() as conn:
            read = [_world(conn, i) for i in ids]
            updated = [World(w.id, n) for w, n in zip(read, numbers, strict=True)]

            def write() -> None:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "UPDATE world SET randomnumber = ? WHERE id = ?",
                    [(w.random_number, w.id) for w in updated],
                )
                conn.execute("COMMIT")

            self._write(write)
        return updated

    def fortunes(self) -> list[tuple[int, str]]:
        with self._connection() as conn:
            return [(row[0], row[1]) for row in conn.execute("SELECT id, message FROM fortune")]

    def create_item(self, item: ItemIn) -> Item:
        sql = f"INSERT INTO items (name, price, tags) VALUES (?, ?, ?) RETURNING {_ITEM_COLUMNS}"
        params = (item.name, item.price, json.dumps(item.tags))
        with self._connection() as conn:
            row = self._write(lambda: conn.execute(sql, params).fetchone())
        return _item(row)

    def get_item(self, item_id: int) -> Item | None:
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)
            ).fetchone()
        return _item(row) if row else None

    def list_items(self, limit: int, offset: int) -> list[Item]:
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [_item(row) for row in rows]

    def replace_item(self, item_id: int, item: ItemIn) -> Item | None:
        sql = (
            f"UPDATE items SET name = ?, price = ?, tags = ? WHERE id = ? RETURNING {_ITEM_COLUMNS}"
        )
        params = (item.name, item.price, json.dumps(item.tags), item_id)
        with self._connection() as conn:
            row = self._write(lambda: conn.execute(sql, params).fetchone())
        return _item(row) if row else None

    def delete_item(self, item_id: int) -> bool:
        with self._connection() as conn:
            deleted: int = self._write(
                lambda: conn.execute("DELETE FROM items WHERE id = ?", (item_id,)).rowcount
            )
        return deleted > 0

    def close(self) -> None:
        for conn in self._all:
            conn.close()
