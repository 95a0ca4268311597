from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from twinbench.apps.common.fortunes import FORTUNES
from twinbench.apps.common.settings import DatabaseKind, DatabaseURL
from twinbench.errors import DatabaseUnavailableError, UsageError
from twinbench.run.database import check_reachable, init_database, resolve_database


def test_resolve_defaults_to_an_absolute_sqlite_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    db = resolve_database(None)
    assert db.kind is DatabaseKind.SQLITE
    assert db.sqlite_path == str(tmp_path / ".twinbench" / "twinbench.sqlite3")


def test_resolve_rejects_unknown_schemes() -> None:
    with pytest.raises(UsageError, match="mysql://h/db"):
        resolve_database("mysql://h/db")


def test_sqlite_init_seeds_and_is_idempotent(tmp_path: Path) -> None:
    db = resolve_database(f"sqlite:///{tmp_path}/sub/dir/x.db")
    first = init_database(db)
    assert first.world_seeded and first.fortunes == 12
    conn = sqlite3.connect(db.sqlite_path)
    conn.execute("INSERT INTO items (name, price, tags) VALUES ('a', 1.0, '[]')")
    conn.execute("UPDATE world SET randomnumber = 7 WHERE id = 1")
    conn.commit()
    second = init_database(db)
    assert not second.world_seeded and second.items == 1
    rows = conn.execute(
        "SELECT count(*), min(id), max(id), min(randomnumber), max(randomnumber) FROM world"
    ).fetchone()
    assert rows[:3] == (10_000, 1, 10_000) and rows[3] >= 1 and rows[4] <= 10_000
    assert conn.execute("SELECT randomnumber FROM world WHERE id = 1").fetchone() == (7,)
    assert conn.execute("SELECT id, message FROM fortune ORDER BY id").fetchall() == list(FORTUNES)


@pytest.mark.postgres
def test_postgres_init_is_idempotent(pg_database: DatabaseURL) -> None:
    again = init_database(pg_database)
    assert not again.world_seeded and again.fortunes == 12
    with psycopg.connect(pg_database.url) as conn:
        assert conn.execute("SELECT count(*) FROM world").fetchone() == (10_000,)
        got = conn.execute("SELECT id, message FROM fortune ORDER BY id").fetchall()
    assert got == list(FORTUNES)


def test_unreachable_postgres_is_one_clear_line() -> None:
    db = DatabaseURL(DatabaseKind.POSTGRES, "postgresql://root@127.0.0.1:9/none")
    with pytest.raises(DatabaseUnavailableError, match=r"cannot reach postgresql://root@127") as e:
        check_reachable(db)
    assert "\n" not in str(e.value)


def test_resolve_turns_a_mangled_url_into_a_usage_error() -> None:
    # urlsplit raises ValueError("Invalid IPv6 URL"): it reached the user as a traceback.
    with pytest.raises(UsageError, match=r"postgresql://\[bad"):
        resolve_database("postgresql://[bad")


def test_sqlite_file_that_is_not_a_database_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    with pytest.raises(DatabaseUnavailableError, match="file is not a database") as e:
        init_database(resolve_database(f"sqlite:///{path}"))
    assert str(path) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.postgres
def test_postgres_refusing_writes_is_one_clear_line(pg_database: DatabaseURL) -> None:
    read_only = DatabaseURL(
        DatabaseKind.POSTGRES,
        pg_database.url + "?options=-c%20default_transaction_read_only%3Don",
    )
    check_reachable(read_only)  # it answers...
    with pytest.raises(DatabaseUnavailableError, match="read-only transaction") as e:
        init_database(read_only)  # ...but refuses the work
    assert "cannot initialise postgresql://" in str(e.value) and "\n" not in str(e.value)
