"""One real server per (target, database back-end), shared by every contract test.

The `server` fixture is session-scoped and parametrized, so pytest groups the tests by
server and starts each server once. Workers = 1: /ws/broadcast is per worker process
(apps/CONTRACT.md), and one worker keeps 16 servers cheap on 2 cores.

Every target runs the whole suite on both back-ends, on purpose. Considered and measured
(2-core machine, other jobs running): PostgreSQL only for the tests that touch the database,
and the rest only on one target per database code path (Flask's psycopg pool under a
thread-ish worker and under gevent, FastAPI's asyncpg, the naive port's blocking psycopg).
The whole of tests/contract (16 servers, 2,808 items) takes 65 s, about 4 s a server, most of
it the server's start-up; its PostgreSQL half about 30 s of a ~20 min suite. Trimming would
save some 15 s and stop checking, among others, psycopg's pool of one connection under a
gunicorn sync worker, under waitress's thread pool and under Starlette's thread pool (the
naive sync port), which no other test starts. The suite's time is elsewhere (README,
"Tests").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.served import Served, serve

from twinbench.define.targets import default_registry

BACKENDS = ("sqlite", "postgres")


def _params() -> list[Any]:
    out = []
    for backend in BACKENDS:
        for target in default_registry():
            marks = [pytest.mark.slow]
            if backend == "postgres":
                marks.append(pytest.mark.postgres)
            out.append(
                pytest.param((target.name, backend), id=f"{target.name}-{backend}", marks=marks)
            )
    return out


@pytest.fixture(scope="session", params=_params())
def server(
    request: pytest.FixtureRequest, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    name, backend = request.param
    database = request.getfixturevalue(
        "pg_database" if backend == "postgres" else "sqlite_database"
    )
    with serve(name, database, upstream, tmp_path_factory.mktemp(f"logs-{name}-{backend}")) as s:
        yield s
