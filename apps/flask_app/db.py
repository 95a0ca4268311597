"""Storage interface of the Flask twin and the factory that picks a backend from the config.

Views only ever talk to a `Storage`; the PostgreSQL (psycopg 3 pool) and SQLite (sqlite3 pool)
backends live in their own modules. Rows cross this boundary as typed values (`World`, `Item`),
never as loose dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.settings import AppConfig, DatabaseKind


class World(NamedTuple):
    id: int
    random_number: int

    def to_json(self) -> dict[str, int]:
        # TechEmpower spells the column `randomNumber` in responses.
        return {"id": self.id, "randomNumber": self.random_number}


class Storage(Protocol):
    """Everything the views need from the database. Implementations are thread-safe."""

    def ping(self, timeout: float) -> None:
        """Run `SELECT 1`; raise if the database does not answer within `timeout` seconds."""

    def world(self, world_id: int) -> World | None: ...

    def worlds(self, ids: Sequence[int]) -> list[World]:
        """One SELECT per id (TechEmpower's rule), on one pooled connection."""
        ...

    def all_worlds(self) -> list[World]: ...

    def update_worlds(self, ids: Sequence[int], numbers: Sequence[int]) -> list[World]:
        """Read each row with its own SELECT, then persist `numbers` in one batch."""
        ...

    def fortunes(self) -> list[tuple[int, str]]: ...

    def create_item(self, item: ItemIn) -> Item: ...

    def get_item(self, item_id: int) -> Item | None: ...

    def list_items(self, limit: int, offset: int) -> list[Item]: ...

    def replace_item(self, item_id: int, item: ItemIn) -> Item | None: ...

    def delete_item(self, item_id: int) -> bool: ...

    def close(self) -> None: ...


def open_storage(config: AppConfig) -> Storage:
    """Open the pool for `config.database` (called once per worker process, after fork)."""
    # Imported lazily so a SQLite deployment never imports psycopg, and so that psycopg is
    # imported only after gevent has monkey-patched (psycopg picks its wait function at import).
    if config.database.kind is DatabaseKind.POSTGRES:
        from .db_postgres import PostgresStorage

        return PostgresStorage(
            config.database.url, config.pool_size, acquire_timeout=config.pool_timeout_s
        )
    from .db_sqlite import SqliteStorage

    return SqliteStorage(
        config.database.sqlite_path, config.pool_size, acquire_timeout=config.pool_timeout_s
    )
