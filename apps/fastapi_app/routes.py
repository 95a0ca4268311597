"""How the modules declare their path operations, and the method list they share.

**Flat routes, not APIRouter + include_router.** Since FastAPI 0.137, `include_router` is
lazy: the app keeps an `_IncludedRouter` node and resolves the included routes on every
request (matched once to choose the router, then again inside it). apps/CONTRACT.md
("Routing") has the measured cost. So each module records its
operations in a `RouteTable`, and `create_app` adds them to the app with FastAPI's public
`app.add_api_route` / `app.add_api_websocket_route`: the routes are exactly those that
`@app.get(...)` would make (same dependencies, response models, status codes, OpenAPI), in
one flat list, as TechEmpower's FastAPI entry has them.

**HEAD.** FastAPI, unlike Starlette's `Route` and Flask, does not answer HEAD for a GET
route (405). The contract wants HEAD wherever GET works, so every read route lists both;
uvicorn drops the body of a HEAD response. Listing the method costs nothing per GET (a set
lookup).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI

GET = ["GET", "HEAD"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Operation:
    path: str
    endpoint: Callable[..., Any]
    options: dict[str, Any]
    websocket: bool = False


@dataclass
class RouteTable:
    """The path operations of one module, added flat to an app by `add_to`."""

    prefix: str = ""
    _operations: list[_Operation] = field(default_factory=list)

    def api_route(self, path: str, *, methods: list[str], **options: Any) -> Callable[[F], F]:
        """Like `APIRouter.api_route`: any keyword `FastAPI.add_api_route` takes."""

        def record(endpoint: F) -> F:
            self._operations.append(
                _Operation(self.prefix + path, endpoint, {"methods": methods, **options})
            )
            return endpoint

        return record

    def websocket(self, path: str) -> Callable[[F], F]:
        def record(endpoint: F) -> F:
            self._operations.append(_Operation(self.prefix + path, endpoint, {}, websocket=True))
            return endpoint

        return record

    @property
    def paths(self) -> list[str]:
        return [op.path for op in self._operations]

    def add_to(self, app: FastAPI) -> None:
        for op in self._operations:
            if op.websocket:
                app.add_api_websocket_route(op.path, op.endpoint)
            else:
                app.add_api_route(op.path, op.endpoint, **op.options)
