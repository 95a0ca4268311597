"""The pooled synchronous client that GET /api/upstream calls the mock upstream with.

urllib3's PoolManager (what `requests` runs on): thread-safe for gthread and waitress,
cooperative under gevent's patched sockets, and its per-host pool hands out keep-alive
connections in O(1). httpx.Client was used before; its pool (httpcore) rescans every
connection per queued request, which at hundreds of concurrent calls (gevent workers) spent
the CPU on bookkeeping (see apps/fastapi_app/upstream.py for the figures).
"""

from __future__ import annotations

from typing import Any

import urllib3

# The upstream may be asked to wait up to 10 s (UpstreamParams.ms <= 10000); allow for that.
TIMEOUT_S = 15.0
# The server already bounds how many requests run at once in a worker (1 for sync, the
# thread count for gthread/waitress, worker-connections=1000 for gevent), so the pool adds no
# second, smaller limit (block=False opens more connections when all are busy); it keeps up
# to the largest of those alive for reuse.
POOL_MAXSIZE = 1000


class UpstreamError(Exception):
    """The upstream call failed, timed out, or answered with something other than 2xx JSON."""


class UpstreamClient:
    def __init__(self, base_url: str, timeout: float = TIMEOUT_S) -> None:
        self._base = base_url.rstrip("/")
        self._pool: urllib3.PoolManager | None = urllib3.PoolManager(
            num_pools=4,
            maxsize=POOL_MAXSIZE,
            block=False,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,  # an upstream failure is reported, not silently retried
        )

    def delay(self, ms: int) -> Any:
        """GET /delay?ms=M on the upstream and return its decoded JSON body."""
        pool = self._pool
        if pool is None:
            raise UpstreamError("the upstream client is closed")
        try:
            response = pool.request("GET", f"{self._base}/delay", fields={"ms": str(ms)})
            if not 200 <= response.status < 300:
                raise UpstreamError(f"GET /delay?ms={ms}: status {response.status}")
            return response.json()
        except (urllib3.exceptions.HTTPError, ValueError) as exc:  # ValueError: not JSON
            raise UpstreamError(f"GET /delay?ms={ms} failed: {exc!r}") from exc

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.clear()
            self._pool = None
