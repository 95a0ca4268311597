"""Fixtures for the naive FastAPI ports: a seeded SQLite file and an app of each kind."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from fastapi_app.helpers import seed_sqlite

from twinbench.apps.common.settings import AppConfig

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    path = tmp_path / "naive.sqlite3"
    seed_sqlite(path)
    return AppConfig.from_env(
        {
            "TWINBENCH_DATABASE_URL": f"sqlite:///{path}",
            # Nothing listens on port 9: every upstream call fails fast (502).
            "TWINBENCH_UPSTREAM_URL": "http://127.0.0.1:9",
            "TWINBENCH_DB_POOL_SIZE": "2",
        }
    )
