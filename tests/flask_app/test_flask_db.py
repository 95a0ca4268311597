"""The Storage contract, run against both backends that `open_storage` can return."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twinbench.apps.common.fortunes import FORTUNES
from twinbench.apps.common.models import Item, ItemIn
from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.flask_app.db import Storage, World, open_storage
from twinbench.apps.flask_app.db_sqlite import SqliteStorage


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, sqlite_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        url = f"sqlite:///{sqlite_path}"
    else:
        url = request.getfixturevalue("pg_url")
    found = open_storage(AppConfig(parse_database_url(url), "http://127.0.0.1:1", 2))
    yield found
    if request.param == "postgres":
        _wipe_items(found)
    found.close()


def _wipe_items(storage: Storage) -> None:
    for item in storage.list_items(100, 0):
        storage.delete_item(item.id)


def test_backend_choice(sqlite_path: Path) -> None:
    found = open_storage(AppConfig(parse_database_url(f"sqlite:///{sqlite_path}"), "x", 1))
    assert isinstance(found, SqliteStorage)
    found.close()


def test_worlds(storage: Storage) -> None:
    storage.ping(1.0)
    world = storage.world(42)
    assert world is not None
    assert world.id == 42
    assert 1 <= world.random_number <= 10_000
    assert world.to_json() == {"id": 42, "randomNumber": world.random_number}
    assert storage.world(10_001) is None
    assert storage.worlds([3, 3, 9]) == [storage.world(3), storage.world(3), storage.world(9)]
    everything = storage.all_worlds()
    assert len(everything) == 10_000
    assert {w.id for w in everything} == set(range(1, 10_001))


def test_update_worlds_persists(storage: Storage) -> None:
    ids = [5, 1, 9999]
    numbers = [11, 22, 33]
    assert storage.update_worlds(ids, numbers) == [World(5, 11), World(1, 22), World(9999, 33)]
    assert storage.worlds(ids) == [World(5, 11), World(1, 22), World(9999, 33)]


def test_fortunes(storage: Storage) -> None:
    assert sorted(storage.fortunes()) == list(FORTUNES)


def test_items(storage: Storage) -> None:
    first = storage.create_item(ItemIn(name="a", price=1.25, tags=["x", "y"]))
    second = storage.create_item(ItemIn(name="b\u00e9", price=0))
    assert first == Item(id=first.id, name="a", price=1.25, tags=["x", "y"])
    assert second.tags == []
    assert second.id > first.id
    assert storage.get_item(first.id) == first
    assert storage.list_items(10, 0) == [first, second]
    assert storage.list_items(1, 1) == [second]
    assert storage.list_items(10, 2) == []
    replaced = storage.replace_item(first.id, ItemIn(name="c", price=9, tags=[]))
    assert replaced == Item(id=first.id, name="c", price=9.0, tags=[])
    assert storage.get_item(first.id) == replaced
    assert storage.replace_item(2_000_000_000, ItemIn(name="c", price=9)) is None
    assert storage.delete_item(first.id) is True
    assert storage.delete_item(first.id) is False
    assert storage.get_item(first.id) is None
