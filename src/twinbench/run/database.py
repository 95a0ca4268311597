"""`twinbench db init`: create and seed the tables, idempotently, on SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from twinbench.apps.common import schema
from twinbench.apps.common.settings import (
    DEFAULT_DATABASE_URL,
    DatabaseKind,
    DatabaseURL,
    parse_database_url,
)
from twinbench.errors import DatabaseUnavailableError, UsageError


@dataclass(frozen=True)
class InitReport:
    database: str
    world_seeded: bool  # False when the 10,000 rows were already there
    fortunes: int
    items: int


def resolve_database(url: str | None) -> DatabaseURL:
    """The user's URL, or the embedded SQLite default; SQLite paths made absolute."""
    try:
        db = parse_database_url(url or DEFAULT_DATABASE_URL)
    except ValueError as exc:  # ConfigError, and anything urlsplit raises on a mangled URL
        raise UsageError(str(exc)) from None
    if db.kind is DatabaseKind.SQLITE:
        path = Path(db.sqlite_path).expanduser().resolve()
        db = DatabaseURL(DatabaseKind.SQLITE, f"sqlite:///{path}")
    return db


def init_database(db: DatabaseURL, progress: Callable[[str], None] = lambda _: None) -> InitReport:
    if db.kind is DatabaseKind.POSTGRES:
        return _init_postgres(db, progress)
    return _init_sqlite(db, progress)


def check_reachable(db: DatabaseURL) -> None:
    """Fail with one clear line (exit 2) if the database cannot be opened."""
    if db.kind is DatabaseKind.POSTGRES:
        try:
            with psycopg.connect(db.url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise DatabaseUnavailableError(
                f"cannot reach {db.display}: {_first_line(exc)}"
            ) from None
    else:
        path = Path(db.sqlite_path)
        if path.parent.exists() and not path.parent.is_dir():
            raise DatabaseUnavailableError(f"cannot create {path}: {path.parent} is not a folder")


def _init_postgres(db: DatabaseURL, progress: Callable[[str], None]) -> InitReport:
    check_reachable(db)
    try:
        return _create_and_seed_postgres(db, progress)
    except psycopg.Error as exc:
        # Reachable, but it refused the work: a read-only server or transaction, missing
        # privileges, a full disk... One line naming the database, no traceback.
        raise DatabaseUnavailableError(
            f"cannot initialise {db.display}: {_first_line(exc)}"
        ) from None


def _create_and_seed_postgres(db: DatabaseURL, progress: Callable[[str], None]) -> InitReport:
    with psycopg.connect(db.url) as conn, conn.cursor() as cur:
        # Two `db init`s at once (two test sessions) must not race on CREATE TABLE.
        cur.execute("SELECT pg_advisory_xact_lock(7215001)")
        for stmt in schema.ddl(DatabaseKind.POSTGRES):
            cur.execute(stmt)
        cur.execute("SELECT count(*) FROM world")
        seeded = _count(cur.fetchone()) != schema.WORLD_ROWS
        if seeded:
            progress("seeding 10,000 World rows")
            cur.execute("DELETE FROM world")
            with cur.copy("COPY world (id, randomnumber) FROM STDIN") as copy:
                for row in schema.world_rows():
                    copy.write_row(row)
        cur.executemany(
            "INSERT INTO fortune (id, message) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET message = EXCLUDED.message",
            list(schema.fortune_rows()),
        )
        cur.execute("SELECT count(*) FROM fortune")
        fortunes = _count(cur.fetchone())
        cur.execute("SELECT count(*) FROM items")
        items = _count(cur.fetchone())
    return InitReport(db.display, seeded, fortunes, items)


def _init_sqlite(db: DatabaseURL, progress: Callable[[str], None]) -> InitReport:
    check_reachable(db)
    path = Path(db.sqlite_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseUnavailableError(f"cannot open SQLite file {path}: {exc}") from None
    try:
        return _create_and_seed_sqlite(conn, db, progress)
    except sqlite3.Error as exc:
        # sqlite3.connect opens lazily: a file that is not a database ("file is not a
        # database"), a read-only file or a full disk shows up only here.
        raise DatabaseUnavailableError(f"cannot use SQLite file {path}: {exc}") from None
    finally:
        conn.close()


def _create_and_seed_sqlite(
    conn: sqlite3.Connection, db: DatabaseURL, progress: Callable[[str], None]
) -> InitReport:
    with conn:
        conn.execute("PRAGMA journal_mode=WAL")
        for stmt in schema.ddl(DatabaseKind.SQLITE):
            conn.execute(stmt)
        seeded = _count(conn.execute("SELECT count(*) FROM world").fetchone()) != (
            schema.WORLD_ROWS
        )
        if seeded:
            progress("seeding 10,000 World rows")
            conn.execute("DELETE FROM world")
            conn.executemany(
                "INSERT INTO world (id, randomnumber) VALUES (?, ?)", schema.world_rows()
            )
        conn.executemany(
            "INSERT INTO fortune (id, message) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET message = excluded.message",
            list(schema.fortune_rows()),
        )
        fortunes = _count(conn.execute("SELECT count(*) FROM fortune").fetchone())
        items = _count(conn.execute("SELECT count(*) FROM items").fetchone())
    return InitReport(db.display, seeded, fortunes, items)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _count(row: object) -> int:
    assert isinstance(row, tuple)
    return int(row[0])
