"""Registers the ported handlers on a FastAPI app: wrapped in `async def` (blocking) or
as plain `def` (run in the thread pool)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, status

from twinbench.apps.common.settings import AppConfig
from twinbench.apps.fastapi_app.api import JsonBody
from twinbench.apps.fastapi_app.errors import install_error_handlers
from twinbench.apps.fastapi_app.middleware import BodyLimitMiddleware
from twinbench.apps.fastapi_app.routes import GET

from . import handlers as h

ITEM = "/api/items/{item_id:item_id}"
# (path, handler, add_api_route options): the contract's request/response endpoints.
ROUTES: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    ("/json", h.json_hello, {"methods": GET}),
    ("/plaintext", h.plaintext, {"methods": GET}),
    ("/db", h.single_query, {"methods": GET}),
    ("/queries", h.multiple_queries, {"methods": GET}),
    ("/updates", h.updates, {"methods": GET}),
    ("/fortunes", h.fortunes, {"methods": GET}),
    ("/cached-queries", h.cached_queries, {"methods": GET}),
    (
        "/api/items",
        h.create_item,
        {"methods": ["POST"], "status_code": status.HTTP_201_CREATED, "dependencies": JsonBody},
    ),
    ("/api/items", h.list_items, {"methods": GET}),
    (ITEM, h.get_item, {"methods": GET}),
    (ITEM, h.replace_item, {"methods": ["PUT"], "dependencies": JsonBody}),
    (ITEM, h.delete_item, {"methods": ["DELETE"], "status_code": status.HTTP_204_NO_CONTENT}),
    ("/api/upstream", h.upstream, {"methods": GET}),
    ("/api/cpu", h.cpu, {"methods": GET}),
    ("/health", h.health, {"methods": GET}),
]
WEBSOCKET_PATHS = ("/ws/echo", "/ws/broadcast")


def blocking(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`async def` around the synchronous handler: FastAPI calls it on the event loop, so
    every blocking call inside it blocks the loop (the anti-pattern this app measures).
    functools.wraps keeps the handler's signature, so FastAPI sees the same parameters."""

    @functools.wraps(handler)
    async def endpoint(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    return endpoint


def build_app(config: AppConfig, *, blocking_calls: bool) -> FastAPI:
    app = FastAPI(
        title="twinbench naive FastAPI port",
        lifespan=h.lifespan_for(config),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.add_middleware(BodyLimitMiddleware)
    for path, handler, options in ROUTES:
        app.add_api_route(path, blocking(handler) if blocking_calls else handler, **options)
    for path in WEBSOCKET_PATHS:
        app.add_api_websocket_route(path, h.websocket_not_ported)
    install_error_handlers(app)
    return app
