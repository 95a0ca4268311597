"""fetch_delay: the URL it calls and every way the upstream can fail (→ UpstreamError).

The upstream here is a real aiohttp server on a loopback port (aiohttp's TestServer), so the
client under test is exercised end to end, sockets included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from twinbench.apps.fastapi_app.upstream import TIMEOUT, UpstreamError, create_client, fetch_delay

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"  # aiohttp runs on asyncio only


async def _serve(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/delay", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _call(handler: Handler, ms: int = 0) -> Any:
    async for base in _serve(handler):
        async with create_client() as client:
            return await fetch_delay(client, base, ms)


@pytest.mark.anyio
async def test_calls_delay_and_returns_its_json() -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(str(request.rel_url))
        return web.json_response({"delay_ms": 12, "nested": [1, {"a": None}]})

    assert await _call(handler, 12) == {"delay_ms": 12, "nested": [1, {"a": None}]}
    assert seen == ["/delay?ms=12"]


async def _status_500(request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": "x"}, status=500)


async def _status_404(request: web.Request) -> web.StreamResponse:
    return web.Response(status=404)


async def _not_json(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"not json", content_type="application/json")


async def _hang_up(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()  # the connection drops without an answer
    await asyncio.sleep(1)
    return web.Response()


@pytest.mark.anyio
@pytest.mark.parametrize("handler", [_status_500, _status_404, _not_json, _hang_up])
async def test_bad_answers_raise(handler: Handler) -> None:
    with pytest.raises(UpstreamError):
        await _call(handler)


@pytest.mark.anyio
async def test_connection_refused_raises() -> None:
    async for base in _serve(_status_404):
        dead = base  # the server is closed once the loop ends
    async with create_client() as client:
        with pytest.raises(UpstreamError):
            await fetch_delay(client, dead, 0)


@pytest.mark.anyio
async def test_client_waits_long_enough_and_has_no_connection_cap() -> None:
    assert TIMEOUT.total is not None and TIMEOUT.total > 10  # the upstream may delay 10 s
    async with create_client() as client:
        assert not client.closed
        assert isinstance(client.connector, aiohttp.TCPConnector)
        assert client.connector.limit == 0  # the server's concurrency is the only bound
    assert client.closed
