"""GET /health: ready once the pool answers a query and the upstream client is open."""

from __future__ import annotations

import asyncio

from typing_extensions import TypedDict

from twinbench.apps.common.errors import ErrorCode

from .errors import ApiError
from .resources import ResourcesDep
from .routes import GET, RouteTable

routes = RouteTable()

# A health probe must answer even when the pool is exhausted or the database hangs.
PING_TIMEOUT_S = 5.0


class Status(TypedDict):
    status: str


@routes.api_route("/health", methods=GET)
async def health(resources: ResourcesDep) -> Status:
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            await resources.db.ping()
    except Exception:
        raise ApiError(ErrorCode.NOT_READY) from None
    if resources.http.closed:
        raise ApiError(ErrorCode.NOT_READY)
    return {"status": "ok"}
