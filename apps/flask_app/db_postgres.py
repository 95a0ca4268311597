"""PostgreSQL storage: psycopg 3 with a fixed-size `psycopg_pool.ConnectionPool`.

Connections run in autocommit mode: every read is a single statement, so an implicit BEGIN
would only add a round trip. The one multi-statement write (/updates) opens an explicit
transaction.

Under gevent, psycopg (>= 3.2) notices that `select` is monkey-patched when it is imported and
then waits on sockets cooperatively instead of in C, so one slow query does not stall the
worker's other greenlets. The pool's worker threads are greenlets then, too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from psycopg import Connection, Cursor
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.pools import ACQUIRE_TIMEOUT_S, PoolExhausted

from .db import World

_ITEM_COLUMNS = "id, name, price, tags"
_SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
_UPDATE_WORLD = "UPDATE world SET randomnumber = %s WHERE id = %s"


def _item(row: TupleRow) -> Item:
    return Item(id=row[0], name=row[1], price=row[2], tags=row[3])


def _world(cur: Cursor[TupleRow], world_id: int) -> World:
    row = cur.execute(_SELECT_WORLD, (world_id,)).fetchone()
    if row is None:
        raise LookupError(f"world row {world_id} is missing: was the database seeded?")
    return World(row[0], row[1])


class PostgresStorage:
    def __init__(
        self,
        url: str,
        pool_size: int,
        open_timeout: float = 30.0,
        acquire_timeout: float = ACQUIRE_TIMEOUT_S,
    ) -> None:
        self._acquire_timeout = acquire_timeout
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=pool_size,
            max_size=pool_size,
            kwargs={"autocommit": True},
            name="twinbench-flask",
            open=False,
        )
        # Fail fast at start-up if the database is unreachable, rather than on the first request.
        self._pool.open(wait=True, timeout=open_timeout)

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[Connection]:
        """`pool.connection()`, with psycopg_pool's PoolTimeout as the twins' PoolExhausted."""
        timeout = self._acquire_timeout if timeout is None else timeout
        try:
            with self._pool.connection(timeout) as conn:
                yield conn
        except PoolTimeout:  # only getconn raises it: nothing inside waits on this pool
            raise PoolExhausted(timeout) from None

    def ping(self, timeout: float) -> None:
        with self._connection(timeout) as conn:
            conn.execute("SELECT 1").fetchone()

    def world(self, world_id: int) -> World | None:
        with self._connection() as conn:
            row = conn.execute(_SELECT_WORLD, (world_id,)).fetchone()
        return World(row[0], row[1]) if row else None

    def worlds(self, ids: Sequence[int]) -> list[World]:
        with self._connection() as conn, conn.cursor() as cur:
            return [_world(cur, i) for i in ids]

    def all_worlds(self) -> list[World]:
        with self._connection() as conn:
            return [
                World(row[0], row[1]) for row in conn.execute("SELECT id, randomnumber FROM world")
            ]

    def update_worlds(self, ids: Sequence[int], numbers: Sequence[int]) -> list[World]:
        with self._connection() as conn, conn.cursor() as cur:
            read = [_world(cur, i) for i in ids]
            updated = [World(w.id, n) for w, n in zip(read, numbers, strict=True)]
            # Rows are locked in id order so that concurrent /updates never deadlock;
            # executemany runs in pipeline mode, i.e. one round trip for the whole batch.
            params = sorted(((w.random_number, w.id) for w in updated), key=lambda p: p[1])
            with conn.transaction():
                cur.executemany(_UPDATE_WORLD, params)
        return updated

    def fortunes(self) -> list[tuple[int, str]]:
        with self._connection() as conn:
            return [(row[0], row[1]) for row in conn.execute("SELECT id, message FROM fortune")]

    def create_item(self, item: ItemIn) -> Item:
        with self._connection() as conn:
            row = conn.execute(
                f"INSERT INTO items (name, price, tags) VALUES (%s, %s, %s) "
                f"RETURNING {_ITEM_COLUMNS}",
                (item.name, item.price, item.tags),
            ).fetchone()
        assert row is not None  # INSERT ... RETURNING always yields the row
        return _item(row)

    def get_item(self, item_id: int) -> Item | None:
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = %s", (item_id,)
            ).fetchone()
        return _item(row) if row else None

    def list_items(self, limit: int, offset: int) -> list[Item]:
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id LIMIT %s OFFSET %s",
                (limit, offset),
            ).fetchall()
        return [_item(row) for row in rows]

    def replace_item(self, item_id: int, item: ItemIn) -> Item | None:
        with self._connection() as conn:
            row = conn.execute(
                f"UPDATE items SET name = %s, price = %s, tags = %s WHERE id = %s "
                f"RETURNING {_ITEM_COLUMNS}",
                (item.name, item.price, item.tags, item_id),
            ).fetchone()
        return _item(row) if row else None

    def delete_item(self, item_id: int) -> bool:
        with self._connection() as conn:
            return conn.execute("DELETE FROM items WHERE id = %s", (item_id,)).rowcount > 0

    def close(self) -> None:
        self._pool.close()
