"""SQLite storage: the standard `sqlite3` module on a thread pool, one hop per request.

SQLite is a library, not a server: a statement runs on the calling thread, so an async app
runs it on another thread and awaits the result. aiosqlite (used here before) does that per
statement: every `execute` is a hop to the connection's thread and back through the event
loop (a queue, a thread wake-up, `call_soon_threadsafe`), tens of µs of CPU each, more than
the statement itself: /queries?queries=20 made 20 hops, and its database work cost about
four times the CPU of the same 20 statements in one hop. So here each request's database
work is one plain function, run on a pooled connection in one hop (`_run`); apps/CONTRACT.md
("SQLite in the FastAPI twin") has the measured effect on /queries and /fortunes, and the
tail latency the hop still costs.

SQLite has one write lock per database, and a writer that waits for it sleeps in SQLite's
busy handler (back-off up to 100 ms). Writers therefore queue on an asyncio lock first, so
they wait on the event loop, not in the busy handler (which then only meets other processes),
and each write (a statement, or /updates' whole batch with BEGIN IMMEDIATE and COMMIT) is
one hop: the lock is never held across event-loop turns. Connections are in autocommit mode
(one statement, one transaction), in WAL mode so readers never wait for the writer.

A task cancelled while its hop runs (the client went away) returns at once; the connection
goes back to the pool only when the thread is done with it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

from .db import World, world

_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = ?"
_UPDATE_WORLD = "UPDATE world SET randomnumber = ? WHERE id = ?"
_ITEM_COLUMNS = "id, name, price, tags"
_BUSY_TIMEOUT_MS = 5000

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]


def _item(row: Sequence[Any]) -> Item:
    # tags is JSON text on SQLite (there is no array type).
    return Item(id=row[0], name=row[1], price=row[2], tags=json.loads(row[3]))


def connect(path: str) -> sqlite3.Connection:
    # Autocommit (isolation_level=None): a statement commits on its own. WAL lets readers
    # run while one writer writes; busy_timeout makes a writer from another process wait.
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteDatabase:
    def __init__(
        self,
        connections: Iterable[sqlite3.Connection],
        acquire_timeout: float = ACQUIRE_TIMEOUT_S,
    ) -> None:
        self._acquire_timeout = acquire_timeout
        self._write_lock = asyncio.Lock()  # one writer at a time, as SQLite allows
        self._all = list(connections)
        # One thread per connection: a request never waits for a thread, only for a connection.
        self._threads = ThreadPoolExecutor(
            max_workers=max(len(self._all), 1), thread_name_prefix="sqlite"
        )
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        for conn in self._all:
            self._idle.put_nowait(conn)

    @classmethod
    async def open(
        cls, path: str, pool_size: int, acquire_timeout: float = ACQUIRE_TIMEOUT_S
    ) -> SqliteDatabase:
        # Opening a file once at start-up: done in place, before the server takes requests.
        connections: list[sqlite3.Connection] = []
        try:
            for _ in range(pool_size):
                connections.append(connect(path))
        except BaseException:
            for conn in connections:
                conn.close()
            raise
        return cls(connections, acquire_timeout)

    async def _acquire(self) -> sqlite3.Connection:
        try:
            # The usual case, an idle connection, costs no timer; only a wait is bounded.
            return self._idle.get_nowait()
        except asyncio.QueueEmpty:
            try:
                async with asyncio.timeout(self._acquire_timeout):
                    return await self._idle.get()
            except TimeoutError:
                raise PoolExhausted(self._acquire_timeout) from None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[sqlite3.Connection]:
        """Borrow a pooled connection (as PostgresDatabase does; `_run` is the hot path)."""
        conn = await self._acquire()
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    def _release_when_done(self, conn: sqlite3.Connection, hop: Future[Any]) -> None:
        def release(done: Future[Any]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved: nobody awaits it any more
            self._idle.put_nowait(conn)

        loop = asyncio.get_running_loop()
        hop.add_done_callback(lambda done: loop.call_soon_threadsafe(release, done))

    async def _run(self, work: Work[T], *, write: bool = False) -> T:
        """`work(conn)` on a pooled connection, in one hop to the pool's threads."""
        conn = await self._acquire()
        hop: Future[T] | None = None
        try:
            loop = asyncio.get_running_loop()
            if write:
                async with self._write_lock:
                    hop = self._threads.submit(work, conn)
                    return await asyncio.shield(asyncio.wrap_future(hop, loop=loop))
            hop = self._threads.submit(work, conn)
            return await asyncio.shield(asyncio.wrap_future(hop, loop=loop))
        finally:
            if hop is None or hop.done():
                self._idle.put_nowait(conn)
            else:  # cancelled while the thread still works on `conn`
                self._release_when_done(conn, hop)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def get_world(self, id_: int) -> World:
        row = await self._run(lambda conn: conn.execute(_SELECT_WORLD, (id_,)).fetchone())
        return world(row[0], row[1])

    async def get_worlds(self, ids: list[int]) -> list[World]:
        def read(conn: sqlite3.Connection) -> list[World]:
            # TechEmpower: one SELECT per row.
            rows = [conn.execute(_SELECT_WORLD, (id_,)).fetchone() for id_ in ids]
            return [world(row[0], row[1]) for row in rows]

        return await self._run(read)

    async def update_worlds(self, ids: list[int], numbers: list[int]) -> list[World]:
        await self.get_worlds(ids)  # TechEmpower: every row is read with its own query
        params = list(zip(numbers, ids, strict=True))

        def write(conn: sqlite3.Connection) -> None:
            # IMMEDIATE takes the write lock up front (the Flask twin does the same).
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_UPDATE_WORLD, params)
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise

        await self._run(write, write=True)
        return [world(id_, number) for id_, number in zip(ids, numbers, strict=True)]

    async def all_worlds(self) -> dict[int, int]:
        def read(conn: sqlite3.Connection) -> dict[int, int]:
            return dict(conn.execute("SELECT id, randomnumber FROM world").fetchall())

        return await self._run(read)

    async def fortunes(self) -> list[tuple[int, str]]:
        def read(conn: sqlite3.Connection) -> list[tuple[int, str]]:
            return [(row[0], row[1]) for row in conn.execute("SELECT id, message FROM fortune")]

        return await self._run(read)

    async def create_item(self, item: ItemIn) -> Item:
        sql = f"INSERT INTO items (name, price, tags) VALUES (?, ?, ?) RETURNING {_ITEM_COLUMNS}"
        params = (item.name, item.price, json.dumps(item.tags))
        row = await self._run(lambda conn: conn.execute(sql, params).fetchone(), write=True)
        return _item(row)

    async def get_item(self, id_: int) -> Item | None:
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?"
        row = await self._run(lambda conn: conn.execute(sql, (id_,)).fetchone())
        return _item(row) if row else None

    async def list_items(self, limit: int, offset: int) -> list[Item]:
        sql = f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id LIMIT ? OFFSET ?"
        rows = await self._run(lambda conn: conn.execute(sql, (limit, offset)).fetchall())
        return [_item(row) for row in rows]

    async def replace_item(self, id_: int, item: ItemIn) -> Item | None:
        sql = (
            f"UPDATE items SET name = ?, price = ?, tags = ? WHERE id = ? RETURNING {_ITEM_COLUMNS}"
        )
        params = (item.name, item.price, json.dumps(item.tags), id_)
        row = await self._run(lambda conn: conn.execute(sql, params).fetchone(), write=True)
        return _item(row) if row else None

    async def delete_item(self, id_: int) -> bool:
        sql = "DELETE FROM items WHERE id = ? RETURNING id"
        row = await self._run(lambda conn: conn.execute(sql, (id_,)).fetchone(), write=True)
        return row is not None

    async def close(self) -> None:
        # Let running hops finish (a thread never outlives the connection it uses).
        await asyncio.get_running_loop().run_in_executor(None, self._threads.shutdown, True)
        for conn in self._all:
            conn.close()
