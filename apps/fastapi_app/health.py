"""GET /health: ready once the pool answers a query and the upstream client is open."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from twinbench.apps.common.errors import ErrorCode

from .errors import error_response
from .resources import ResourcesDep
from .routes import GET

router = APIRouter()

# A health probe must answer even when the pool is exhausted or the database hangs.
PING_TIMEOUT_S = 5.0


@router.api_route("/health", methods=GET)
async def health(resources: ResourcesDep) -> JSONResponse:
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            await resources.db.ping()
    except Exception:
        return error_response(ErrorCode.NOT_READY)
    if resources.http.closed:
        return error_response(ErrorCode.NOT_READY)
    return JSONResponse({"status": "ok"})
