"""Fixtures for the FastAPI twin's in-process tests: a seeded SQLite file, a stand-in
upstream (a test double only; the real mock upstream is apps/upstream) and a TestClient
that runs the app's lifespan."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from twinbench.apps.common.settings import AppConfig

# Starlette ≥ 1.x deprecates its TestClient on httpx (it wants httpx2); it still works.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from starlette.testclient import TestClient  # noqa: E402

from twinbench.apps.fastapi_app import create_app  # noqa: E402

from .helpers import (  # noqa: E402
    POSTGRES_SCRATCH_URL,
    UPSTREAM_FAIL_MS,
    UPSTREAM_NOT_JSON_MS,
    create_postgres_scratch,
    drop_postgres_scratch,
    make_config,
    reset_postgres_items,
    seed_sqlite,
)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "twinbench.sqlite3"
    seed_sqlite(path)
    return path


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        ms = int(parse_qs(url.query).get("ms", ["0"])[0])
        if url.path != "/delay":
            status, body = 404, b"{}"
        elif ms == UPSTREAM_FAIL_MS:
            status, body = 500, b'{"error": "boom"}'
        elif ms == UPSTREAM_NOT_JSON_MS:
            status, body = 200, b"<html>not json</html>"
        else:
            time.sleep(ms / 1000)
            status, body = 200, json.dumps({"delay_ms": ms}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="session")
def upstream_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def config(sqlite_path: Path, upstream_url: str) -> AppConfig:
    return make_config(f"sqlite:///{sqlite_path}", upstream_url)


@pytest.fixture
def client(config: AppConfig) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a bug must show up as the 500 a real client would see.
    with TestClient(create_app(config), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This suite's scratch database, created and seeded once, dropped at the end.

    Skips when PostgreSQL is not reachable, except under CI=true, where it must be.
    """
    try:
        asyncio.run(create_postgres_scratch())
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not available: {exc}")
    try:
        yield POSTGRES_SCRATCH_URL
    finally:
        asyncio.run(drop_postgres_scratch())


@pytest.fixture
def clean_postgres_url(postgres_url: str) -> str:
    asyncio.run(reset_postgres_items())
    return postgres_url
