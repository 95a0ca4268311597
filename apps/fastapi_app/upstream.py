"""The mock-upstream call of GET /api/upstream, on one shared aiohttp.ClientSession.

Why aiohttp and not httpx.AsyncClient: httpcore's connection pool rescans every connection
for every queued request (O(connections × requests), encode/httpcore#1035), so with a few
hundred upstream calls in flight the pool's bookkeeping, not the framework, ate the CPU:
measured here at 256 concurrent waits, 24 ms of CPU per request and 41 requests/s on one core.
aiohttp is what FastAPI services that fan out to slow APIs run in production; its connector
hands out keep-alive connections in O(1).
"""

from __future__ import annotations

from typing import Any

import aiohttp

# The upstream delays at most 10 s (UpstreamParams.ms ≤ 10000); 15 s leaves headroom.
TIMEOUT = aiohttp.ClientTimeout(total=15.0)
# No connector-level cap: the server's own concurrency bounds the calls in flight, and a
# second, smaller limit would only queue them. Idle connections are kept for reuse.
CONNECTION_LIMIT = 0
KEEPALIVE_S = 30.0


class UpstreamError(Exception):
    """The upstream failed, timed out or answered with something other than 2xx JSON."""


def create_client() -> aiohttp.ClientSession:
    """One session per worker process, opened in the lifespan (an async context manager)."""
    connector = aiohttp.TCPConnector(limit=CONNECTION_LIMIT, keepalive_timeout=KEEPALIVE_S)
    return aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)


async def fetch_delay(client: aiohttp.ClientSession, base_url: str, ms: int) -> Any:
    """GET {base_url}/delay?ms=M and return its decoded JSON body."""
    try:
        async with client.get(f"{base_url}/delay", params={"ms": ms}) as response:
            if not 200 <= response.status < 300:
                raise UpstreamError(f"GET /delay?ms={ms}: status {response.status}")
            # content_type=None: decode whatever it is labelled; not JSON → ValueError
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise UpstreamError(f"GET /delay?ms={ms} failed: {exc!r}") from exc
