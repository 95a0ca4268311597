"""Fixtures for the naive FastAPI ports: a seeded SQLite file and an app of each kind."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest

from twinbench.apps.common.schema import ddl, fortune_rows, world_rows
from twinbench.apps.common.settings import AppConfig, DatabaseKind

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    path = tmp_path / "naive.sqlite3"
    conn = sqlite3.connect(path)
    try:
        for statement in ddl(DatabaseKind.SQLITE):
            conn.execute(statement)
        conn.executemany("INSERT INTO world (id, randomnumber) VALUES (?, ?)", world_rows())
        conn.executemany("INSERT INTO fortune (id, message) VALUES (?, ?)", fortune_rows())
        conn.commit()
    finally:
        conn.close()
    return AppConfig.from_env(
        {
            "TWINBENCH_DATABASE_URL": f"sqlite:///{path}",
            # Nothing listens on port 9: every upstream call fails fast (502).
            "TWINBENCH_UPSTREAM_URL": "http://127.0.0.1:9",
            "TWINBENCH_DB_POOL_SIZE": "2",
        }
    )
