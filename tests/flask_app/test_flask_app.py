"""create_app: configuration, per-process resources, routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from twinbench.apps.common.errors import MAX_BODY_BYTES
from twinbench.apps.common.settings import AppConfig, parse_database_url
from twinbench.apps.flask_app import create_app
from twinbench.apps.flask_app.state import Services


def test_config_and_routes(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == MAX_BODY_BYTES
    assert app.config["PROVIDE_AUTOMATIC_OPTIONS"] is False
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path in (
        "/json",
        "/plaintext",
        "/db",
        "/queries",
        "/updates",
        "/fortunes",
        "/cached-queries",
        "/api/items",
        "/api/items/<item_id:item_id>",
        "/api/upstream",
        "/api/cpu",
        "/sse/stream",
        "/ws/echo",
        "/ws/broadcast",
        "/health",
    ):
        assert path in rules, path
        assert "OPTIONS" not in (rules[path].methods or set()), path
    assert rules["/ws/echo"].websocket is True


def test_world_cache_loaded_at_startup(services: Services) -> None:
    assert len(services.world_cache) == 10_000
    assert services.world_cache[1] == services.storage.world(1)


def test_from_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_path: Path, upstream_url: str
) -> None:
    monkeypatch.setenv("TWINBENCH_DATABASE_URL", f"sqlite:///{sqlite_path}")
    monkeypatch.setenv("TWINBENCH_UPSTREAM_URL", upstream_url + "/")
    monkeypatch.setenv("TWINBENCH_DB_POOL_SIZE", "3")
    app = create_app()
    services: Services = app.extensions["twinbench"]
    try:
        assert app.test_client().get("/api/upstream?ms=5").get_json() == {"delayed_ms": 5}
    finally:
        services.close()


def test_unseeded_database_fails_at_startup(tmp_path: Path, upstream_url: str) -> None:
    config = AppConfig(parse_database_url(f"sqlite:///{tmp_path / 'empty.db'}"), upstream_url, 1)
    with pytest.raises(Exception, match="no such table: world"):
        create_app(config)
