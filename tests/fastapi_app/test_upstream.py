"""fetch_delay: the URL it calls and every way the upstream can fail (→ UpstreamError)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apps.fastapi_app.upstream import LIMITS, TIMEOUT, UpstreamError, create_client, fetch_delay


def _client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.anyio
async def test_calls_delay_and_returns_its_json() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"delay_ms": 12, "nested": [1, {"a": None}]})

    async with _client(handler) as client:
        body = await fetch_delay(client, "http://up:8100", 12)
    assert body == {"delay_ms": 12, "nested": [1, {"a": None}]}
    assert [str(url) for url in seen] == ["http://up:8100/delay?ms=12"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json={"error": "x"}),
        httpx.Response(404),
        httpx.Response(200, content=b"not json"),
    ],
)
async def test_bad_responses_raise(response: httpx.Response) -> None:
    async with _client(lambda request: response) as client:
        with pytest.raises(UpstreamError):
            await fetch_delay(client, "http://up", 0)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("x")],
)
async def test_transport_errors_raise(error: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    async with _client(handler) as client:
        with pytest.raises(UpstreamError):
            await fetch_delay(client, "http://up", 0)


@pytest.mark.anyio
async def test_client_is_sized_for_concurrency() -> None:
    assert LIMITS.max_connections is not None and LIMITS.max_connections >= 1000
    assert TIMEOUT.read is not None and TIMEOUT.read > 10  # the upstream may delay 10 s
    async with create_client() as client:
        assert not client.is_closed
