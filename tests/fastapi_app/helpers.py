"""Helpers shared by the FastAPI twin's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from twinbench.apps.common.schema import ddl, fortune_rows, world_rows
from twinbench.apps.common.settings import AppConfig, DatabaseKind

# ms values the stand-in upstream (conftest.py) misbehaves on, to exercise the 502 path.
UPSTREAM_FAIL_MS = 7  # answers 500
UPSTREAM_NOT_JSON_MS = 8  # answers 200 with a non-JSON body


def seed_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in ddl(DatabaseKind.SQLITE):
            conn.execute(statement)
        conn.executemany("INSERT INTO world (id, randomnumber) VALUES (?, ?)", world_rows())
        conn.executemany("INSERT INTO fortune (id, message) VALUES (?, ?)", fortune_rows())
        conn.commit()
    finally:
        conn.close()


def make_config(database_url: str, upstream_url: str, pool_size: int = 2) -> AppConfig:
    return AppConfig.from_env(
        {
            "TWINBENCH_DATABASE_URL": database_url,
            "TWINBENCH_UPSTREAM_URL": upstream_url,
            "TWINBENCH_DB_POOL_SIZE": str(pool_size),
        }
    )


def assert_error(
    response: httpx.Response, status: int, code: str, details: list[Any] | None = None
) -> None:
    """The contract's error shape, with this status and code (and details, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if details is not None:
        assert body["error"]["details"] == details


POSTGRES_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"
POSTGRES_SCRATCH_DB = "fastapi_scratch"
POSTGRES_SCRATCH_URL = f"postgresql://root@127.0.0.1:5432/{POSTGRES_SCRATCH_DB}"


async def create_postgres_scratch() -> None:
    """(Re)create and seed this suite's own scratch database."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_SCRATCH_DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {POSTGRES_SCRATCH_DB}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(POSTGRES_SCRATCH_URL)
    try:
        for statement in ddl(DatabaseKind.POSTGRES):
            await conn.execute(statement)
        await conn.executemany("INSERT INTO world (id, randomnumber) VALUES ($1, $2)", world_rows())
        await conn.executemany("INSERT INTO fortune (id, message) VALUES ($1, $2)", fortune_rows())
    finally:
        await conn.close()


async def drop_postgres_scratch() -> None:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_SCRATCH_DB} WITH (FORCE)")
    finally:
        await admin.close()


async def reset_postgres_items() -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_SCRATCH_URL)
    try:
        await conn.execute("TRUNCATE items RESTART IDENTITY")
    finally:
        await conn.close()
