"""One real server per (target, database back-end), shared by every contract test.

The `server` fixture is session-scoped and parametrized, so pytest groups the tests by
server and starts each server once. Workers = 1: /ws/broadcast is per worker process
(apps/CONTRACT.md), and one worker keeps 12 servers cheap on 2 cores.
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
