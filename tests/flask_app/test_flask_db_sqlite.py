"""SQLite specifics: connection settings and the little pool."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from twinbench.apps.flask_app.db_sqlite import PoolTimeout, SqliteStorage


def test_connection_settings(sqlite_path: Path) -> None:
    storage = SqliteStorage(str(sqlite_path), 2)
    try:
        with storage._connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
            assert conn.isolation_level is None  # autocommit; explicit BEGIN for batches
    finally:
        storage.close()


def test_pool_hands_out_each_connection_once(sqlite_path: Path) -> None:
    storage = SqliteStorage(str(sqlite_path), 1)
    try:
        with storage._connection(), pytest.raises(PoolTimeout):
            storage.ping(0.05)
        storage.ping(0.05)  # returned to the pool afterwards
    finally:
        storage.close()


def test_failed_batch_rolls_back_and_returns_the_connection(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = SqliteStorage(str(sqlite_path), 1)
    try:
        before = storage.world(1)
        with pytest.raises(ValueError):
            storage.update_worlds([1, 2], [5])  # zip(strict=True) fails before BEGIN
        with pytest.raises(LookupError):
            storage.update_worlds([1, 10_001], [5, 6])
        assert storage.world(1) == before
        storage.ping(0.05)
    finally:
        storage.close()


def test_concurrent_updates_from_two_pools_do_not_fail(sqlite_path: Path) -> None:
    # Two "worker processes" writing the same file: BEGIN IMMEDIATE + busy_timeout serialise
    # them instead of raising "database is locked".
    pools = [SqliteStorage(str(sqlite_path), 2) for _ in range(2)]
    errors: list[BaseException] = []

    def hammer(storage: SqliteStorage, seed: int) -> None:
        try:
            for round_ in range(20):
                ids = [(seed * 31 + round_ * 7 + k) % 10_000 + 1 for k in range(20)]
                storage.update_worlds(list(dict.fromkeys(ids)), [seed] * len(set(ids)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(pools[i % 2], i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for pool in pools:
        pool.close()
    assert errors == []


def test_tags_are_json_text(sqlite_path: Path) -> None:
    from twinbench.apps.common.models import ItemIn

    storage = SqliteStorage(str(sqlite_path), 1)
    try:
        item = storage.create_item(ItemIn(name="n", price=1, tags=["a", "\u00fc"]))
    finally:
        storage.close()
    raw = sqlite3.connect(sqlite_path).execute("SELECT tags FROM items WHERE id = ?", (item.id,))
    assert raw.fetchone() == ('["a", "\\u00fc"]',)


def test_writes_go_through_the_offload_and_reads_do_not(sqlite_path: Path) -> None:
    from collections.abc import Callable
    from typing import Any

    from twinbench.apps.common.models import ItemIn

    calls: list[str] = []

    def offload(work: Callable[[], Any]) -> Any:
        calls.append("offloaded")
        return work()

    storage = SqliteStorage(str(sqlite_path), 1, offload=offload)
    try:
        item = storage.create_item(ItemIn(name="n", price=1))
        assert storage.replace_item(item.id, ItemIn(name="m", price=2)) is not None
        assert storage.update_worlds([1], [77]) == [storage.world(1)]
        assert storage.delete_item(item.id) is True
        assert calls == ["offloaded"] * 4
        storage.get_item(item.id)
        storage.worlds([1, 2])
        storage.list_items(5, 0)
        assert len(calls) == 4
    finally:
        storage.close()


def test_default_offload_is_inline_without_gevent() -> None:
    from twinbench.apps.flask_app.db_sqlite import default_offload

    assert default_offload()(lambda: 42) == 42


def test_default_offload_under_gevent_does_not_block_other_greenlets(
    sqlite_path: Path, tmp_path: Path
) -> None:
    # A write stuck behind another process's lock must let the worker's other greenlets run.
    import subprocess
    import sys

    script = tmp_path / "probe.py"
    script.write_text(
        "from gevent import monkey; monkey.patch_all()\n"
        "import sqlite3, subprocess, sys, time, gevent\n"
        "from twinbench.apps.common.models import ItemIn\n"
        "from twinbench.apps.flask_app.db_sqlite import SqliteStorage\n"
        "path = sys.argv[1]\n"
        "storage = SqliteStorage(path, 2)\n"
        "holder = subprocess.Popen([sys.executable, '-c', 'import sqlite3, sys, time; "
        'c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE");'
        ' print("locked", flush=True); time.sleep(0.6); c.execute("COMMIT")\', path],'
        " stdout=subprocess.PIPE, text=True)\n"
        "holder.stdout.readline()\n"
        "ticks = []\n"
        "def tick():\n"
        "    for _ in range(5): ticks.append(time.monotonic()); gevent.sleep(0.05)\n"
        "start = time.monotonic()\n"
        "w = gevent.spawn(storage.create_item, ItemIn(name='g', price=1)); t = gevent.spawn(tick)\n"
        "gevent.joinall([w, t]); holder.wait()\n"
        "print(round(ticks[-1] - start, 2), w.value.name)\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), str(sqlite_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr
    last_tick, name = out.stdout.split()
    assert float(last_tick) < 0.5  # ticked on while the write waited ~0.6 s for the lock
    assert name == "g"
