"""The Database protocol, run against both backends open_database() can pick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinbench.apps.common.fortunes import FORTUNES
from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_app.db import Database, open_database, world
from twinbench.apps.fastapi_app.db_postgres import PostgresDatabase
from twinbench.apps.fastapi_app.db_sqlite import SqliteDatabase

from .helpers import make_config

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_config(request: pytest.FixtureRequest, sqlite_path: Path) -> AppConfig:
    if request.param == "sqlite":
        return make_config(f"sqlite:///{sqlite_path}", "http://127.0.0.1:1", pool_size=3)
    url = request.getfixturevalue("clean_postgres_url")
    return make_config(url, "http://127.0.0.1:1", pool_size=3)


@pytest.fixture
async def database(db_config: AppConfig) -> AsyncIterator[Database]:
    db = await open_database(db_config)
    try:
        yield db
    finally:
        await db.close()


async def test_factory_picks_the_backend(db_config: AppConfig, database: Database) -> None:
    expected = SqliteDatabase if db_config.database.url.startswith("sqlite") else PostgresDatabase
    assert isinstance(database, expected)
    await database.ping()


async def test_worlds(database: Database) -> None:
    everything = await database.all_worlds()
    assert sorted(everything) == list(range(1, 10_001))
    assert all(1 <= n <= 10_000 for n in everything.values())
    assert await database.get_world(42) == world(42, everything[42])
    assert await database.get_worlds([3, 1, 2]) == [world(i, everything[i]) for i in (3, 1, 2)]


async def test_update_worlds_persists(database: Database) -> None:
    ids, numbers = [10, 5, 7000], [1, 2, 3]
    assert await database.update_worlds(ids, numbers) == [world(10, 1), world(5, 2), world(7000, 3)]
    after = await database.all_worlds()
    assert (after[10], after[5], after[7000]) == (1, 2, 3)


async def test_concurrent_updates_do_not_fail(database: Database) -> None:
    # Overlapping batches in different orders: no deadlock, no "database is locked".
    batches = [([1, 2, 3, 4], [i] * 4) for i in range(1, 7)]
    batches += [([4, 3, 2, 1], [i] * 4) for i in range(7, 13)]
    await asyncio.gather(*(database.update_worlds(ids, nums) for ids, nums in batches))


async def test_concurrent_mixed_writes_all_land(database: Database) -> None:
    """Creates, replaces, deletes and /updates batches at once, more than the pool holds: every
    write lands (no "database is locked", no deadlock between the pool and the write lock)."""
    made = await asyncio.gather(
        *(database.create_item(ItemIn(name=f"n{i}", price=i)) for i in range(20))
    )
    assert len({m.id for m in made}) == 20
    ops = [database.replace_item(m.id, ItemIn(name="r", price=1)) for m in made[:10]]
    ops += [database.delete_item(m.id) for m in made[10:]]
    ops += [database.update_worlds([1, 2, 3], [i, i, i]) for i in range(1, 6)]
    done = await asyncio.wait_for(asyncio.gather(*ops), 30)
    assert all(r is not None and r is not False for r in done)
    left = await database.list_items(100, 0)
    assert sorted(i.id for i in left) == sorted(m.id for m in made[:10])
    assert {i.name for i in left} == {"r"}


async def test_a_cancelled_batch_leaves_no_transaction_open(database: Database) -> None:
    """A client that goes away mid-/updates cancels the task, at any point of it (reads, BEGIN,
    the UPDATEs, COMMIT): the next writers, on every pooled connection, must find neither the
    write lock nor a transaction still held ("cannot start a transaction within a
    transaction", or a 5 s busy wait)."""
    for delay in [0.0, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008] * 3:
        task = asyncio.ensure_future(database.update_worlds([1, 2, 3, 4, 5], [7] * 5))
        await asyncio.sleep(delay)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    batches = [database.update_worlds([6, 7], [i, i]) for i in range(1, 7)]
    made = [database.create_item(ItemIn(name="x", price=0)) for _ in range(6)]
    await asyncio.wait_for(asyncio.gather(*batches, *made), 4)


async def test_fortunes(database: Database) -> None:
    assert sorted(await database.fortunes()) == sorted(FORTUNES)


async def test_items(database: Database) -> None:
    a = await database.create_item(ItemIn(name="a", price=1.25, tags=["x", "ü"]))
    b = await database.create_item(ItemIn(name="b", price=0))
    assert a == Item(id=a.id, name="a", price=1.25, tags=["x", "ü"])
    assert b.id > a.id and b.tags == []
    assert await database.get_item(a.id) == a
    assert await database.get_item(b.id + 1000) is None
    assert await database.list_items(10, 0) == [a, b]
    assert await database.list_items(1, 1) == [b]
    assert await database.list_items(10, 2_147_483_647) == []
    replaced = await database.replace_item(a.id, ItemIn(name="c", price=3, tags=[]))
    assert replaced == Item(id=a.id, name="c", price=3, tags=[])
    assert await database.replace_item(b.id + 1000, ItemIn(name="c", price=3)) is None
    assert await database.delete_item(a.id) is True
    assert await database.delete_item(a.id) is False
    assert await database.list_items(10, 0) == [b]


async def test_pool_is_shared_under_concurrency(database: Database) -> None:
    # More concurrent operations than connections: they queue for the pool.
    results = await asyncio.gather(*(database.get_world(i) for i in range(1, 31)))
    assert [row["id"] for row in results] == list(range(1, 31))
