"""The pooled synchronous httpx client that GET /api/upstream calls the mock upstream with."""

from __future__ import annotations

from typing import Any

import httpx

# The upstream may be asked to wait up to 10 s (UpstreamParams.ms <= 10000); allow for that.
TIMEOUT_S = 15.0
# The server already bounds how many requests run at once in a worker (1 for sync, 16 threads
# for gthread/waitress, worker-connections=1000 for gevent), so the client does not add a second,
# smaller limit that requests would queue on. Keep-alive is sized for the largest of those, so
# connections are reused instead of being re-opened under load.
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=1000)


class UpstreamError(Exception):
    """The upstream call failed, timed out, or answered with something other than 2xx JSON."""


class UpstreamClient:
    def __init__(self, base_url: str, timeout: float = TIMEOUT_S) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout, limits=LIMITS)

    def delay(self, ms: int) -> Any:
        """GET /delay?ms=M on the upstream and return its decoded JSON body."""
        try:
            response = self._client.get("/delay", params={"ms": ms})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: the body is not JSON
            raise UpstreamError(f"GET /delay?ms={ms} failed: {exc!r}") from exc

    @property
    def is_open(self) -> bool:
        return not self._client.is_closed

    def close(self) -> None:
        self._client.close()
