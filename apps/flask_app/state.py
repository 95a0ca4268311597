"""Per-process resources created by `create_app` and reached from views via `services()`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from .broadcast import Hub
from .db import Storage, World
from .upstream import UpstreamClient

_KEY = "twinbench"


@dataclass(frozen=True)
class Services:
    storage: Storage
    upstream: UpstreamClient
    world_cache: dict[int, World]  # every World row, loaded once at start-up (/cached-queries)
    hub: Hub  # the /ws/broadcast audience of this worker process

    def close(self) -> None:
        self.upstream.close()
        self.storage.close()


def install(app: Flask, services: Services) -> None:
    app.extensions[_KEY] = services


def services() -> Services:
    found: Services = current_app.extensions[_KEY]
    return found
