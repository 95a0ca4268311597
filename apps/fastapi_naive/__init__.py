"""The naive migration: the Flask twin ported to FastAPI line by line. Anti-patterns, kept
to be measured (the registry marks their targets with `antipattern`; no profile runs them
by default).

Two ports of the same handlers (`handlers.py`, plain functions over the Flask twin's own
synchronous storage and urllib3 upstream client):

- `create_blocking_app`: every endpoint is `async def` and makes the blocking calls
  inside it (sqlite3/psycopg, urllib3): what a port that only adds `async` looks like.
  Each call stalls the event loop, so a worker serves one request at a time, and a slow
  upstream call stalls every other connection of the worker.
- `create_sync_app`: every endpoint is a plain `def`, which FastAPI runs in Starlette's
  thread pool (anyio's default: 40 threads): the "safe" port. It works, but every request
  pays a hop to a thread and back, and at most 40 run at once per worker.

Both serve the request/response part of the contract (TechEmpower endpoints, the JSON API,
the upstream and CPU calls, /health) with the twins' models, error bodies and body limit;
SSE and WebSocket were not ported (the registry says so; a handshake gets the contract's
501). Run with `uvicorn --factory twinbench.apps.fastapi_naive:create_blocking_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from twinbench.apps.common.settings import AppConfig

from .app import build_app

__all__ = ["create_blocking_app", "create_sync_app"]


def create_blocking_app(config: AppConfig | None = None) -> FastAPI:
    return build_app(AppConfig.from_env() if config is None else config, blocking_calls=True)


def create_sync_app(config: AppConfig | None = None) -> FastAPI:
    return build_app(AppConfig.from_env() if config is None else config, blocking_calls=False)
