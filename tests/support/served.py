"""A running registry target as the contract tests see it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from twinbench.apps.common.settings import DatabaseKind, DatabaseURL
from twinbench.define.targets import Feature, Target, default_registry
from twinbench.run.ports import free_port
from twinbench.run.process import ManagedProcess
from twinbench.run.servers import ServeConfig, target_process

from .headers import assert_common_headers
from .procs import running


@dataclass(frozen=True)
class Served:
    target: Target
    config: ServeConfig
    database: DatabaseURL
    client: httpx.Client
    process: ManagedProcess

    def stderr_tail(self, lines: int = 200) -> str:
        """The server's recent stderr (its error log), to look for tracebacks."""
        return self.process.stderr_tail(lines)

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url[len("http") :]

    def require(self, feature: Feature) -> None:
        """Skip exactly the cells the registry declares unsupported, with its reason."""
        if not self.target.supports(feature):
            why = self.target.unsupported[feature]
            pytest.skip(reason=f"unsupported feature on {self.target.name}: {why}")

    def all_worlds(self) -> dict[int, int]:
        """Every World row's randomNumber, read straight from the database."""
        if self.database.kind is DatabaseKind.POSTGRES:
            with psycopg.connect(self.database.url) as conn:
                rows: list[Any] = conn.execute("SELECT id, randomnumber FROM world").fetchall()
        else:
            with sqlite3.connect(self.database.sqlite_path) as conn:
                rows = conn.execute("SELECT id, randomnumber FROM world").fetchall()
        return {int(i): int(n) for i, n in rows}

    def set_worlds(self, numbers: dict[int, int]) -> None:
        """Write randomNumbers straight into the database, behind the app's back."""
        params = [(n, i) for i, n in numbers.items()]
        if self.database.kind is DatabaseKind.POSTGRES:
            with psycopg.connect(self.database.url) as conn, conn.cursor() as cur:
                cur.executemany("UPDATE world SET randomnumber = %s WHERE id = %s", params)
        else:
            with sqlite3.connect(self.database.sqlite_path, timeout=30) as conn:
                conn.executemany("UPDATE world SET randomnumber = ? WHERE id = ?", params)

    def world(self, ids: list[int]) -> dict[int, int]:
        """randomNumber by id, read straight from the database (not through the app)."""
        if self.database.kind is DatabaseKind.POSTGRES:
            with psycopg.connect(self.database.url) as conn:
                rows: list[Any] = conn.execute(
                    "SELECT id, randomnumber FROM world WHERE id = ANY(%s)", (ids,)
                ).fetchall()
        else:
            with sqlite3.connect(self.database.sqlite_path) as conn:
                marks = ",".join("?" * len(ids))
                rows = conn.execute(
                    f"SELECT id, randomnumber FROM world WHERE id IN ({marks})", ids
                ).fetchall()
        return {int(i): int(n) for i, n in rows}


@contextlib.contextmanager
def serve(
    target_name: str, database: DatabaseURL, upstream: str, log_dir: Path
) -> Iterator[Served]:
    """One worker of a registry target on a free loopback port, with a client; stopped after.

    One worker: /ws/broadcast is per worker process (apps/CONTRACT.md), and one worker keeps
    a dozen servers cheap on 2 cores.
    """
    target = default_registry().get(target_name)
    config = ServeConfig(
        target=target,
        host="127.0.0.1",
        port=free_port(),
        workers=1,
        threads=target.threads,
        cpus=None,
        database=database,
        upstream_url=upstream,
    )
    proc = target_process(config, log_dir)
    # Every response through the client is checked for the contract's common headers.
    hooks = {"response": [assert_common_headers]}
    with (
        running(proc),
        httpx.Client(base_url=config.base_url, timeout=20, trust_env=False, event_hooks=hooks) as c,
    ):
        yield Served(target, config, database, c, proc)
        # A server that crashed during the tests must not pass silently.
        proc.check_alive()
        assert "Traceback" not in proc.stderr_tail(200), proc.stderr_tail(60)
