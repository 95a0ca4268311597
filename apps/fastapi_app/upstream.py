"""The mock-upstream call of GET /api/upstream, on one shared httpx.AsyncClient."""

from __future__ import annotations

from typing import Any

import httpx

# Sized for the benchmark's high-concurrency scenarios: every in-flight request may hold one
# upstream connection, and keeping them alive avoids a TCP handshake per call.
LIMITS = httpx.Limits(max_connections=2048, max_keepalive_connections=2048)
# The upstream delays at most 10 s (UpstreamParams.ms ≤ 10000); 15 s leaves headroom.
TIMEOUT = httpx.Timeout(15.0)


class UpstreamError(Exception):
    """The upstream failed, timed out or answered with something other than 2xx JSON."""


def create_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(limits=LIMITS, timeout=TIMEOUT)


async def fetch_delay(client: httpx.AsyncClient, base_url: str, ms: int) -> Any:
    """GET {base_url}/delay?ms=M and return its decoded JSON body."""
    try:
        response = await client.get(f"{base_url}/delay", params={"ms": ms})
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: the body is not JSON
        raise UpstreamError(str(exc)) from exc
