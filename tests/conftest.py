"""Shared fixtures: databases (SQLite file, an isolated PostgreSQL database), the mock
upstream, and real servers for registry targets.

PostgreSQL tests run against a throw-away database created per session, never against the
shared `test` database that benchmarks use. When CI=true and PostgreSQL cannot be reached,
they fail instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from support.served import Served, serve

from twinbench.apps.common.settings import DatabaseKind, DatabaseURL
from twinbench.run.database import init_database
from twinbench.run.ports import free_port
from twinbench.run.servers import upstream_process

PG_ADMIN_URL = os.environ.get("TWINBENCH_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    return None


@pytest.fixture(scope="session")
def pg_database() -> Iterator[DatabaseURL]:
    """A fresh, seeded PostgreSQL database for this session; dropped afterwards."""
    problem = _pg_reachable()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(reason=f"unsupported here (feature needs PostgreSQL): {message}")
    name = f"twinbench_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = DatabaseURL(DatabaseKind.POSTGRES, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    init_database(url)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> DatabaseURL:
    path = tmp_path_factory.mktemp("sqlite") / "twinbench.sqlite3"
    url = DatabaseURL(DatabaseKind.SQLITE, f"sqlite:///{path}")
    init_database(url)
    return url


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real mock upstream on a free loopback port; yields its base URL."""
    port = free_port()
    proc = upstream_process("127.0.0.1", port, tmp_path_factory.mktemp("upstream-logs"))
    with proc:
        proc.wait_healthy(30)
        yield f"http://127.0.0.1:{port}"


FLASK_TWIN = "flask-gunicorn-gthread"
FASTAPI_TWIN = "fastapi-uvicorn"


@pytest.fixture(scope="session")
def twins(
    upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, Served]]:
    """A Flask target and a FastAPI target, each on its own byte-identical SQLite copy.

    Parity tests send every request to both in the same order, so the two databases stay
    in lockstep (same item ids, same rows); only random values drift apart.
    """
    base = tmp_path_factory.mktemp("twins")
    seed = DatabaseURL(DatabaseKind.SQLITE, f"sqlite:///{base / 'seed.sqlite3'}")
    init_database(seed)
    served = []
    with contextlib.ExitStack() as stack:
        for name in (FLASK_TWIN, FASTAPI_TWIN):
            path = base / f"{name}.sqlite3"
            shutil.copy(base / "seed.sqlite3", path)
            database = DatabaseURL(DatabaseKind.SQLITE, f"sqlite:///{path}")
            served.append(
                stack.enter_context(serve(name, database, upstream, base / f"logs-{name}"))
            )
        yield served[0], served[1]
