"""Fixtures for the Flask twin's in-process tests: a seeded SQLite file per test, a stand-in
for the mock upstream, and apps built with `create_app`. PostgreSQL tests get a scratch
database of their own (`flask_scratch_<pid>`), created and dropped around the session."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from twinbench.apps.common.schema import ddl, fortune_rows, world_rows
from twinbench.apps.common.settings import AppConfig, DatabaseKind, parse_database_url
from twinbench.apps.flask_app import create_app
from twinbench.apps.flask_app.state import Services

PG_ADMIN_URL = os.environ.get("TWINBENCH_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test")


def seed_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in ddl(DatabaseKind.SQLITE):
            conn.execute(statement)
        conn.executemany("INSERT INTO world (id, randomnumber) VALUES (?, ?)", world_rows())
        conn.executemany("INSERT INTO fortune (id, message) VALUES (?, ?)", fortune_rows())
    conn.close()


class _UpstreamStub(BaseHTTPRequestHandler):
    """GET /delay?ms=M -> {"delayed_ms": M}; /notjson/delay -> 200 that is not JSON; anything
    else -> 500 text (a broken upstream)."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/notjson/delay":
            self._send(200, b"not json", "application/json")
            return
        if url.path != "/delay":
            self._send(500, b"boom", "text/plain")
            return
        ms = int(parse_qs(url.query).get("ms", ["0"])[0])
        self._send(200, json.dumps({"delayed_ms": ms}).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def upstream_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UpstreamStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "template.sqlite3"
    seed_sqlite(path)
    return path


@pytest.fixture()
def sqlite_path(tmp_path: Path, seeded_template: Path) -> Path:
    """A fresh copy of the seeded database for every test."""
    path = tmp_path / "twinbench.sqlite3"
    shutil.copyfile(seeded_template, path)
    return path


@pytest.fixture()
def config(sqlite_path: Path, upstream_url: str) -> AppConfig:
    return AppConfig(
        database=parse_database_url(f"sqlite:///{sqlite_path}"),
        upstream_url=upstream_url,
        pool_size=2,
    )


@pytest.fixture()
def app(config: AppConfig) -> Iterator[Flask]:
    app = create_app(config)
    yield app
    services_of(app).close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["twinbench"]
    return found


@pytest.fixture()
def services(app: Flask) -> Services:
    return services_of(app)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A freshly created and seeded scratch database, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"flask_scratch_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    admin.execute(f"CREATE DATABASE {name}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in ddl(DatabaseKind.POSTGRES):
                conn.execute(statement)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO world (id, randomnumber) VALUES (%s, %s)", world_rows()
                )
                cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", fortune_rows())
        yield url
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
