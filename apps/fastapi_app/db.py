"""The storage interface the routers use, and the factory that picks a backend.

Routes depend on this Protocol only, so PostgreSQL (asyncpg) and SQLite (sqlite3) are
interchangeable and tests can swap in either.
"""

from __future__ import annotations

from typing import Protocol

from typing_extensions import TypedDict

from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.settings import AppConfig, DatabaseKind


class World(TypedDict):
    """One World row as TechEmpower serializes it (a plain dict at run time). The routes
    declare it as their return type, so FastAPI validates and serializes the rows with
    Pydantic, to JSON bytes in Rust, in this key order."""

    id: int
    randomNumber: int  # TechEmpower's spelling


def world(id_: int, number: int) -> World:
    return {"id": id_, "randomNumber": number}


class Database(Protocol):
    async def ping(self) -> None:
        """Raise unless a pooled connection answers `SELECT 1`."""

    async def get_world(self, id_: int) -> World: ...

    async def get_worlds(self, ids: list[int]) -> list[World]:
        """One SELECT per id (TechEmpower's rule), all on one connection."""
        ...

    async def update_worlds(self, ids: list[int], numbers: list[int]) -> list[World]:
        """Read every row with its own SELECT, then write all new numbers in one batch."""
        ...

    async def all_worlds(self) -> dict[int, int]: ...

    async def fortunes(self) -> list[tuple[int, str]]: ...

    async def create_item(self, item: ItemIn) -> Item: ...

    async def get_item(self, id_: int) -> Item | None: ...

    async def list_items(self, limit: int, offset: int) -> list[Item]: ...

    async def replace_item(self, id_: int, item: ItemIn) -> Item | None: ...

    async def delete_item(self, id_: int) -> bool: ...

    async def close(self) -> None: ...


async def open_database(config: AppConfig) -> Database:
    """Open the pool the config names (imports are local so each backend is optional)."""
    if config.database.kind is DatabaseKind.POSTGRES:
        from .db_postgres import PostgresDatabase

        return await PostgresDatabase.open(
            config.database.url, config.pool_size, config.pool_timeout_s
        )
    from .db_sqlite import SqliteDatabase

    return await SqliteDatabase.open(
        config.database.sqlite_path, config.pool_size, config.pool_timeout_s
    )
